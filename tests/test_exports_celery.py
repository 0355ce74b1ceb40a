"""An export job through a REAL Celery worker and a REAL Redis broker (PostgreSQL only).

As in test_import_celery: the worker is a separate process that must see what
the test committed, so this runs with ``django_db(transaction=True)`` on the
PostgreSQL pass and is skipped on SQLite; without Redis it skips, except under
``CI=true``.
"""

import io
import time
import zipfile

import pytest

from coding import tasks
from coding.models import ExportJob

from .celery_worker import real_worker, redis_dump


@pytest.fixture
def export_worker(settings, tmp_path):
    folder = tmp_path / "exports"
    settings.EXPORT_DIR = folder
    with real_worker(tasks.run_export, tmp_path=tmp_path, env={"EXPORT_DIR": str(folder)}) as w:
        yield {**w, "folder": folder}


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(240)
def test_real_worker_builds_the_qdpx_and_the_supervisor_downloads_it(team, api, export_worker):
    client = api.as_user(team.supervisor)
    response = client.post(f"/api/projects/{team.project.pk}/exports/", {"kind": "qdpx"}, format="json")
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        job = client.get(f"/api/projects/{team.project.pk}/exports/{job_id}/").json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the worker did not finish the export:\n" + export_worker["log"].read_text()[-3000:])
    assert job["status"] == "done" and job["progress"] == 100, job
    download = client.get(job["download_url"])
    data = b"".join(download.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "project.qde" in archive.namelist()
    assert ExportJob.objects.get(pk=job_id).started_at is not None
    # Only the id travelled through the broker; the transcript did not.
    assert "Near the river" not in redis_dump(export_worker["redis"])
    assert "run_export" in export_worker["log"].read_text()
