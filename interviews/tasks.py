"""Celery tasks of the interviews app: thin, ids only, the work is in import_services.

``process_import_batch`` is not retried automatically: each file is claimed
with a conditional UPDATE, so a redelivery (acks_late) skips files already
read, and a file that failed once would fail the same way again.
"""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import import_services


@shared_task(soft_time_limit=600, time_limit=660, acks_late=True)
def process_import_batch(batch_id: int) -> None:
    try:
        import_services.process_import_batch(batch_id=batch_id)
    except SoftTimeLimitExceeded:
        import_services.fail_unfinished(batch_id=batch_id)


@shared_task
def sweep_abandoned_imports() -> int:
    """Periodic (beat or cron): re-send batches the broker missed, expire unconfirmed imports."""
    import_services.requeue_stalled_batches()
    return import_services.sweep_abandoned_imports()
