"""IN4: transcript text and secrets never appear in logs, error answers, task arguments or results.

One long journey with a canary sentence in a transcript and a canary password: an
import (upload, parse task, review, confirm), codings, a refused coding, a refused
redaction, analytics with bad filters, every export kind (tasks run eagerly, as in
development), downloads, a failing import, wrong and right passwords on the login page
and the token endpoint, requests for other projects' objects. Every log record of
every logger at DEBUG (django.request and celery included), every error answer, and
the arguments and results of every task that ran are then searched for the canaries.
"""

import io
import json
import logging
import zipfile

import pytest
from celery import signals
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from coding.models import ExportKind
from interviews.models import AuditEvent, ImportFile, Interview

from .factories import UserFactory

CANARY_SENTENCE = "Quillotrix Varnabeth hid the boat behind the sluice gate"
CANARY_WORDS = ["Quillotrix", "Varnabeth"]
CANARY_PASSWORD = "Wombat-Paperclip-7731-Zephyr"
WRONG_PASSWORD = "Wombat-Wrong-9914-Zephyr"
TRANSCRIPT = (
    "Interviewer: What happened at the river?\n"
    f"P09: {CANARY_SENTENCE}, and then we walked for two nights.\n"
    "Interviewer: Who was with you?\n"
    "P09: Only my sister and her two children.\n"
)
LOGGERS = ["", "django", "django.request", "django.server", "django.security", "celery", "celery.task",
           "celery.app.trace", "interviews", "coding", "config", "accounts", "axes"]  # fmt: skip


class TaskSpy:
    """Arguments and results of every task run in the block (eager tasks send these signals too)."""

    def __init__(self):
        self.calls = []

    def prerun(self, sender=None, task_id=None, task=None, args=None, kwargs=None, **_):
        self.calls.append(("args", getattr(task, "name", str(sender)), args, kwargs))

    def postrun(self, sender=None, task_id=None, task=None, retval=None, state=None, **_):
        self.calls.append(("result", getattr(task, "name", str(sender)), retval, state))

    def published(self, sender=None, body=None, headers=None, **_):
        self.calls.append(("published", sender, body, headers))


@pytest.fixture
def tasks():
    spy = TaskSpy()
    signals.task_prerun.connect(spy.prerun, weak=False)
    signals.task_postrun.connect(spy.postrun, weak=False)
    signals.before_task_publish.connect(spy.published, weak=False)
    yield spy
    signals.task_prerun.disconnect(spy.prerun)
    signals.task_postrun.disconnect(spy.postrun)
    signals.before_task_publish.disconnect(spy.published)


