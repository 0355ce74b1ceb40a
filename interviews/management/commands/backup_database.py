"""``python manage.py backup_database --output FILE``: a consistent backup of the whole database."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the whole database to FILE (PostgreSQL: pg_dump custom format; SQLite: a copy made with "
        "the online backup API), with per-table row counts and checksums in FILE.checksums.json. "
        "The file holds every transcript, so it is encrypted with BACKUP_PASSPHRASE (GnuPG, AES-256)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path, help="the backup file to write")
        parser.add_argument(
            "--unencrypted",
            action="store_true",
            help="write the dump unencrypted (only onto storage that is itself encrypted)",
        )

    def handle(self, *args, output: Path, unencrypted=False, **options):
        if not unencrypted and not settings.BACKUP_PASSPHRASE:
            raise CommandError(
                "Set BACKUP_PASSPHRASE to encrypt the backup "
                "(or give --unencrypted to write it in the clear)."
            )
        try:
            manifest = backup(output, passphrase=None if unencrypted else settings.BACKUP_PASSPHRASE)
        except BackupError as error:
            raise CommandError(str(error))
        rows = sum(table["rows"] for table in manifest["tables"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {len(manifest['tables'])} tables ({rows} rows) to {output}"
                + (", encrypted." if manifest["encrypted"] else ", not encrypted.")
            )
        )
