"""Exports built in the background: a job row, a Celery task, a private file, a sweep.

How a large export travels:

1. ``start_export`` (in the request): writes an ``ExportJob`` row (queued) and
   queues ``coding.tasks.run_export`` with the job id when the transaction
   commits, so a rolled-back request queues nothing and the task never sees a
   row that is not there yet.
2. ``run_export`` (the task): claims the job with a conditional UPDATE
   (queued → running); a duplicate delivery finds nothing to claim and does
   nothing. It builds the export with the same functions as the direct
   downloads (``refi.export``, ``tabular``), writes the progress (0–100) as it
   goes (per transcript for QDPX, per block of rows for the tables), stores
   the file as ``EXPORT_DIR/<file_key>.export`` (mode 0600, a server-made
   uuid) and marks the job done, or failed with a message a researcher
   understands.
3. The download endpoint serves the file to members who are supervisors or
   owners *at download time*.
4. ``sweep_exports`` (beat, every 15 minutes) deletes files older than
   ``EXPORT_KEEP_HOURS`` (the job becomes ``expired``), files no job owns, jobs
   stuck running past the task's time limit (a worker that died), and re-sends
   jobs still queued after a few minutes (the broker was down).

Nothing of the exported content goes to the logs or the task arguments.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.celery import queue_after_commit, queue_now
from interviews import audit
from interviews.models import Project

from . import tabular
from .models import ExportJob, ExportJobStatus, ExportKind
from .refi import export

logger = logging.getLogger(__name__)

MAX_UNFINISHED_PER_PROJECT = 5
# The task's hard time limit (``coding.tasks``); a job running longer than this died with its worker.
TASK_TIME_LIMIT = 1260
MEDIA_TYPES = {
    "qdpx": "application/zip",
    "qdc": "application/xml",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
UNFINISHED = (ExportJobStatus.QUEUED, ExportJobStatus.RUNNING)
WORKER_DIED = "The export stopped unexpectedly (the worker ended); start it again."


# ---------------------------------------------------------------- files


def export_dir() -> Path:
    path = Path(settings.EXPORT_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def file_path(job: ExportJob) -> Path:
    return export_dir() / f"{job.file_key}.export"


def media_type(kind: str) -> str:
    return MEDIA_TYPES[kind.rsplit(".", 1)[-1]]


def _open_private(path: Path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "wb")


# ---------------------------------------------------------------- starting


def start_export(*, project: Project, by, kind: str) -> ExportJob:
    """Record an export job and queue its task when the transaction commits."""
    if kind not in ExportKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(ExportKind.values)}."})
    if kind == ExportKind.QDC and not project.codes.exists():
        raise ValidationError({"kind": "The codebook is empty; add codes before exporting it."})
    unfinished = ExportJob.objects.filter(project=project, status__in=UNFINISHED).count()
    if unfinished >= MAX_UNFINISHED_PER_PROJECT:
        raise ValidationError(
            {"kind": f"{unfinished} exports of this project are still running; wait for them to finish."}
        )
    job = ExportJob.objects.create(project=project, requested_by=by, kind=kind)
    audit.record_read(
        project=project,
        action="export.started",
        target_type="export",
        target_id=job.pk,
        detail={"kind": kind},
    )
    queue_after_commit("coding.tasks.run_export", job.pk)
    return job


# ---------------------------------------------------------------- running (the task's body)


class _Progress:
    """Writes the job's progress when the whole percentage grows, at most once per ``every``
    seconds: each write is a commit, and a stream of them from a worker slowed the coders'
    own commits (LD1: 70 small exports a minute wrote up to 99 each)."""

    def __init__(self, job_id: int, every: float = 0.5):
        self.job_id = job_id
        self.every = every
        self.last = 0
        self.written_at = -every

    def __call__(self, percent: float) -> None:
        value = max(0, min(99, int(percent)))
        now = time.monotonic()
        if (
            value > self.last
            and now - self.written_at >= self.every
            and ExportJob.objects.filter(pk=self.job_id, status=ExportJobStatus.RUNNING).update(
                progress=value
            )
        ):
            self.last, self.written_at = value, now


def _counted(rows, total: int, progress: _Progress, start: float, span: float):
    for n, row in enumerate(rows, 1):
        if total and n % 200 == 0:
            progress(start + span * n / total)
        yield row


def _table_size(project: Project, table: str) -> int:
    if table == "codings":
        return project.codings.filter(interview__anonymised_at__isnull=False).count()
    if table == "profiles":
        return project.participants.count() * project.codes.filter(is_codable=True).count()
    return project.codes.count()


def _build(job: ExportJob, path: Path, progress: _Progress) -> tuple[str, list[str]]:
    """Write the export to ``path``; return its download name and what it could not carry."""
    project = job.project
    if job.kind == ExportKind.QDPX:
        result = export.export_qdpx(project, progress=lambda done, total: progress(5 + 85 * done / total))
    elif job.kind == ExportKind.QDC:
        result = export.export_qdc(project)
    else:
        table_name, fmt = job.kind.split(".")
        table = tabular.TABLES[table_name](project)
        table.rows = _counted(table.rows, _table_size(project, table_name), progress, 5, 85)
        with _open_private(path) as handle:
            if fmt == "csv":
                for chunk in tabular.csv_chunks(table):
                    handle.write(chunk.encode("utf-8"))
            else:
                handle.write(tabular.xlsx_bytes(table))
        return export._safe_filename(project.name, f"-{table_name}.{fmt}"), []
    progress(92)
    with _open_private(path) as handle:
        handle.write(result.data)
    return result.filename, result.not_carried


def run_export(*, job_id: int, redelivered: bool = False) -> None:
    """Build one export; safe to call twice (only the call that claims the queued job does anything).

    ``redelivered``: the broker re-sent the message because the worker that held it died. A job
    it finds 'running' was that worker's, so it ends as failed (with its half-written file gone)
    instead of waiting for the sweep; it is not run again, since what killed the worker (memory,
    a time limit) would likely kill the next one too.
    """
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJobStatus.QUEUED).update(
        status=ExportJobStatus.RUNNING, started_at=timezone.now(), progress=1
    )
    if not claimed:
        if redelivered:
            job = ExportJob.objects.filter(pk=job_id, status=ExportJobStatus.RUNNING).first()
            if job is not None:
                # The worker may have died after moving the finished file into place but
                # before marking the job done: a failed job keeps no file, whole or half.
                final = file_path(job)
                for path in (final.with_suffix(".part"), final):
                    path.unlink(missing_ok=True)
                fail_export(job_id=job_id, message=WORKER_DIED)
        return
    job = ExportJob.objects.select_related("project").filter(pk=job_id).first()
    if job is None:
        return  # the project was deleted in between
    final = partial = None
    progress = _Progress(job_id)
    try:
        final = file_path(job)
        partial = final.with_suffix(".part")
        filename, not_carried = _build(job, partial, progress)
        os.replace(partial, final)
    except Exception as exc:  # every failure ends the job with a message, never a job left 'running'
        for path in (partial, final):
            if path is not None:
                path.unlink(missing_ok=True)
        fail_export(job_id=job_id, message=_failure_message(exc))
        if not isinstance(exc, ValidationError):
            # The type and the frames only: an exception's message could quote project content.
            logger.error(
                "export job %s failed: %s\n%s",
                job_id,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
        return
    finished = ExportJob.objects.filter(pk=job_id, status=ExportJobStatus.RUNNING).update(
        status=ExportJobStatus.DONE,
        progress=100,
        filename=filename[:120],
        size=final.stat().st_size,
        not_carried=not_carried,
        finished_at=timezone.now(),
    )
    if not finished:
        # The job was failed or deleted while it ran (its project deleted, or a transcript in it
        # deleted or redacted: coding.retention): the file may hold text that is gone.
        final.unlink(missing_ok=True)


def _failure_message(exc: Exception) -> str:
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, ValidationError):
        return "The export could not be made: " + " ".join(exc.messages)
    if isinstance(exc, SoftTimeLimitExceeded):
        return "The export took longer than the time limit and was stopped; ask the administrator."
    if isinstance(exc, OSError):
        return "The export file could not be saved on the server; ask the administrator to check EXPORT_DIR."
    return "The export failed unexpectedly (the error was logged); try again or ask the administrator."


def fail_export(*, job_id: int, message: str) -> None:
    ExportJob.objects.filter(pk=job_id, status__in=UNFINISHED).update(
        status=ExportJobStatus.FAILED, message=message[:500], finished_at=timezone.now()
    )


# ---------------------------------------------------------------- sweeping


def sweep_exports(*, hours: int | None = None, queued_minutes: int = 5) -> int:
    """Delete export files older than ``hours`` and files no job owns; settle stuck jobs.

    Returns the number of files deleted.
    """
    now = timezone.now()
    hours = settings.EXPORT_KEEP_HOURS if hours is None else hours
    old = ExportJob.objects.filter(status=ExportJobStatus.DONE, finished_at__lt=now - timedelta(hours=hours))
    keys = list(old.values_list("file_key", flat=True))
    old.update(status=ExportJobStatus.EXPIRED)
    removed = 0
    for key in keys:
        path = export_dir() / f"{key}.export"
        if path.exists():
            path.unlink(missing_ok=True)
            removed += 1

    stuck = ExportJob.objects.filter(
        status=ExportJobStatus.RUNNING, started_at__lt=now - timedelta(seconds=TASK_TIME_LIMIT + 60)
    )
    for job_id in stuck.values_list("id", flat=True):
        fail_export(job_id=job_id, message=WORKER_DIED)
    for job_id in ExportJob.objects.filter(
        status=ExportJobStatus.QUEUED, created_at__lt=now - timedelta(minutes=queued_minutes)
    ).values_list("id", flat=True):
        queue_now("coding.tasks.run_export", job_id)

    kept = {
        str(k)
        for k in ExportJob.objects.filter(status__in=(ExportJobStatus.DONE, *UNFINISHED)).values_list(
            "file_key", flat=True
        )
    }
    for path in export_dir().iterdir():
        stem = path.name.split(".", 1)[0]
        try:
            uuid.UUID(stem)
        except ValueError:
            continue
        if stem not in kept:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
