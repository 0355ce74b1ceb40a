"""Backup and restore of the whole database (FT5), for ``manage.py backup_database`` and
``manage.py restore_database``. No domain logic: it copies every table as it is.

PostgreSQL: ``pg_dump -Fc`` (compressed custom format) taken in the same snapshot as a checksum of
every table, written beside the dump as ``<file>.checksums.json``; restoring with ``pg_restore``
recomputes the checksums of the restored database and refuses to call it a success unless every
table's row count and checksum match. SQLite: the online backup API (a consistent copy of a live
database), with the same checksums.

A table's checksum is the sum, modulo 2**256, of the sha256 of each row's values: independent of the
order rows come back in, sensitive to any changed, missing or extra row.

The backup file holds every transcript, so it is encrypted with a passphrase (GnuPG, symmetric
AES-256; the passphrase reaches gpg through a pipe, never the command line). The plain dump exists
only in a private temporary folder beside the output while it is encrypted. The checksum file holds
table names, counts and digests only, and stays readable.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.conf import settings


class BackupError(Exception):
    pass


def _row_digest(row) -> int:
    values = [bytes(v) if isinstance(v, memoryview) else v for v in row]
    return int.from_bytes(hashlib.sha256(repr(values).encode()).digest(), "big")


def table_checksums(conn, vendor: str) -> dict[str, dict]:
    """{table: {"rows": n, "checksum": hex}} for every table of a DB-API connection."""
    cursor = conn.cursor()
    if vendor == "postgresql":
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    else:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    tables = [name for (name,) in cursor.fetchall()]
    result = {}
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 (a table name from the catalogue, quoted)
        rows, total = 0, 0
        while batch := cursor.fetchmany(2000):
            for row in batch:
                rows += 1
                total = (total + _row_digest(row)) % (1 << 256)
        result[table] = {"rows": rows, "checksum": f"{total:064x}"}
    return result


def _pg_settings(database_url: str | None) -> dict:
    if database_url:
        import environ

        return environ.Env.db_url_config(database_url)
    return settings.DATABASES["default"]


def _vendor(db: dict) -> str:
    engine = db["ENGINE"]
    if engine.endswith("postgresql"):
        return "postgresql"
    if engine.endswith("sqlite3"):
        return "sqlite"
    raise BackupError(f"backups of {engine} are not supported")


def _pg_conninfo(db: dict) -> str:
    parts = {
        "dbname": db["NAME"],
        "user": db.get("USER") or "",
        "host": db.get("HOST") or "",
        "port": str(db.get("PORT") or ""),
        "password": db.get("PASSWORD") or "",
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v})


def _pg_env(db: dict) -> dict:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]  # never on the command line, where ps would show it
    return env


def _pg_args(db: dict) -> list[str]:
    args = []
    if db.get("HOST"):
        args += ["-h", db["HOST"]]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    return args


def _tool(name: str, package: str = "postgresql-client") -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian: apt-get install {package})")
    return found


def _gpg(passphrase: str, *args: str) -> None:
    """Run gpg in batch mode with its own empty keyring, the passphrase given through a pipe."""
    gpg = _tool("gpg", "gnupg")
    read_end, write_end = os.pipe()
    os.write(write_end, passphrase.encode())
    os.close(write_end)
    try:
        with tempfile.TemporaryDirectory() as home:
            done = subprocess.run(  # noqa: S603 (a fixed tool, no shell)
                [gpg, "--homedir", home, "--batch", "--yes", "--quiet", "--pinentry-mode", "loopback"]
                + ["--passphrase-fd", str(read_end), *args],
                pass_fds=(read_end,),
                capture_output=True,
                text=True,
            )
    finally:
        os.close(read_end)
    if done.returncode:
        raise BackupError(f"gpg failed: {done.stderr.strip() or 'wrong passphrase?'}")


@contextmanager
def _private_folder(beside: Path):
    """A temporary folder only its owner can enter, on the same file system as ``beside``."""
    with tempfile.TemporaryDirectory(dir=beside.parent, prefix=".backup-") as folder:
        os.chmod(folder, 0o700)
        yield Path(folder)


def _checksum_file(path: Path) -> Path:
    return path.with_name(path.name + ".checksums.json")


def backup(output: Path, *, passphrase: str | None) -> dict:
    """Write a backup of the default database to ``output``, encrypted with ``passphrase``
    (None: not encrypted, on the operator's explicit choice), and its checksums beside it."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if passphrase is None:
        manifest = _backup_plain(output)
    else:
        with _private_folder(output) as folder:
            manifest = _backup_plain(folder / "plain")
            _gpg(
                passphrase,
                "--symmetric",
                "--cipher-algo",
                "AES256",
                "--output",
                str(output),
                str(folder / "plain"),
            )
    output.chmod(0o600)
    manifest = {**manifest, "encrypted": passphrase is not None}
    _checksum_file(output).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    _checksum_file(output).chmod(0o600)
    return manifest


def _backup_plain(output: Path) -> dict:
    db = _pg_settings(None)
    vendor = _vendor(db)
    if vendor == "postgresql":
        pg_dump = _tool("pg_dump")
        with psycopg.connect(_pg_conninfo(db)) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            # pg_dump reads the very snapshot the checksums are computed in.
            done = subprocess.run(  # noqa: S603 (a fixed tool; values from settings, no shell)
                [
                    pg_dump,
                    *_pg_args(db),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={output}",
                    db["NAME"],
                ],
                env=_pg_env(db),
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
            checksums = table_checksums(conn, vendor)
    else:
        source = sqlite3.connect(db["NAME"])
        target = sqlite3.connect(output)
        try:
            source.backup(target)
            checksums = table_checksums(target, vendor)
        finally:
            target.close()
            source.close()
    return {"vendor": vendor, "tables": checksums}


_PLAIN_MAGIC = (b"PGDMP", b"SQLite format 3")


def restore(
    source: Path, *, passphrase: str | None, database_url: str | None = None, replace: bool = False
) -> dict:
    """Restore ``source`` into the default database (or ``database_url``) and verify it against the
    checksums written with the backup. Refuses a database that already has tables unless ``replace``.
    An encrypted backup needs the ``passphrase`` it was made with."""
    db = _pg_settings(database_url)
    vendor = _vendor(db)
    source = Path(source)
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    manifest_path = _checksum_file(source)
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    if manifest and manifest["vendor"] != vendor:
        raise BackupError(f"this is a {manifest['vendor']} backup; the target database is {vendor}")
    with source.open("rb") as head:
        encrypted = not head.read(16).startswith(_PLAIN_MAGIC)
    if not encrypted:
        return _restore_plain(source, db, vendor, manifest, replace)
    if not passphrase:
        raise BackupError(
            "this backup is encrypted: give the passphrase it was made with (BACKUP_PASSPHRASE)"
        )
    with _private_folder(source) as folder:
        _gpg(passphrase, "--decrypt", "--output", str(folder / "plain"), str(source))
        return _restore_plain(folder / "plain", db, vendor, manifest, replace)


def _restore_plain(source: Path, db: dict, vendor: str, manifest: dict | None, replace: bool) -> dict:
    if vendor == "postgresql":
        conninfo = _pg_conninfo(db)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            has_tables = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone()[0]
        if has_tables and not replace:
            raise BackupError(
                f"database {db['NAME']} already has tables; restore with --replace to overwrite it"
            )
        command = [_tool("pg_restore"), *_pg_args(db), "--no-owner", "--no-privileges", "--exit-on-error"]
        command += ["--single-transaction", f"--dbname={db['NAME']}"]
        if has_tables:
            command += ["--clean", "--if-exists"]
        done = subprocess.run(  # noqa: S603 (a fixed tool; values from settings, no shell)
            [*command, str(source)], env=_pg_env(db), capture_output=True, text=True
        )
        if done.returncode:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
        with psycopg.connect(conninfo) as conn:
            restored = table_checksums(conn, vendor)
    else:
        target_path = Path(db["NAME"])
        if target_path.exists() and target_path.stat().st_size and not replace:
            raise BackupError(f"{target_path} already exists; restore with --replace to overwrite it")
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            backup_db.backup(target)
            restored = table_checksums(target, vendor)
        finally:
            target.close()
            backup_db.close()
    if manifest is not None:
        differing = sorted(
            table
            for table in set(manifest["tables"]) | set(restored)
            if manifest["tables"].get(table) != restored.get(table)
        )
        if differing:
            raise BackupError(f"restored tables differ from the backup: {', '.join(differing)}")
    return {"vendor": vendor, "tables": restored, "verified": manifest is not None}
