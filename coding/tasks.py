"""Celery tasks of the coding app: thin, ids only, the work is in ``coding.exports``.

``run_export`` is not retried automatically: the job is claimed with a
conditional UPDATE, so a second message for the same job does nothing, and an
export that failed once would fail the same way again (the user can start a
new one). When the worker running it dies (SIGKILL, out of memory), the broker
hands the message out again (acks_late, reject_on_worker_lost); that
redelivery ends the job as failed at once rather than leaving it 'running'.
"""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from interviews.tasks import redelivered

from . import exports


@shared_task(
    bind=True,
    soft_time_limit=1200,
    time_limit=exports.TASK_TIME_LIMIT,
    acks_late=True,
    reject_on_worker_lost=True,
)
def run_export(self, job_id: int) -> None:
    try:
        exports.run_export(job_id=job_id, redelivered=redelivered(self))
    except SoftTimeLimitExceeded:
        exports.fail_export(
            job_id=job_id, message="The export took longer than the time limit and was stopped."
        )


@shared_task
def sweep_exports() -> int:
    """Periodic (beat or cron): delete old export files, settle stuck jobs, re-send queued ones."""
    return exports.sweep_exports()
