"""Faults around background jobs, with a REAL Redis broker and REAL Celery workers (FT1–FT3).

FT1: a worker SIGKILLed in the middle of an import or an export; the broker hands the message
out again (acks_late, reject_on_worker_lost, or Redis's visibility timeout once a new worker
runs); every job ends done or failed, never stuck 'running', with no row twice and no half
of anything. FT2: tasks are queued when the transaction commits, so a rolled-back request
queues nothing. FT3: with the broker unreachable, an upload and an export are answered as
recorded ('queued', never a 500) and the sweep sends them once the broker is back.

Workers are separate processes that must see what the test committed, so these run on the
PostgreSQL pass with ``django_db(transaction=True)`` and skip on SQLite (see celery_worker.py).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from coding import exports
from coding import tasks as coding_tasks
from coding.models import Coding, ExportJob
from config.celery import app as celery_app
from interviews import import_services
from interviews import tasks as interview_tasks
from interviews.models import ImportBatch, ImportFile, Interview

from .celery_worker import BROKER, ROOT, redis_client
from .conftest import make_interview

# A transcript whose identifier search takes a few seconds: the window in which to kill.
SLOW_LINE = (
    "Participant: We walked from Grodno to the forest near Kuźnica with Ahmed and his sister, "
    "call me on +48 601 234 567.\nInterviewer: And then?\n"
)


def wait_for(condition, *, seconds: float, what: str, log=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{tail}")


def worker_database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def queue_and_folders(tmp) -> dict:
    """A queue of its own and the folders workers share with the test."""
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot open the in-memory SQLite test database; runs on PostgreSQL")
    client = redis_client()
    env = {
        **os.environ,
        "CELERY_BROKER_URL": BROKER,
        "DATABASE_URL": worker_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "IMPORT_STAGING_DIR": str(tmp / "staging"),
        "EXPORT_DIR": str(tmp / "exports"),
        # A dead worker's message comes back after 2 s, looked for every second (production:
        # an hour, every minute).
        "CELERY_VISIBILITY_TIMEOUT": "2",
        "CELERY_RESTORE_INTERVAL": "1",
    }
    return {"redis": client, "queue": f"test-faults-{uuid.uuid4().hex[:8]}", "env": env, "tmp": tmp}


def use_folders(settings, broker) -> dict:
    settings.IMPORT_STAGING_DIR = broker["tmp"] / "staging"
    settings.EXPORT_DIR = broker["tmp"] / "exports"
    return broker


@pytest.fixture
def broker(tmp_path, settings):
    """A queue for this test alone; the test starts and kills its workers."""
    broker = use_folders(settings, queue_and_folders(tmp_path))
    yield broker
    broker["redis"].delete(broker["queue"])


@pytest.fixture(scope="module")
def _steady(django_db_setup, tmp_path_factory):
    broker = queue_and_folders(tmp_path_factory.mktemp("steady"))
    with worker(broker, "steady") as process:
        yield {**broker, "worker": process}
    broker["redis"].delete(broker["queue"])


@pytest.fixture
def steady(_steady, settings):
    """One worker, started once for the tests that need one running throughout (FT2, FT3)."""
    return use_folders(settings, _steady)


@contextlib.contextmanager
def routed(broker, *tasks):
    """``task.delay`` sends to the test's queue over an explicit Redis connection (as in
    celery_worker.real_worker: this process's app was configured eager at start-up), to
    ``broker["url"]`` when given."""
    saved_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    conn = celery_app.connection_for_write(broker.get("url", BROKER))
    originals = {task: task.delay for task in tasks}
    for task in tasks:
        task.delay = lambda *args, task=task: task.apply_async(
            args=list(args), queue=broker["queue"], connection=conn
        )
    try:
        yield
    finally:
        for task, delay in originals.items():
            task.delay = delay
        celery_app.conf.task_always_eager = saved_eager
        conn.release()


@contextlib.contextmanager
def worker(broker, name: str, *, pool: str = "solo"):
    """A worker process on the test's queue; yields it (``.pid``, ``.log``)."""
    log = broker["tmp"] / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "-Q",
                broker["queue"],
                "-n",
                f"{name}-{broker['queue']}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=broker["env"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    process.log = log
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def children_of(pid: int) -> list[int]:
    try:
        return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except FileNotFoundError:
        return []


