"""An export job through a REAL Celery worker and a REAL Redis broker (PostgreSQL only).

As in test_import_celery: the worker is a separate process that must see what
the test committed, so this runs with ``django_db(transaction=True)`` on the
PostgreSQL pass and is skipped on SQLite; without Redis it skips, except under
``CI=true``.
"""

import io
import os
import subprocess
import sys
import time
import uuid
import zipfile

import pytest
from django.db import connection

from coding import tasks
from coding.models import ExportJob
from config.celery import app as celery_app

from .test_import_celery import BROKER, ROOT, _redis, _redis_dump


@pytest.fixture
def export_worker(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot open the in-memory SQLite test database; runs on PostgreSQL")
    client = _redis()
    queue = f"export-test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    folder = tmp_path / "exports"
    settings.EXPORT_DIR = folder
    env = {
        **os.environ,
        "CELERY_BROKER_URL": BROKER,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EXPORT_DIR": str(folder),
        "DB_CONN_MAX_AGE": "0",
    }
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    saved_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    connection_for_test = celery_app.connection_for_write(BROKER)
    original_delay = tasks.run_export.delay

    def delay(job_id):
        return tasks.run_export.apply_async(args=[job_id], queue=queue, connection=connection_for_test)

    tasks.run_export.delay = delay
    try:
        yield {"redis": client, "log": log, "folder": folder}
    finally:
        tasks.run_export.delay = original_delay
        celery_app.conf.task_always_eager = saved_eager
        connection_for_test.release()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        client.delete(queue)


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
    assert "Near the river" not in _redis_dump(export_worker["redis"])
    assert "run_export" in export_worker["log"].read_text()
