"""Export jobs: start, progress, download, the conditional claim, failures, access, the sweep, the page."""

import io
import os
import time
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from coding import exports, tasks
from coding.models import Code, ExportJob, ExportKind
from coding.refi import export
from coding.refi.schema import schema_errors
from interviews import services
from interviews.models import Membership, Project, Role


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def start_url(project):
    return f"/api/projects/{project.pk}/exports/"


def job_url(project, job_id, tail=""):
    return f"/api/projects/{project.pk}/exports/{job_id}/{tail}"


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def files_in(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ---------------------------------------------------------------- end to end (eager Celery)


def test_supervisor_exports_qdpx_as_a_job_and_downloads_it(team, api, django_capture_on_commit_callbacks):
    client = api.as_user(team.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(start_url(team.project), {"kind": "qdpx"}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"  # the task runs after the request's commit
    job_id = response.json()["id"]

    status = client.get(job_url(team.project, job_id))
    assert status.status_code == 200 and "no-store" in status["Cache-Control"]
    job = status.json()
    assert job["status"] == "done" and job["progress"] == 100
    assert job["requested_by"] == team.supervisor.username
    assert job["filename"].endswith(".qdpx")
    assert any("Speaker turns" in line for line in job["not_carried"])
    assert job["download_url"] == job_url(team.project, job_id, "download/")

    download = client.get(job["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download["Cache-Control"]
    assert download["Content-Type"] == "application/zip"
    data = body_of(download)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "project.qde" in archive.namelist()
        assert f"sources/{team.interview.guid}.txt" in archive.namelist()
    assert schema_errors(export.project_qde(data)) == []
    assert len(data) == job["size"]


@pytest.mark.parametrize("kind", [k for k in ExportKind.values if k != "qdpx"])
def test_every_other_kind_exports_as_a_job(team, api, django_capture_on_commit_callbacks, kind):
    client = api.as_user(team.owner)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = client.post(start_url(team.project), {"kind": kind}, format="json").json()["id"]
    job = client.get(job_url(team.project, job_id)).json()
    assert job["status"] == "done", job
    data = body_of(client.get(job_url(team.project, job_id, "download/")))
    if kind.endswith(".csv"):
        assert data.startswith("\ufeff".encode())
        assert data.decode("utf-8-sig").splitlines()[0].startswith(("project,", "path,"))
    elif kind.endswith(".xlsx"):
        sheet = load_workbook(io.BytesIO(data), read_only=True).active
        assert next(sheet.iter_rows(values_only=True))[0] in ("project", "path")
    else:
        assert b"Belarusian tourist visa" in data and b"<CodeBook" in data
    if kind == "codebook.csv":
        assert "Visa route > Belarusian tourist visa" in data.decode("utf-8-sig")


def test_qdpx_export_reports_progress_after_each_transcript(team):
    for n in range(3):
        participant = services.create_participant(project=team.project, pseudonym=f"LV-1{n}")
        services.create_interview(
            participant=participant, title=f"T{n}", text="Participant: hello.\n", anonymised_by=team.owner
        )
    calls = []
    export.export_qdpx(team.project, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_job_progress_is_stored_only_while_running_and_only_upwards(team):
    job = ExportJob.objects.create(project=team.project, requested_by=team.owner, kind="qdpx")
    progress = exports._Progress(job.pk, every=0)
    progress(40)
    assert ExportJob.objects.get(pk=job.pk).progress == 0  # still queued: not claimed, not written
    ExportJob.objects.filter(pk=job.pk).update(status="running")
    seen = []
    for percent in (10, 35.7, 20, 99.9, 150):
        progress(percent)
        seen.append(ExportJob.objects.get(pk=job.pk).progress)
    assert seen == [10, 35, 35, 99, 99]  # 100 only when the file is stored


def test_job_progress_is_written_at_most_twice_a_second(team):
    job = ExportJob.objects.create(
        project=team.project, requested_by=team.owner, kind="qdpx", status="running"
    )
    progress = exports._Progress(job.pk)
    for percent in range(1, 99):
        progress(percent)
    assert ExportJob.objects.get(pk=job.pk).progress == 1  # the first, then nothing for half a second
    progress.written_at -= 0.5
    progress(60)
    assert ExportJob.objects.get(pk=job.pk).progress == 60


# ---------------------------------------------------------------- the conditional claim and failures


def test_running_the_task_twice_builds_one_result(team, export_dir, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = exports.start_export(project=team.project, by=team.owner, kind="qdpx")
    tasks.run_export(job.pk)
    first = ExportJob.objects.get(pk=job.pk)
    assert first.status == "done"
    made = os.stat(exports.file_path(first)).st_mtime_ns
    time.sleep(0.01)
    tasks.run_export(job.pk)  # a duplicate delivery
    again = ExportJob.objects.get(pk=job.pk)
    assert (again.status, again.finished_at, again.size) == ("done", first.finished_at, first.size)
    assert os.stat(exports.file_path(again)).st_mtime_ns == made
    assert files_in(export_dir) == [f"{job.file_key}.export"]


def test_a_worker_dying_after_writing_the_file_leaves_a_failed_job_without_a_file(
    team, export_dir, django_capture_on_commit_callbacks
):
    """The file was moved into place, then the worker died before marking the job done: the
    redelivered message fails the job and takes the orphaned file (whole or half) with it."""
    with django_capture_on_commit_callbacks(execute=False):
        job = exports.start_export(project=team.project, by=team.owner, kind="qdpx")
    ExportJob.objects.filter(pk=job.pk).update(status="running")
    export_dir.mkdir(parents=True, exist_ok=True)
    final = exports.file_path(ExportJob.objects.get(pk=job.pk))
    final.write_bytes(b"a finished export")
    final.with_suffix(".part").write_bytes(b"half")
    exports.run_export(job_id=job.pk, redelivered=True)
    assert ExportJob.objects.get(pk=job.pk).status == "failed"
    assert files_in(export_dir) == []


def test_codebook_emptied_before_the_task_runs_fails_the_job_with_a_clear_message(
    team, api, export_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = exports.start_export(project=team.project, by=team.owner, kind="qdc")
    Code.objects.filter(project=team.project, parent__isnull=False).delete()
    Code.objects.filter(project=team.project).delete()
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    assert (
        job.message == "The export could not be made: The codebook is empty; add codes before exporting it."
    )
    assert files_in(export_dir) == []
    response = api.as_user(team.owner).get(job_url(team.project, job.pk, "download/"))
    assert response.status_code == 409


def test_unwritable_export_folder_fails_the_job(team, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.EXPORT_DIR = blocker / "exports"
    job = ExportJob.objects.create(project=team.project, requested_by=team.owner, kind="codings.csv")
    exports.run_export(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "could not be saved on the server" in job.message


def test_starting_an_unknown_kind_or_an_empty_codebook_export_is_refused(team, api):
    client = api.as_user(team.owner)
    assert client.post(start_url(team.project), {"kind": "pdf"}, format="json").status_code == 400
    assert client.post(start_url(team.project), {"kind": "qdpx", "x": 1}, format="json").status_code == 400
    empty = services.create_project(name="Empty", owner=team.owner)
    response = client.post(start_url(empty), {"kind": "qdc"}, format="json")
    assert response.status_code == 400 and "codebook is empty" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_too_many_unfinished_exports_are_refused(team, api):
    for _ in range(exports.MAX_UNFINISHED_PER_PROJECT):
        ExportJob.objects.create(project=team.project, requested_by=team.owner, kind="qdpx")
    response = api.as_user(team.owner).post(start_url(team.project), {"kind": "qdpx"}, format="json")
    assert response.status_code == 400 and "still running" in response.content.decode()


# ---------------------------------------------------------------- access


@pytest.fixture
def done_job(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.start_export(project=team.project, by=team.supervisor, kind="qdpx")
    job.refresh_from_db()
    assert job.status == "done"
    return job


def requests_for(project, job):
    return [
        ("post", start_url(project)),
        ("get", job_url(project, job.pk)),
        ("get", job_url(project, job.pk, "download/")),
    ]


def send(client, method, url):
    return client.post(url, {"kind": "qdpx"}, format="json") if method == "post" else client.get(url)


def test_outsider_gets_404_on_every_export_endpoint(team, api, done_job):
    client = api.as_user(team.outsider)
    for method, url in requests_for(team.project, done_job):
        response = send(client, method, url)
        assert response.status_code == 404, url
        assert b"Belarus" not in body_of(response)
    # Through the outsider's own project, A's job does not exist either.
    for method, url in requests_for(team.other_project, done_job)[1:]:
        assert send(client, method, url).status_code == 404, url


@pytest.mark.parametrize("role", ["coder", "viewer"])
def test_coders_and_viewers_get_403_on_every_export_endpoint(team, api, done_job, role):
    client = api.as_user(team.member(role))
    for method, url in requests_for(team.project, done_job):
        assert send(client, method, url).status_code == 403, url
    assert ExportJob.objects.count() == 1


def test_member_removed_after_starting_an_export_cannot_download_it(team, api, done_job):
    url = job_url(team.project, done_job.pk, "download/")
    client = api.as_user(team.supervisor)
    assert client.get(url).status_code == 200
    Membership.objects.filter(project=team.project, user=team.supervisor).delete()
    assert client.get(url).status_code == 404
    assert client.get(job_url(team.project, done_job.pk)).status_code == 404


def test_supervisor_demoted_to_coder_cannot_download(team, api, done_job):
    Membership.objects.filter(project=team.project, user=team.supervisor).update(role=Role.CODER)
    response = api.as_user(team.supervisor).get(job_url(team.project, done_job.pk, "download/"))
    assert response.status_code == 403


# ---------------------------------------------------------------- the sweep


def test_sweep_deletes_old_files_and_orphans_and_settles_stuck_jobs(
    team, api, export_dir, done_job, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    fresh = ExportJob.objects.create(project=team.project, requested_by=team.owner, kind="qdc")
    exports.run_export(job_id=fresh.pk)
    orphan = export_dir / "0b7e7a4e-8a7e-4e43-9d0e-6f1f3a1a0c11.export"
    orphan.write_bytes(b"left behind")
    unrelated = export_dir / "README"
    unrelated.write_text("not ours")
    ExportJob.objects.filter(pk=done_job.pk).update(finished_at=timezone.now() - timedelta(hours=25))
    stuck = ExportJob.objects.create(project=team.project, requested_by=team.owner, kind="qdpx")
    ExportJob.objects.filter(pk=stuck.pk).update(
        status="running", started_at=timezone.now() - timedelta(hours=2)
    )

    removed = exports.sweep_exports()

    assert removed == 2
    assert files_in(export_dir) == sorted(["README", f"{fresh.file_key}.export"])
    done_job.refresh_from_db()
    assert done_job.status == "expired"
    response = api.as_user(team.owner).get(job_url(team.project, done_job.pk, "download/"))
    assert response.status_code == 409 and "expired" in response.json()["detail"]
    stuck.refresh_from_db()
    assert stuck.status == "failed" and "stopped unexpectedly" in stuck.message
    assert ExportJob.objects.get(pk=fresh.pk).status == "done"


def test_sweep_resends_jobs_the_broker_missed(team):
    job = ExportJob.objects.create(project=team.project, requested_by=team.owner, kind="codebook.csv")
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    exports.sweep_exports()  # eager Celery: the re-sent task runs at once
    job.refresh_from_db()
    assert job.status == "done"


def test_sweep_is_scheduled(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "coding.tasks.sweep_exports" in tasks_scheduled


# ---------------------------------------------------------------- pages


def exchange_url(project):
    return f"/projects/{project.pk}/exchange/"


@pytest.mark.parametrize("role", ["owner", "supervisor"])
def test_exchange_page_offers_every_export_and_the_qdpx_report(team, client, role):
    client.force_login(team.member(role))
    page = client.get(exchange_url(team.project))
    assert page.status_code == 200
    html = page.content.decode()
    for kind in ExportKind.values:
        assert f'data-kind="{kind}"' in html
    assert "Speaker turns and their roles" in html
    assert 'id="exchange-data"' in html and "js/exchange.js" in html
    assert "<script>" not in html and 'style="' not in html


@pytest.mark.parametrize("role", ["coder", "viewer"])
def test_exchange_page_is_refused_below_supervisor_and_not_linked(team, client, role):
    client.force_login(team.member(role))
    assert client.get(exchange_url(team.project)).status_code == 403
    home = client.get(f"/projects/{team.project.pk}/").content.decode()
    assert exchange_url(team.project) not in home


def test_exchange_page_is_linked_for_supervisors(team, client):
    client.force_login(team.supervisor)
    assert exchange_url(team.project) in client.get(f"/projects/{team.project.pk}/").content.decode()


def test_outsider_gets_404_on_the_exchange_page(team, client):
    client.force_login(team.outsider)
    assert client.get(exchange_url(team.project)).status_code == 404
    assert client.post(exchange_url(team.project), {}).status_code == 404


def test_exchange_page_lists_finished_exports_with_a_download_link(team, client, done_job):
    client.force_login(team.owner)
    html = client.get(exchange_url(team.project)).content.decode()
    assert job_url(team.project, done_job.pk, "download/") in html


QDC = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
    b'<Code guid="8F2F6B3C-1111-4A5B-9C3D-000000000001" name="Outcome" isCodable="true">'
    b'<Code guid="8F2F6B3C-1111-4A5B-9C3D-000000000002" name="Reached Germany" isCodable="true"/></Code>'
    b'<Code guid="8F2F6B3C-1111-4A5B-9C3D-000000000003" name="Prior pushback" isCodable="true"/>'
    b"</Codes></CodeBook>"
)


def test_importing_a_qdc_on_the_page_merges_it_and_shows_the_report(team, client):
    client.force_login(team.supervisor)
    response = client.post(exchange_url(team.project), {"file": SimpleUploadedFile("book.qdc", QDC)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Codebook import report" in html and "2 codes" in html
    assert Code.objects.filter(project=team.project, name="Reached Germany", parent__name="Outcome").exists()


def test_importing_a_codebook_csv_on_the_page(team, client):
    client.force_login(team.owner)
    csv = b"path,colour\r\nJourney > Forest crossing,#112233\r\n"
    response = client.post(exchange_url(team.project), {"file": SimpleUploadedFile("book.csv", csv)})
    assert response.status_code == 200 and "Codebook import report" in response.content.decode()
    assert Code.objects.get(project=team.project, name="Forest crossing").colour == "#112233"


def test_a_broken_codebook_shows_the_error_and_changes_nothing(team, client):
    client.force_login(team.owner)
    before = Code.objects.filter(project=team.project).count()
    response = client.post(
        exchange_url(team.project), {"file": SimpleUploadedFile("book.qdc", b"<CodeBook><Codes>")}
    )
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert Code.objects.filter(project=team.project).count() == before


def test_project_list_offers_the_qdpx_import_with_an_explicit_anonymisation_choice(team, client):
    client.force_login(team.coder)
    html = client.get("/").content.decode()
    assert 'action="/projects/import-qdpx/"' in html
    assert 'name="already_anonymised" value="yes" required' in html
    assert 'name="already_anonymised" value="no" required' in html


def qdpx_of(project) -> bytes:
    return export.export_qdpx(project).data


def test_importing_a_qdpx_on_the_page_needs_the_anonymisation_choice(team, client):
    client.force_login(team.coder)
    count = Project.objects.count()
    response = client.post(
        "/projects/import-qdpx/", {"file": SimpleUploadedFile("a.qdpx", qdpx_of(team.project))}
    )
    assert response.status_code == 400
    assert "Say whether the transcripts are already anonymised." in response.content.decode()
    assert Project.objects.count() == count


@pytest.mark.parametrize("choice,anonymised", [("yes", True), ("no", False)])
def test_importing_a_qdpx_on_the_page_creates_a_project_the_user_owns(team, client, choice, anonymised):
    client.force_login(team.coder)
    response = client.post(
        "/projects/import-qdpx/",
        {
            "file": SimpleUploadedFile("a.qdpx", qdpx_of(team.project)),
            "name": "Copy of the study",
            "already_anonymised": choice,
        },
    )
    assert response.status_code == 200, response.content.decode()
    project = Project.objects.get(name="Copy of the study")
    assert Membership.objects.get(project=project, user=team.coder).role == Role.OWNER
    html = response.content.decode()
    assert "Project import report" in html and f'href="/projects/{project.pk}/"' in html
    interview = project.interviews.get()
    assert (interview.anonymised_at is not None) is anonymised
