"""The import through a REAL Celery worker and a REAL Redis broker.

The worker is a separate process, so it must see what the test committed:
the test uses ``django_db(transaction=True)`` and the worker gets
``DATABASE_URL`` pointing at the PostgreSQL *test* database. On SQLite (an
in-memory test database no other process can open) it is skipped; the
PostgreSQL pass runs it. It is skipped when Redis is unreachable, except
under ``CI=true``, where that is a failure.
"""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from config.celery import app as celery_app
from interviews.models import ImportBatch, ImportFile, Interview

from .import_helpers import make_docx

BROKER = "redis://127.0.0.1:6379/15"
ROOT = Path(__file__).resolve().parents[1]
CANARY = "Qobadiyan-Celery-Canary"


def _redis():
    import redis

    client = redis.Redis.from_url(BROKER, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis must be running on 127.0.0.1:6379 in CI")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379; start redis-server to run this test")
    return client


@pytest.fixture
def worker(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot open the in-memory SQLite test database; runs on PostgreSQL")
    client = _redis()
    queue = f"import-test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    staging = tmp_path / "staging"
    settings.IMPORT_STAGING_DIR = staging
    env = {
        **os.environ,
        "CELERY_BROKER_URL": BROKER,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "IMPORT_STAGING_DIR": str(staging),
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
    # Send this test's tasks to its own queue over an explicit Redis connection:
    # the app in this process was configured eager at start-up, and its producer
    # pool and routes may already exist from earlier tests.
    from interviews import tasks

    saved_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    connection_for_test = celery_app.connection_for_write(BROKER)
    original_delay = tasks.process_import_batch.delay

    def delay(batch_id):
        return tasks.process_import_batch.apply_async(
            args=[batch_id], queue=queue, connection=connection_for_test
        )

    tasks.process_import_batch.delay = delay
    try:
        yield {"redis": client, "log": log, "staging": staging}
    finally:
        tasks.process_import_batch.delay = original_delay
        celery_app.conf.task_always_eager = saved_eager
        connection_for_test.release()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        client.delete(queue)


def _redis_dump(client) -> str:
    chunks = []
    for key in client.scan_iter():
        kind = client.type(key)
        if kind == b"string":
            chunks.append(client.get(key) or b"")
        elif kind == b"list":
            chunks.extend(client.lrange(key, 0, -1))
        elif kind == b"hash":
            chunks.extend(v for pair in client.hgetall(key).items() for v in pair)
        elif kind in (b"set", b"zset"):
            chunks.extend(client.zrange(key, 0, -1) if kind == b"zset" else client.smembers(key))
        chunks.append(key)
    return b"\n".join(chunks).decode("utf-8", "replace")


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(240)
def test_real_worker_reads_the_upload_and_the_researcher_confirms(team, api, worker):
    lines = [("Interviewer", "Who helped you?"), ("P07", f"My cousin {CANARY} helped us near the river.")]
    files = [
        SimpleUploadedFile("LV-20.docx", make_docx(lines)),
        SimpleUploadedFile("broken.docx", b"PK\x03\x04broken"),
    ]
    response = api.as_user(team.owner).post(
        f"/api/projects/{team.project.pk}/imports/", {"files": files}, format="multipart"
    )
    assert response.status_code == 202, response.content
    batch_id = response.json()["id"]
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status == "done":
            break
        time.sleep(0.5)
    else:
        pytest.fail("the worker did not finish the batch:\n" + worker["log"].read_text()[-3000:])
    status = api.as_user(team.owner).get(f"/api/projects/{team.project.pk}/imports/{batch_id}/").json()
    files = {f["name"]: f for f in status["files"]}
    assert status["progress"] == 1.0
    assert files["LV-20.docx"]["status"] == "ready", files
    assert files["broken.docx"]["status"] == "failed" and "damaged" in files["broken.docx"]["reason"]

    review = api.as_user(team.owner).get(
        f"/api/projects/{team.project.pk}/import-files/{files['LV-20.docx']['id']}/"
    )
    body = review.json()
    start = body["text"].index(CANARY)
    done = api.as_user(team.owner).post(
        f"/api/projects/{team.project.pk}/import-files/{files['LV-20.docx']['id']}/confirm/",
        {
            "title": "LV-20",
            "new_pseudonym": "LV-20",
            "redactions": [{"start": start, "end": start + len(CANARY), "category": "NAME"}],
        },
        format="json",
    )
    assert done.status_code == 201, done.json()
    interview = Interview.objects.get(pk=done.json()["interview"])
    assert CANARY not in interview.text and interview.is_codable
    assert ImportFile.objects.get(pk=files["LV-20.docx"]["id"]).status == "imported"
    # Nothing of the text in the broker (task arguments are ids), the worker's log or the staging folder.
    assert CANARY not in _redis_dump(worker["redis"])
    log = worker["log"].read_text()
    assert "process_import_batch" in log and CANARY not in log
    assert list(worker["staging"].iterdir()) == []
    assert json.dumps(status).find(CANARY) == -1
