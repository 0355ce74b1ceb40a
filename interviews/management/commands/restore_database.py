"""``python manage.py restore_database FILE [--database-url URL] [--replace]``."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by backup_database into the configured database (or --database-url), "
        "then compare every table's row count and checksum with the ones recorded at backup time. "
        "A database that already has tables is refused unless --replace is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--database-url", help="restore here instead of DATABASE_URL (e.g. a fresh database)"
        )
        parser.add_argument("--replace", action="store_true", help="overwrite a database that has tables")

    def handle(self, *args, file: Path, database_url=None, replace=False, **options):
        try:
            result = restore(
                file,
                passphrase=settings.BACKUP_PASSPHRASE or None,
                database_url=database_url,
                replace=replace,
            )
        except BackupError as error:
            raise CommandError(str(error))
        rows = sum(table["rows"] for table in result["tables"].values())
        checked = "checksums match the backup" if result["verified"] else "no checksum file to compare with"
        self.stdout.write(
            self.style.SUCCESS(f"Restored {len(result['tables'])} tables ({rows} rows); {checked}.")
        )
