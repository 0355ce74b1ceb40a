"""DP1 and DP4: redacted identifiers and deleted transcripts leave no trace anywhere we store things.

"Anywhere" is every text column of every table (all installed apps), the import
staging folder, the export folder (zip members of QDPX/XLSX files opened and read),
and what tasks were given and returned (the result backend, when there is one, only
ever holds those return values).
"""

import io
import json
import zipfile
from pathlib import Path

import pytest
from celery import signals
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models

from coding import services as coding_services
from coding.models import ExportJob, ExportJobStatus, ExportKind
from interviews.models import Interview, RedactionLog, TranscriptRevision

from .conftest import make_interview
from .factories import versioned

CANARY = "Quennebrook Ysolde-Tarrant"
IDENTIFIERS = ["Ysolde-Tarrant", "+375 29 611 42 87", "ysolde.tarrant@example.net", "A77123456"]
TEXT = (
    "Interviewer: Who met you at the border?\n"
    f"Participant: {CANARY} met us. Her phone is +375 29 611 42 87, mail ysolde.tarrant@example.net.\n"
    "Participant: My passport number was A77123456 and they kept it.\n"
)


@pytest.fixture
def folders(settings, tmp_path):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    settings.EXPORT_DIR = tmp_path / "exports"
    return [settings.IMPORT_STAGING_DIR, settings.EXPORT_DIR]


@pytest.fixture
def task_log():
    calls = []

    def prerun(task=None, args=None, kwargs=None, **_):
        calls.append((getattr(task, "name", ""), args, kwargs))

    def postrun(task=None, retval=None, **_):
        calls.append((getattr(task, "name", ""), retval))

    signals.task_prerun.connect(prerun, weak=False)
    signals.task_postrun.connect(postrun, weak=False)
    yield calls
    signals.task_prerun.disconnect(prerun)
    signals.task_postrun.disconnect(postrun)


def all_stored_text() -> str:
    """Every text, character and JSON column of every table."""
    chunks = []
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if fields:
            for row in model._base_manager.values_list(*fields):
                chunks.extend(json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v for v in row)
    return "\n".join(chunks)


def file_texts(folders) -> dict[str, str]:
    """Every file under the folders, zip archives opened member by member."""
    found = {}
    for folder in folders:
        folder = Path(folder)
        if not folder.exists():
            continue
        for path in folder.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            texts = [data.decode("utf-8", errors="replace")]
            if zipfile.is_zipfile(io.BytesIO(data)):
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    texts += [archive.read(n).decode("utf-8", errors="replace") for n in archive.namelist()]
            found[str(path)] = "\n".join(texts)
    return found


def traces(needles, folders, task_calls=()) -> list[str]:
    places = {"database": all_stored_text(), **file_texts(folders), "tasks": repr(list(task_calls))}
    return [f"{needle} in {place}" for place, text in places.items() for needle in needles if needle in text]


def export_all(api, user, project, capture):
    for kind in ExportKind.values:
        with capture(execute=True):
            response = api.as_user(user).post(
                f"/api/projects/{project.pk}/exports/", {"kind": kind}, format="json"
            )
        assert response.status_code == 202, response.content
    latest = ExportJob.objects.filter(project=project).order_by("-id")[: len(ExportKind.values)]
    assert {job.status for job in latest} == {ExportJobStatus.DONE}


def test_deleting_an_interview_removes_its_text_everywhere(
    team, api, folders, task_log, django_capture_on_commit_callbacks
):
    interview = make_interview(team.participant, text=TEXT, by=team.owner, title="Border meeting")
    start = interview.text.index(CANARY)
    coding = coding_services.create_coding(
        interview=interview, code=team.code, coder=team.coder, start=start, end=start + len(CANARY)
    )
    coding_services.create_memo(
        project=team.project, author=team.coder, text="On the meeting", target=interview
    )
    phone = interview.text.index("+375")
    redacted = api.as_user(team.supervisor).post(
        f"/api/projects/{team.project.pk}/interviews/{interview.pk}/redactions/",
        {"redactions": [{"start": phone, "end": phone + len("+375 29 611 42 87"), "category": "PHONE"}]},
        format="json",
    )
    assert redacted.status_code in (200, 201), redacted.content
    assert TranscriptRevision.objects.filter(interview=interview).exists()
    assert RedactionLog.objects.filter(interview=interview).exists()
    export_all(api, team.owner, team.project, django_capture_on_commit_callbacks)
    assert traces([CANARY], folders, task_log)  # the text is there before: the check can fail

    with django_capture_on_commit_callbacks(execute=True):
        response = versioned(
            api.as_user(team.supervisor),
            "delete",
            f"/api/projects/{team.project.pk}/interviews/{interview.pk}/",
        )
    assert response.status_code == 204, response.content
    assert traces([CANARY, "Her phone is", "they kept it"], folders, task_log) == []
    assert not Interview.objects.filter(pk=interview.pk).exists()
    assert not TranscriptRevision.objects.filter(interview_id=interview.pk).exists()
    assert not RedactionLog.objects.filter(interview_id=interview.pk).exists()
    assert not type(coding).objects.filter(pk=coding.pk).exists()
    # Nothing else was taken with it.
    assert Interview.objects.filter(pk=team.interview.pk).exists()
    assert "Near the river" in all_stored_text()