@pytest.fixture
def everything_logged(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def folders(settings, tmp_path):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    settings.EXPORT_DIR = tmp_path / "exports"
    return tmp_path


def canaries_in(text: str) -> list[str]:
    return [c for c in [CANARY_SENTENCE, *CANARY_WORDS, CANARY_PASSWORD, WRONG_PASSWORD] if c in text]


def log_text(caplog) -> str:
    """Every record as a handler would write it: message, arguments, exception and stack."""
    return "\n".join(log_text_of(record) for record in caplog.records)


def log_text_of(record) -> str:
    parts = []
    if True:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        parts.append(repr({k: v for k, v in record.__dict__.items() if k not in ("msg", "args", "exc_info")}))
    return "\n".join(parts)


def test_canaries_never_reach_logs_errors_or_tasks(
    team, api, client, everything_logged, tasks, folders, django_capture_on_commit_callbacks
):
    caplog = everything_logged
    project = team.project
    base = f"/api/projects/{project.pk}"
    owner = api.as_user(team.owner)
    errors = []  # bodies of every answer that was not a success

    def note(response):
        if response.status_code >= 400:
            errors.append((response.status_code, response.content.decode(errors="replace")))
        return response

    # --- import: upload, the parse task, review, confirm
    with django_capture_on_commit_callbacks(execute=True):
        upload = owner.post(
            f"{base}/imports/",
            {"files": [SimpleUploadedFile("P09.txt", TRANSCRIPT.encode())]},
            format="multipart",
        )
    assert upload.status_code == 202, upload.content
    batch = owner.get(f"{base}/imports/{upload.json()['id']}/").json()
    file_id = batch["files"][0]["id"]
    review = owner.get(f"{base}/import-files/{file_id}/").json()
    assert CANARY_SENTENCE in review["text"]  # the researcher does see it: only logs must not
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = owner.post(
            f"{base}/import-files/{file_id}/confirm/",
            {"title": "P09 first interview", "new_pseudonym": "P09", "redactions": []},
            format="json",
        )
    assert confirmed.status_code == 201, confirmed.content
    interview = Interview.objects.get(project=project, title="P09 first interview")
    assert CANARY_SENTENCE in interview.text
    start = interview.text.index(CANARY_SENTENCE)

    # --- a failing import: a "docx" that is a broken zip holding the canary
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("word/document.xml", f"<w:document>{CANARY_SENTENCE}".encode())
    with django_capture_on_commit_callbacks(execute=True):
        note(owner.post(
            f"{base}/imports/",
            {"files": [SimpleUploadedFile("broken.docx", broken.getvalue())]},
            format="multipart",
        ))  # fmt: skip
    for reason in ImportFile.objects.filter(project=project).values_list("reason", flat=True):
        assert not canaries_in(reason)

    # --- codings: a good one, then refused ones
    coder = api.as_user(team.coder)
    created = coder.post(
        f"{base}/codings/",
        {"interview": interview.pk, "code": team.code.pk, "start": start, "end": start + len(CANARY_SENTENCE),
         "comment": "boat"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    note(coder.post(
        f"{base}/codings/",
        {"interview": interview.pk, "code": team.code.pk, "start": start + 5, "end": 10**7},
        format="json",
    ))  # fmt: skip
    note(coder.post(
        f"{base}/codings/",
        {"interview": team.other_interview.pk, "code": team.code.pk, "start": 0, "end": 3},
        format="json",
    ))  # fmt: skip
    # a redaction that would remove the whole coded passage is refused
    note(api.as_user(team.supervisor).post(
        f"{base}/interviews/{interview.pk}/redactions/",
        {"redactions": [{"start": start, "end": start + len(CANARY_SENTENCE), "category": "NAME"}]},
        format="json",
    ))  # fmt: skip
    note(coder.get(f"/api/projects/{team.other_project.pk}/interviews/{team.other_interview.pk}/"))
    note(coder.patch(f"{base}/interviews/{interview.pk}/", {"text": CANARY_SENTENCE}, format="json"))

    # --- reads that carry the text
    assert owner.get(f"{base}/interviews/{interview.pk}/").status_code == 200
    assert owner.get(f"{base}/interviews/{interview.pk}/coding-data/").status_code == 200
    assert owner.get(f"{base}/codings/", {"interview": interview.pk}).status_code == 200

    # --- analytics, with bad filters (query strings are access-logged by design, so the
    # canary is not put in a URL here; a saved query carries it in a body instead)
    note(owner.get(f"{base}/analytics/frequencies/", {"where": "shoe_size = 3"}))
    # (its 400 quotes the word it could not parse back to its author: not checked as an error body)
    refused = owner.post(f"{base}/analytics/saved-queries/", {"name": "x", "expression": CANARY_SENTENCE})
    assert refused.status_code == 400
    assert owner.get(f"{base}/analytics/frequencies/").status_code == 200

    # --- every export kind as a job (eager task), and its download
    for kind in ExportKind.values:
        with django_capture_on_commit_callbacks(execute=True):
            job = owner.post(f"{base}/exports/", {"kind": kind}, format="json")
        assert job.status_code == 202, (kind, job.content)
        status = owner.get(f"{base}/exports/{job.json()['id']}/").json()
        assert status["status"] == "done", status
        assert not canaries_in(json.dumps(status))
        download = owner.get(f"{base}/exports/{job.json()['id']}/download/")
        assert download.status_code == 200

    # --- pages: retrieve CSV, analytics download, the coding view
    client.force_login(team.owner)
    assert (
        client.get(f"/projects/{project.pk}/retrieve/", {"code": team.code.pk, "format": "csv"}).status_code
        == 200
    )
    assert client.get(f"/projects/{project.pk}/interviews/{interview.pk}/code/").status_code == 200
    note(client.get(f"/projects/{project.pk}/analytics/download/frequencies.csv", {"where": "shoe_size = 3"}))
    client.logout()

    # the audit trail names what changed, never the text
    audit = json.dumps(list(AuditEvent.objects.values("action", "before", "after")), default=str)
    assert AuditEvent.objects.exists() and canaries_in(audit) == []

    # --- passwords: a user with the canary password logs in (wrong, then right)
    UserFactory(username="paula_password", password=CANARY_PASSWORD)
    note(client.post("/accounts/login/", {"username": "paula_password", "password": WRONG_PASSWORD}))
    client.post("/accounts/login/", {"username": "paula_password", "password": CANARY_PASSWORD})
    assert (
        api.post(
            "/api/auth/token/", {"username": "paula_password", "password": CANARY_PASSWORD}, format="json"
        ).status_code
        == 200
    )
    # Last: DRF marks the (test's) transaction for rollback when the non-atomic token view refuses.
    note(
        api.post(
            "/api/auth/token/", {"username": "paula_password", "password": WRONG_PASSWORD}, format="json"
        )
    )

    # --- now look everywhere
    assert len(errors) >= 6, errors  # the refusals really happened
    logged = log_text(caplog)
    assert caplog.records, "nothing was logged at all: the capture is not working"
    assert "Bad Request" in logged  # django.request did log the refusals, without their bodies
    leaking = [f"{r.name}: {r.getMessage()[:200]}" for r in caplog.records if canaries_in(log_text_of(r))]
    assert canaries_in(logged) == [], leaking
    for status_code, body in errors:
        assert canaries_in(body) == [], (status_code, body[:300])
    ran = [name for kind, name, *_ in tasks.calls if kind == "args"]
    assert any("import" in name for name in ran) and any("export" in name for name in ran), ran
    for call in tasks.calls:
        assert canaries_in(repr(call)) == [], call
    for _kind, name, args, kwargs in (c for c in tasks.calls if c[0] == "args"):
        values = list(args or []) + list((kwargs or {}).values())
        assert all(isinstance(v, (int, str)) and len(str(v)) <= 64 for v in values), (name, args, kwargs)


def test_sql_with_parameters_is_never_logged_even_at_debug_level():
    """django.db.backends logs each statement with its parameters (transcript text) when
    DEBUG is on; the logging configuration keeps it at INFO whatever LOG_LEVEL says."""
    level = django_settings.LOGGING["loggers"]["django.db.backends"]["level"]
    assert logging.getLevelName(level) >= logging.INFO


def test_the_500_page_is_generic(team, client, settings):
    from django.views.defaults import server_error

    request = client.get("/").wsgi_request
    response = server_error(request)
    body = response.content.decode()
    assert response.status_code == 500
    assert "Traceback" not in body and "SECRET_KEY" not in body and "settings" not in body.lower()
    assert not settings.DEBUG


def test_the_audit_trail_keeps_only_known_filters_of_a_passage_listing(team, api):
    """The trail is append-only: a made-up parameter (say, a name) must not be written into it."""
    response = api.as_user(team.viewer).get(
        f"/api/projects/{team.project.pk}/codings/",
        {"interview": team.interview.pk, "note": CANARY_SENTENCE, "ordering": "start"},
    )
    assert response.status_code == 200
    event = AuditEvent.objects.filter(action="passages.listed").latest("id")
    recorded = json.dumps([event.before, event.after], default=str)
    assert canaries_in(recorded) == []
    assert str(team.interview.pk) in recorded and "ordering" in recorded
