"""``python manage.py backup_database --output FILE``: a consistent backup of the whole database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the whole database to FILE (PostgreSQL: pg_dump custom format; SQLite: a copy made with "
        "the online backup API), with per-table row counts and checksums in FILE.checksums.json. "
        "The file holds every transcript: keep it encrypted and access-controlled."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path, help="the backup file to write")

    def handle(self, *args, output: Path, **options):
        try:
            manifest = backup(output)
        except BackupError as error:
            raise CommandError(str(error))
        rows = sum(table["rows"] for table in manifest["tables"].values())
        self.stdout.write(
            self.style.SUCCESS(f"Backed up {len(manifest['tables'])} tables ({rows} rows) to {output}.")
        )
