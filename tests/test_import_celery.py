"""The import through a REAL Celery worker and a REAL Redis broker (see tests/celery_worker.py)."""

import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from interviews import tasks
from interviews.models import ImportBatch, ImportFile, Interview

from .celery_worker import real_worker, redis_dump
from .import_helpers import make_docx

CANARY = "Qobadiyan-Celery-Canary"


@pytest.fixture
def worker(settings, tmp_path):
    staging = tmp_path / "staging"
    settings.IMPORT_STAGING_DIR = staging
    with real_worker(
        tasks.process_import_batch, tmp_path=tmp_path, env={"IMPORT_STAGING_DIR": str(staging)}
    ) as w:
        yield {**w, "staging": staging}


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
    assert CANARY not in redis_dump(worker["redis"])
    log = worker["log"].read_text()
    assert "process_import_batch" in log and CANARY not in log
    assert list(worker["staging"].iterdir()) == []
    assert json.dumps(status).find(CANARY) == -1