def test_deleting_a_project_removes_its_text_everywhere(
    team, api, folders, task_log, django_capture_on_commit_callbacks
):
    interview = make_interview(team.participant, text=TEXT, by=team.owner, title="Border meeting")
    start = interview.text.index(CANARY)
    coding_services.create_coding(
        interview=interview, code=team.code, coder=team.coder, start=start, end=start + len(CANARY)
    )
    export_all(api, team.owner, team.project, django_capture_on_commit_callbacks)
    # An import still waiting for review: its parsed text sits in the staging folder.
    with django_capture_on_commit_callbacks(execute=True):
        upload = api.as_user(team.owner).post(
            f"/api/projects/{team.project.pk}/imports/",
            {"files": [SimpleUploadedFile("second.txt", TEXT.replace("Who met", "Who else met").encode())]},
            format="multipart",
        )
    assert upload.status_code == 202, upload.content
    assert any(CANARY in text for text in file_texts(folders[:1]).values())

    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(team.owner).delete(f"/api/projects/{team.project.pk}/")
    assert response.status_code == 204, response.content
    assert traces([CANARY, "they kept it", "Belarus border study"], folders, task_log) == []
    # The other team's project is untouched.
    assert Interview.objects.filter(pk=team.other_interview.pk).exists()


def test_no_original_identifier_survives_redaction_of_a_coded_transcript(
    team, api, folders, task_log, django_capture_on_commit_callbacks
):
    """DP1 for a transcript already stored and coded (the import path is covered in
    test_import_flow): redact every identifier, then look in every table, file and task."""
    interview = make_interview(team.participant, text=TEXT, by=team.owner, title="Border meeting")
    start = interview.text.index("met us")
    coding_services.create_coding(
        interview=interview, code=team.code, coder=team.coder, start=start, end=start + 6
    )
    export_all(api, team.owner, team.project, django_capture_on_commit_callbacks)
    assert traces(IDENTIFIERS, folders)  # exports made before the redaction hold them
    text = interview.text
    spans = []
    for identifier in [CANARY, "+375 29 611 42 87", "ysolde.tarrant@example.net", "A77123456"]:
        at = text.index(identifier)
        spans.append({"start": at, "end": at + len(identifier), "category": "NAME"})
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(team.supervisor).post(
            f"/api/projects/{team.project.pk}/interviews/{interview.pk}/redactions/",
            {"redactions": spans},
            format="json",
        )
    assert response.status_code in (200, 201), response.content
    key = json.dumps(response.json())  # the one-time key names the originals to the researcher ...
    assert CANARY in key
    # ... and nothing we keep does: the earlier exports expired with their files,
    assert traces(IDENTIFIERS, folders, task_log) == []
    assert set(ExportJob.objects.values_list("status", flat=True)) == {ExportJobStatus.EXPIRED}
    # nor do new ones.
    export_all(api, team.owner, team.project, django_capture_on_commit_callbacks)
    assert traces(IDENTIFIERS, folders, task_log) == []
    assert RedactionLog.objects.filter(interview=interview).count() == 4


def test_an_export_running_while_its_transcript_is_deleted_keeps_no_file(
    team, folders, monkeypatch, django_capture_on_commit_callbacks
):
    """A worker that already read the text when a supervisor deletes the interview: the job
    fails and the file it was writing is deleted, instead of surviving as a finished export."""
    from coding import exports
    from interviews import services as interview_services

    interview = make_interview(team.participant, text=TEXT, by=team.owner, title="Border meeting")
    job = exports.start_export(project=team.project, by=team.owner, kind="qdpx")
    report_progress = exports._Progress.__call__
    deleted = []

    def progress_then_delete(self, percent):
        report_progress(self, percent)
        if not deleted:  # another request deletes the interview while the export runs
            deleted.append(True)
            with django_capture_on_commit_callbacks(execute=True):
                interview_services.delete_interview(interview=interview)

    monkeypatch.setattr(exports._Progress, "__call__", progress_then_delete)
    exports.run_export(job_id=job.pk)
    job.refresh_from_db()
    assert deleted and job.status == ExportJobStatus.FAILED, (job.status, job.message)
    assert "start it again" in job.message
    assert traces([CANARY], folders) == []
