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
table names, counts and digests only, and stays readable; it also records when the backup was
taken (``taken_at``, UTC), which ``prune`` (``manage.py prune_backups``) rotates by.
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
    taken_at = datetime.now(UTC).replace(microsecond=0)
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
    manifest = {**manifest, "encrypted": passphrase is not None, "taken_at": taken_at.isoformat()}
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


# ---------------------------------------------------------------- rotation


@dataclass
class Backup:
    path: Path
    taken_at: datetime | None

    @property
    def companions(self) -> list[Path]:
        return [self.path, _checksum_file(self.path)]


def find_backups(folder: Path) -> list[Backup]:
    """Our backups in ``folder`` (not its subfolders), newest first: a file with a
    ``<file>.checksums.json`` beside it that reads as our manifest. Anything else is not ours."""
    found = []
    for manifest_path in Path(folder).glob("*.checksums.json"):
        path = manifest_path.with_name(manifest_path.name.removesuffix(".checksums.json"))
        if not path.is_file() or path.is_symlink() or manifest_path.is_symlink():
            continue
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(manifest, dict) or not {"vendor", "tables"} <= manifest.keys():
            continue
        try:
            taken_at = datetime.fromisoformat(manifest["taken_at"])
        except (KeyError, TypeError, ValueError):
            taken_at = None
        if taken_at is not None and taken_at.tzinfo is None:
            taken_at = taken_at.replace(tzinfo=UTC)
        found.append(Backup(path, taken_at.astimezone(UTC) if taken_at else None))
    return sorted(found, key=lambda b: (b.taken_at is not None, b.taken_at or datetime.min), reverse=True)


def _periods(now: datetime, keep_daily: int, keep_weekly: int, keep_monthly: int):
    """(how to name a moment's period, the periods kept) per rule, counted back from ``now``:
    days by date, ISO weeks by their Monday, months as YYYY-MM."""
    today = now.date()
    monday = today - timedelta(days=today.weekday())

    def month_back(n: int) -> str:
        index = today.year * 12 + today.month - 1 - n
        return f"{index // 12}-{index % 12 + 1:02d}"

    return [
        (lambda d: f"daily {d.date()}", {f"daily {today - timedelta(days=n)}" for n in range(keep_daily)}),
        (
            lambda d: f"weekly {d.date() - timedelta(days=d.weekday())}",
            {f"weekly {monday - timedelta(weeks=n)}" for n in range(keep_weekly)},
        ),
        (lambda d: f"monthly {d:%Y-%m}", {f"monthly {month_back(n)}" for n in range(keep_monthly)}),
    ]


def prune(
    folder: Path,
    *,
    keep_daily: int,
    keep_weekly: int,
    keep_monthly: int,
    now: datetime | None = None,
    dry_run: bool = False,
) -> list[tuple[Backup, str]]:
    """Rotate the backups in ``folder`` by the time each recorded (UTC): keep the newest backup of
    each of the last ``keep_daily`` days, ``keep_weekly`` ISO weeks and ``keep_monthly`` calendar
    months (today, this week and this month count as the first), remove the rest, each with its
    checksum file. The newest backup is always kept, however old, and a backup with no recorded
    time is left alone. Returns (backup, why kept or "removed") newest first."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    backups = find_backups(folder)
    reasons: dict[Path, list[str]] = {b.path: [] for b in backups}
    dated = [b for b in backups if b.taken_at is not None and b.taken_at <= now]
    for period_of, kept_periods in _periods(now, keep_daily, keep_weekly, keep_monthly):
        seen = set()
        for item in dated:  # newest first: the first of each period is the one kept
            period = period_of(item.taken_at)
            if period in kept_periods and period not in seen:
                seen.add(period)
                reasons[item.path].append(period)
    if backups and backups[0].taken_at is not None:
        reasons[backups[0].path].append("newest")
    decisions = []
    for item in backups:
        if item.taken_at is None:
            decisions.append((item, "kept: no recorded time"))
        elif item.taken_at > now:
            decisions.append((item, "kept: recorded after now"))
        elif reasons[item.path]:
            decisions.append((item, "kept: " + ", ".join(reasons[item.path])))
        else:
            if not dry_run:
                for path in item.companions:
                    path.unlink(missing_ok=True)
            decisions.append((item, "removed"))
    return decisions


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
