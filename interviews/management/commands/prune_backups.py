"""``python manage.py prune_backups --folder DIR --keep-daily 7 --keep-weekly 4 --keep-monthly 6``:
rotate the backups ``backup_database`` wrote into DIR (cron, after the nightly backup)."""

from datetime import UTC
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from config.backup import prune


class Command(BaseCommand):
    help = (
        "Keep the newest backup of each of the last N days, weeks and months (by the time recorded in "
        "each backup's .checksums.json, UTC) and remove the others with their checksum files. The newest "
        "backup is always kept; files that are not backups are never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--folder", required=True, type=Path, help="the folder holding the backups")
        parser.add_argument("--keep-daily", type=int, default=7, help="days to keep one backup of (7)")
        parser.add_argument("--keep-weekly", type=int, default=4, help="ISO weeks to keep one backup of (4)")
        parser.add_argument("--keep-monthly", type=int, default=6, help="months to keep one backup of (6)")
        parser.add_argument(
            "--now", default="", help="count back from this ISO date-time (UTC) instead of now"
        )
        parser.add_argument("--dry-run", action="store_true", help="print the decisions, remove nothing")

    def handle(self, *args, folder: Path, keep_daily, keep_weekly, keep_monthly, now, dry_run, **options):
        for name, value in (
            ("--keep-daily", keep_daily),
            ("--keep-weekly", keep_weekly),
            ("--keep-monthly", keep_monthly),
        ):
            if value < 0:
                raise CommandError(f"{name}: give 0 or more.")
        if not folder.is_dir():
            raise CommandError(f"--folder: {folder} is not a folder.")
        moment = None
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError("--now: give an ISO date-time, e.g. 2027-06-01T00:00:00Z.")
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        decisions = prune(
            folder,
            keep_daily=keep_daily,
            keep_weekly=keep_weekly,
            keep_monthly=keep_monthly,
            now=moment,
            dry_run=dry_run,
        )
        removed = 0
        for backup, decision in decisions:
            when = backup.taken_at.isoformat() if backup.taken_at else "unknown time"
            if decision == "removed":
                removed += 1
                decision = "would remove" if dry_run else "removed (with its checksum file)"
            self.stdout.write(f"{backup.path.name} ({when}): {decision}")
        verb = "would remove" if dry_run else "removed"
        self.stdout.write(
            f"{len(decisions)} backup(s) found, {removed} {verb}, {len(decisions) - removed} kept"
        )
