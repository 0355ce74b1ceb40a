import importlib
import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

app = Celery("interview_coding")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def queue_now(task_path: str, record_id: int) -> None:
    """Send the task at ``task_path`` for ``record_id``.

    The record (an import batch, an export job) is already durably 'queued' in the database,
    so a broker outage loses nothing: the periodic sweep re-sends what never started. The
    task is named by its import path so callers need not import their tasks module.
    """
    module, name = task_path.rsplit(".", 1)
    try:
        getattr(importlib.import_module(module), name).delay(record_id)
    except Exception as exc:  # kombu/redis raise many kinds of connection errors
        logger.warning("could not queue %s for %s: %s", task_path, record_id, type(exc).__name__)


def queue_after_commit(task_path: str, record_id: int) -> None:
    """``queue_now`` once the current transaction commits (never for a rolled-back record)."""
    from django.db import transaction

    transaction.on_commit(lambda: queue_now(task_path, record_id))