def upload(api, team, files):
    response = api.as_user(team.owner).post(
        f"/api/projects/{team.project.pk}/imports/",
        {"files": [SimpleUploadedFile(name, data) for name, data in files]},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return response.json()["id"]


def start_export(api, team, kind):
    response = api.as_user(team.supervisor).post(
        f"/api/projects/{team.project.pk}/exports/", {"kind": kind}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()["id"]


def export_files(settings) -> list[str]:
    folder = settings.EXPORT_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ---------------------------------------------------------------- FT1: a worker killed mid-task


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(150)
def test_worker_killed_mid_import_every_file_ends_read_or_failed_and_nothing_is_doubled(team, api, broker):
    slow = (SLOW_LINE * (400_000 // len(SLOW_LINE))).encode()
    quick = b"Interviewer: Where did you cross?\nParticipant: Near the river.\n"
    interviews_before = Interview.objects.count()
    with routed(broker, interview_tasks.process_import_batch):
        with worker(broker, "first") as first:
            batch_id = upload(api, team, [("LV-31.txt", slow), ("LV-32.txt", quick)])
            slow_file = ImportFile.objects.get(batch_id=batch_id, name="LV-31.txt")
            wait_for(
                lambda: ImportFile.objects.get(pk=slow_file.pk).status == "parsing",
                seconds=60,
                what="the worker to start reading the slow file",
                log=first.log,
            )
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        # Killed in the middle: the batch is running and its first file half read.
        assert ImportBatch.objects.get(pk=batch_id).status == "running"
        assert ImportFile.objects.get(pk=slow_file.pk).status == "parsing"
        with worker(broker, "second") as second:
            wait_for(
                lambda: ImportBatch.objects.get(pk=batch_id).status == "done",
                seconds=60,
                what="the new worker to finish the batch the first one left",
                log=second.log,
            )
    files = {f.name: f for f in ImportFile.objects.filter(batch_id=batch_id)}
    assert len(files) == 2  # no file twice
    assert files["LV-31.txt"].status == "failed" and "stopped unexpectedly" in files["LV-31.txt"].reason
    assert files["LV-32.txt"].status == "ready"
    assert ImportBatch.objects.get(pk=batch_id).processed_count == 2
    assert Interview.objects.count() == interviews_before  # nothing stored before review
    # The staging folder holds the readable file's parsed text only: no half-written leftovers.
    staged = sorted(p.name for p in (broker["tmp"] / "staging").iterdir())
    assert staged == [f"{files['LV-32.txt'].guid}.json"]


def seed_codings(team, n: int) -> None:
    """``n`` codings on a long interview, enough for an export to take a few seconds."""
    interview = make_interview(team.participant, text="Participant: " + "we walked " * 3000, by=team.owner)
    Coding.objects.bulk_create(
        [
            Coding(
                project=team.project,
                interview=interview,
                code=team.code,
                coder=team.coder,
                start=i,
                end=i + 2,
            )
            for i in range(n)
        ],
        batch_size=5000,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(150)
def test_worker_child_killed_mid_export_the_job_ends_failed_and_the_next_export_is_done(
    team, api, broker, settings
):
    seed_codings(team, 10_000)
    with routed(broker, coding_tasks.run_export), worker(broker, "exporter", pool="prefork") as w:
        job_id = start_export(api, team, "codings.xlsx")
        wait_for(
            lambda: ExportJob.objects.get(pk=job_id).status == "running",
            seconds=60,
            what="the worker to start the export",
            log=w.log,
        )
        (child,) = children_of(w.pid)
        os.kill(child, signal.SIGKILL)
        wait_for(
            lambda: ExportJob.objects.get(pk=job_id).status in ("done", "failed"),
            seconds=60,
            what="the killed export to end",
            log=w.log,
        )
        job = ExportJob.objects.get(pk=job_id)
        assert job.status == "failed" and job.message == exports.WORKER_DIED, (job.status, job.message)
        assert job.finished_at is not None
        assert export_files(settings) == []  # no half-written file left behind
        # The worker carries on with a new child: the next export is made.
        again = start_export(api, team, "codebook.csv")
        wait_for(
            lambda: ExportJob.objects.get(pk=again).status in ("done", "failed"),
            seconds=60,
            what="the next export",
            log=w.log,
        )
    assert ExportJob.objects.get(pk=again).status == "done"
    assert export_files(settings) == [f"{ExportJob.objects.get(pk=again).file_key}.export"]
    assert "WorkerLostError" in w.log.read_text()  # it really was killed mid-task


# ---------------------------------------------------------------- FT2: queued on commit


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_a_rolled_back_request_queues_nothing_and_a_committed_one_is_processed(team, steady):
    log = steady["worker"].log
    seen = len(log.read_text())
    with routed(steady, coding_tasks.run_export, interview_tasks.process_import_batch):
        with pytest.raises(RuntimeError), transaction.atomic():  # what ATOMIC_REQUESTS does on an error
            exports.start_export(project=team.project, by=team.supervisor, kind="codebook.csv")
            import_services.start_import(project=team.project, by=team.owner, files=[("LV-40.txt", b"x y z")])
            raise RuntimeError("the view failed after writing")
        assert not ExportJob.objects.exists() and not ImportBatch.objects.exists()
        with transaction.atomic():
            job = exports.start_export(project=team.project, by=team.supervisor, kind="codebook.csv")
        wait_for(
            lambda: ExportJob.objects.get(pk=job.pk).status == "done",
            seconds=60,
            what="the committed export",
            log=log,
        )
    # The queue is first in, first out: had the rolled-back request sent anything, the worker
    # would have received it before the committed job. It received the committed job only.
    received = log.read_text()[seen:]
    assert received.count(" received") == 1 and "coding.tasks.run_export[" in received
    assert "DoesNotExist" not in received and "ERROR" not in received


# ---------------------------------------------------------------- FT3: the broker is down


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(150)
def test_with_the_broker_down_jobs_are_recorded_and_the_sweep_sends_them_when_it_is_back(
    team, api, steady, caplog
):
    # Requests while nothing answers on the broker's port.
    down = {**steady, "url": f"redis://127.0.0.1:{closed_port()}/0"}
    started = time.monotonic()
    with routed(down, coding_tasks.run_export, interview_tasks.process_import_batch):
        job_id = start_export(api, team, "codebook.csv")
        batch_id = upload(api, team, [("LV-41.txt", b"Interviewer: Where?\nParticipant: Near the river.\n")])
    # Answered as recorded and waiting (202 'queued'), not as a failure, and without hanging.
    assert time.monotonic() - started < 15
    assert ExportJob.objects.get(pk=job_id).status == "queued"
    assert ImportBatch.objects.get(pk=batch_id).status == "queued"
    assert caplog.text.count("could not queue") == 2  # and the log says why they wait

    # The broker is back: the periodic sweeps send what waited (here without the usual delay).
    with routed(steady, coding_tasks.run_export, interview_tasks.process_import_batch):
        assert import_services.requeue_stalled_batches(minutes=0) == 1
        exports.sweep_exports(queued_minutes=0)
        wait_for(
            lambda: (
                ExportJob.objects.get(pk=job_id).status == "done"
                and ImportBatch.objects.get(pk=batch_id).status == "done"
            ),
            seconds=60,
            what="the recorded jobs to run",
            log=steady["worker"].log,
        )
    assert ImportFile.objects.get(batch_id=batch_id).status == "ready"


# ---------------------------------------------------------------- a message lost with the broker


def test_the_sweep_ends_a_batch_whose_worker_and_message_are_both_gone(team, settings, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    long_ago = timezone.now() - timedelta(hours=3)
    dead = ImportBatch.objects.create(
        project=team.project, created_by=team.owner, file_count=2, status="running"
    )
    ImportBatch.objects.filter(pk=dead.pk).update(created_at=long_ago)
    reading = ImportFile.objects.create(batch=dead, project=team.project, name="a.txt", status="parsing")
    waiting = ImportFile.objects.create(batch=dead, project=team.project, name="b.txt")
    live = ImportBatch.objects.create(
        project=team.project, created_by=team.owner, file_count=1, status="running"
    )
    live_file = ImportFile.objects.create(batch=live, project=team.project, name="c.txt", status="parsing")

    interview_tasks.sweep_abandoned_imports()

    dead.refresh_from_db()
    assert dead.status == "done" and dead.processed_count == 2
    for import_file in (reading, waiting):
        import_file.refresh_from_db()
        assert import_file.status == "failed" and "stopped unexpectedly" in import_file.reason
    # A batch a worker may still be reading is left alone.
    assert ImportBatch.objects.get(pk=live.pk).status == "running"
    assert ImportFile.objects.get(pk=live_file.pk).status == "parsing"
