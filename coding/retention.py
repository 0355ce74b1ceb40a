"""Deleting or redacting a transcript, or deleting a project, deletes the export files that
hold the old text (DP1, DP4).

An export file (QDPX, the tidy tables) is a copy of transcripts, quotes and codes as
they were when it was made. When an interview is deleted or its text revised (a
redaction is a revision), every finished export of its project may hold the old text,
so those exports expire at once (their files are deleted when the change commits; the
job rows stay, marked expired). When a project is deleted its export jobs go with it,
and so do their files. A rolled-back change deletes nothing.

``interviews`` cannot call into ``coding`` (it owns neither the jobs nor their files),
so this listens to the deletions; ``CodingConfig.ready`` connects it.
"""

from pathlib import Path

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from interviews.models import Interview, TranscriptRevision

from . import exports
from .models import ExportJob, ExportJobStatus

STOPPED_BY_CHANGE = (
    "Stopped: a transcript in this project was deleted or changed while it ran; start it again."
)
EXPIRED_BY_DELETION = "Expired: a transcript in this project was deleted, so the file was deleted too."
EXPIRED_BY_REVISION = (
    "Expired: a transcript in this project was changed (e.g. redacted), so the file was deleted."
)


def _delete_files_on_commit(paths: list[Path]) -> None:
    def delete():
        for path in paths:
            path.unlink(missing_ok=True)
            path.with_suffix(".part").unlink(missing_ok=True)

    if paths:
        transaction.on_commit(delete)


def _expire_finished_exports(project_id: int, message: str) -> None:
    jobs = ExportJob.objects.filter(project_id=project_id, status=ExportJobStatus.DONE)
    paths = [exports.file_path(job) for job in jobs.only("id", "file_key")]
    jobs.update(status=ExportJobStatus.EXPIRED, message=message)
    _delete_files_on_commit(paths)
    # A job still running may already have read the old text: it fails, and the task deletes
    # the file it was writing when it finds its job no longer running (exports.run_export).
    ExportJob.objects.filter(project_id=project_id, status=ExportJobStatus.RUNNING).update(
        status=ExportJobStatus.FAILED, message=STOPPED_BY_CHANGE, finished_at=timezone.now()
    )


def expire_exports_of_deleted_interview(sender, instance: Interview, **kwargs) -> None:
    _expire_finished_exports(instance.project_id, EXPIRED_BY_DELETION)


def expire_exports_of_revised_interview(
    sender, instance: TranscriptRevision, created: bool, **kwargs
) -> None:
    if created:
        project_id = (
            Interview.objects.filter(pk=instance.interview_id).values_list("project_id", flat=True).first()
        )
        if project_id is not None:
            _expire_finished_exports(project_id, EXPIRED_BY_REVISION)


def delete_file_of_deleted_export(sender, instance: ExportJob, **kwargs) -> None:
    _delete_files_on_commit([exports.file_path(instance)])


def connect() -> None:
    post_delete.connect(
        expire_exports_of_deleted_interview, sender=Interview, dispatch_uid="coding.retention.interview"
    )
    post_delete.connect(
        delete_file_of_deleted_export, sender=ExportJob, dispatch_uid="coding.retention.export"
    )
    post_save.connect(
        expire_exports_of_revised_interview,
        sender=TranscriptRevision,
        dispatch_uid="coding.retention.revision",
    )
