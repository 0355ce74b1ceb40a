"""``python manage.py purge_refused_access --older-than-days N``: the refused-attempts log's
retention purge (cron, e.g. daily). The only way rows leave that table on PostgreSQL."""

from django.core.management.base import BaseCommand, CommandError

from interviews.audit import purge_refused_attempts

DEFAULT_DAYS = 180


class Command(BaseCommand):
    help = f"Delete refused attempts older than N days (default {DEFAULT_DAYS}; at least 1)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, default=DEFAULT_DAYS, help="Keep this many days.")

    def handle(self, *args, older_than_days: int, **options):
        if older_than_days < 1:
            raise CommandError("--older-than-days: keep refused attempts for at least 1 day.")
        deleted = purge_refused_attempts(older_than_days=older_than_days)
        self.stdout.write(f"{deleted} refused attempt(s) older than {older_than_days} days deleted")
