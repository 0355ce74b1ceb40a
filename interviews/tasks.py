"""Celery tasks of the interviews app: thin, ids only, the work is in import_services.

``process_import_batch`` is not retried automatically: each file is claimed
with a conditional UPDATE, so a redelivery (acks_late) skips files already
read, and a file that failed once would fail the same way again.
"""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import import_services


def redelivered(task) -> bool:
    """Whether the broker is handing this message out again because the worker that had it died
    before acknowledging it (acks_late with reject_on_worker_lost, or Redis's visibility timeout),
    as opposed to a second message for the same record (the sweep re-sending a queued one)."""
    return bool((task.request.delivery_info or {}).get("redelivered"))


@shared_task(
    bind=True,
    soft_time_limit=600,
    time_limit=import_services.BATCH_TIME_LIMIT,
    acks_late=True,
    reject_on_worker_lost=True,
)
def process_import_batch(self, batch_id: int) -> None:
    try:
        import_services.process_import_batch(batch_id=batch_id, recover=redelivered(self))
    except SoftTimeLimitExceeded:
        import_services.fail_unfinished(batch_id=batch_id)


@shared_task
def sweep_abandoned_imports() -> int:
    """Periodic (beat or cron): re-send batches the broker missed, end batches whose worker and
    message are both gone, expire unconfirmed imports."""
    import_services.requeue_stalled_batches()
    import_services.settle_dead_batches()
    return import_services.sweep_abandoned_imports()
