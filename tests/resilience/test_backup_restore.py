"""FT5: the backup and restore drill. A seeded database is backed up with
``manage.py backup_database``, restored into a fresh database with ``manage.py restore_database``,
and the restored one has the same tables, row counts and row checksums, no unapplied migration,
and serves the app (the API tokens in it still work)."""

import shutil
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from config.backup import find_backups, table_checksums

from .live import Gunicorn, PrivatePostgres, manage, request, seed


@pytest.fixture(scope="module")
def private_postgres():
    from .live import postgres_available

    if not postgres_available():
        pytest.skip("PostgreSQL server binaries are not installed")
    with PrivatePostgres() as pg:
        yield pg


def checksums(url: str) -> dict:
    if url.startswith("postgres"):
        with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
            return table_checksums(conn, "postgresql")
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return table_checksums(conn, "sqlite")
    finally:
        conn.close()


PASSPHRASE = "drill passphrase, long enough"


def transcript_sample(url: str) -> str:
    """Two dozen characters from the middle of a stored transcript."""
    sql = "SELECT text FROM interviews_interview ORDER BY id LIMIT 1"
    if url.startswith("postgres"):
        with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
            text = conn.execute(sql).fetchone()[0]
    else:
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            text = conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    middle = len(text) // 2
    return text[middle : middle + 24]


def databases(vendor, pg, tmp_path) -> tuple[str, str]:
    if vendor == "postgresql":
        return pg.create_database("ft5_source"), pg.create_database("ft5_fresh")
    return f"sqlite:///{tmp_path / 'source.sqlite3'}", f"sqlite:///{tmp_path / 'fresh.sqlite3'}"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_a_backup_restores_into_a_fresh_database_identical_table_by_table(vendor, private_postgres, tmp_path):
    source, fresh = databases(vendor, private_postgres, tmp_path)
    info = seed(source, coders=2, interviews=3, codings=400)
    backup_file = tmp_path / "backup.dump"

    with pytest.raises(RuntimeError, match="Set BACKUP_PASSPHRASE"):
        manage(source, "backup_database", "--output", str(backup_file))
    out = manage(source, "backup_database", "--output", str(backup_file), BACKUP_PASSPHRASE=PASSPHRASE)
    assert "encrypted." in out
    assert backup_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    # Encrypted: neither a transcript nor the schema can be read from the file.
    dump = backup_file.read_bytes()
    assert transcript_sample(source).encode() not in dump
    assert b"coding_coding" not in dump and b"interviews_interview" not in dump
    assert not list(tmp_path.glob(".backup-*"))  # the plain dump did not outlive the encryption
    # The checksum file records when it was taken: the rotation (prune_backups) goes by it.
    (found,) = find_backups(tmp_path)
    assert found.path == backup_file and abs(found.taken_at - datetime.now(UTC)) < timedelta(minutes=10)

    with pytest.raises(RuntimeError, match="gpg failed"):
        manage(fresh, "restore_database", str(backup_file), BACKUP_PASSPHRASE="not the passphrase")
    started = time.monotonic()
    out = manage(
        source, "restore_database", str(backup_file), "--database-url", fresh, BACKUP_PASSPHRASE=PASSPHRASE
    )
    restore_seconds = time.monotonic() - started
    assert "checksums match the backup" in out

    before, after = checksums(source), checksums(fresh)
    assert after == before
    assert after["coding_coding"]["rows"] >= 400
    assert after["interviews_interview"]["rows"] == 4  # three in the project, one in another team's
    assert after["authtoken_token"]["rows"] == 6

    # No migration is missing, and the app serves the restored data with the restored tokens.
    manage(fresh, "migrate", "--check")
    with Gunicorn(fresh, workers=1, threads=2) as server:
        status, _, body = request(
            "GET", f"{server.url}/api/projects/{info['project']}/codings/", token=info["tokens"]["owner"]
        )
    assert status == 200
    assert body["count"] == after["coding_coding"]["rows"]  # all codings are project A's
    print(f"\nFT5 ({vendor}): restored {len(after)} tables in {restore_seconds:.1f} s")


@pytest.fixture(scope="module")
def sqlite_backup(tmp_path_factory):
    """A small seeded SQLite database and its backup, for the refusals below."""
    folder = tmp_path_factory.mktemp("ft5")
    source = f"sqlite:///{folder / 'source.sqlite3'}"
    seed(source, coders=1, interviews=1, codings=10)
    backup_file = folder / "backup.sqlite3"
    out = manage(source, "backup_database", "--output", str(backup_file), "--unencrypted")
    assert "not encrypted." in out
    assert transcript_sample(source).encode() in backup_file.read_bytes()  # the canary check can fail
    return source, backup_file


@pytest.mark.timeout(300)
def test_restore_refuses_a_database_that_already_has_tables(sqlite_backup):
    source, backup_file = sqlite_backup
    with pytest.raises(RuntimeError, match="already exists; restore with --replace"):
        manage(source, "restore_database", str(backup_file))


@pytest.mark.timeout(300)
def test_restore_reports_a_backup_that_does_not_match_its_checksums(sqlite_backup, tmp_path):
    _, backup_file = sqlite_backup
    tampered_file = tmp_path / "tampered.sqlite3"
    shutil.copy(backup_file, tampered_file)
    shutil.copy(f"{backup_file}.checksums.json", f"{tampered_file}.checksums.json")
    tampered = sqlite3.connect(tampered_file)
    tampered.execute("UPDATE coding_coding SET comment = 'changed after the backup' WHERE id = 1")
    tampered.commit()
    tampered.close()
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    with pytest.raises(RuntimeError, match="restored tables differ from the backup: coding_coding"):
        manage(fresh, "restore_database", str(tampered_file))
