"""Re-queue batches the broker missed; expire unconfirmed imports and delete their staged text (cron)."""

from django.core.management.base import BaseCommand

from interviews.import_services import requeue_stalled_batches, sweep_abandoned_imports


class Command(BaseCommand):
    help = "Expire imports left unconfirmed longer than IMPORT_STAGING_HOURS and delete their staging files."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=None, help="Override IMPORT_STAGING_HOURS.")

    def handle(self, *args, hours=None, **options):
        requeued = requeue_stalled_batches()
        removed = sweep_abandoned_imports(hours=hours)
        self.stdout.write(f"{requeued} batch(es) queued again, {removed} staging file(s) removed")
