"""Faults around background jobs, with a REAL Redis broker and REAL Celery workers (FT1–FT3).

FT1: a worker SIGKILLed in the middle of an import or an export; the broker hands the message
out again (acks_late, reject_on_worker_lost, or Redis's visibility timeout once a new worker
runs); every job ends done or failed, never stuck 'running', with no row twice and no half
of anything. FT2: tasks are queued when the transaction commits, so a rolled-back request
queues nothing. FT3: with the broker unreachable, an upload and an export are answered as
recorded ('queued', never a 500) and the sweep sends them once the broker is back.

Workers are separate processes that must see what the test committed, so these run on the
PostgreSQL pass with ``django_db(transaction=True)`` and skip on SQLite (see celery_worker.py).

Repetitions (SECURITY.md FT1, FT2): ``FAULT_RUNS`` kills at random points of an import and as many
of an export, and ``5 × FAULT_RUNS`` FT2 rounds. The normal suite runs 2; ``make resilience`` runs
20 (20 + 20 kills, 100 rounds) and, having asked for them, fails rather than skips without
PostgreSQL and Redis. Each run's kill point comes from ``FAULT_SEED`` (printed; random if unset),
so ``FAULT_SEED=<seed>`` replays the same delays and targets.
"""

import contextlib
import csv
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
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
from .resilience.live import celery_worker_command

FAULT_RUNS = int(os.environ.get("FAULT_RUNS") or 2)
FT2_ROUNDS = 5 * FAULT_RUNS
FAULT_SEED = int(os.environ.get("FAULT_SEED") or random.SystemRandom().randrange(1_000_000))
# The worker's visibility timeout in these tests (below) + 60 s: SECURITY.md's bound for a job
# to end done or failed after its worker was killed.
CONVERGE_SECONDS = 2 + 60

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
    asked = os.environ.get("FAULT_RUNS")  # `make resilience` asks for these runs: no silent skip
    if connection.vendor != "postgresql":
        if asked:
            pytest.fail("FAULT_RUNS is set but the fault runs need PostgreSQL: set DATABASE_URL=postgres://…")
        pytest.skip("a worker process cannot open the in-memory SQLite test database; runs on PostgreSQL")
    try:
        client = redis_client()
    except pytest.skip.Exception as skipped:
        if asked:
            pytest.fail(f"FAULT_RUNS is set but {skipped}")
        raise
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
            celery_worker_command(
                queue=broker["queue"], name=f"{name}-{broker['queue']}@%h", pool=pool, loglevel="INFO"
            ),
            cwd=ROOT,
            env=broker["env"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the worker and its pool die together
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


# ---------------------------------------------------------------- FT1 repeated: random kill points


class Workers:
    """A prefork worker kept across runs: a killed pool child is replaced by its parent, and a
    new worker is started only after the whole worker was killed."""

    def __init__(self, broker, stack: contextlib.ExitStack):
        self.broker, self.stack, self.started = broker, stack, 0
        self.start()

    def start(self) -> None:
        self.started += 1
        self.process = self.stack.enter_context(worker(self.broker, f"w{self.started}", pool="prefork"))
        wait_for(
            lambda: " ready." in self.process.log.read_text() and children_of(self.process.pid),
            seconds=60,
            what="a worker to start",
            log=self.process.log,
        )

    def kill(self, target: str) -> None:
        if target == "worker":  # the worker and its pool child at once (OOM killer, host lost)
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.start()
            return
        gone = set(children_of(self.process.pid))
        if not gone:
            pytest.fail(f"the worker has no pool child to kill\n{self.process.log.read_text()[-3000:]}")
        for child in gone:
            os.kill(child, signal.SIGKILL)
        wait_for(
            lambda: bool(children_of(self.process.pid)) and not gone & set(children_of(self.process.pid)),
            seconds=30,
            what="the worker to replace its killed pool child",
            log=self.process.log,
        )


def kill_at_random_points(kind: str, workers: Workers, *, start, point, finished, check):
    """Three uninterrupted runs (numbered 0, -1, -2) time the job; then FAULT_RUNS runs each start
    a job and, after a delay uniform over 0 to the longest of those times (a pool child fresh after
    a kill is slower than a warm one), SIGKILL the pool child (3 runs in 4) or the whole worker,
    wait for the job to end and ``check`` it. So most kills land while the job runs and some before
    it starts or after it ends; ``point`` says where each landed (read just before the kill).
    Returns the problems, each naming its run and seed, and the tally of kill points."""
    times, problems = [], []
    for run in (0, -1, -2):
        job = start(run)
        began = time.monotonic()
        wait_for(
            lambda job=job: finished(job),
            seconds=60,
            what=f"an uninterrupted {kind}",
            log=workers.process.log,
        )
        times.append(time.monotonic() - began)
        outcome, found = check(job, run)
        problems += [f"run {run} (not interrupted): {p}" for p in found]
    calm = max(times)
    print(f"\nFT1 {kind}: FAULT_SEED={FAULT_SEED}; uninterrupted: {calm:.2f} s (longest of 3), {outcome}")
    tally: dict[str, int] = {}
    slowest = 0.0
    for run in range(1, FAULT_RUNS + 1):
        seed = f"{FAULT_SEED}:{kind}:{run}"
        rng = random.Random(seed)
        delay = rng.uniform(0, calm)
        target = "worker" if rng.random() < 0.25 else "child"
        t_run = time.monotonic()
        job = start(run)
        time.sleep(delay)
        phase, where = point(job)
        killed = time.monotonic()
        workers.kill(target)
        while not finished(job) and time.monotonic() - killed < CONVERGE_SECONDS:
            time.sleep(0.02)
        took = time.monotonic() - killed
        slowest = max(slowest, took)
        label = f"run {run}/{FAULT_RUNS} (seed {seed}: {target} killed after {delay:.2f} s, {phase}: {where})"
        if not finished(job):
            problems.append(f"{label}: neither done nor failed {CONVERGE_SECONDS} s after the kill")
            break  # what follows would inherit this run's mess
        outcome, found = check(job, run)
        problems += [f"{label}: {p}" for p in found]
        key = f"{phase} -> {outcome}"
        tally[key] = tally.get(key, 0) + 1
        whole = time.monotonic() - t_run
        print(f"  {label} -> {outcome}; settled {took:.2f} s after the kill, {whole:.2f} s in all")
    print(f"FT1 {kind}: {tally}; slowest {slowest:.2f} s to settle after a kill; {workers.started} workers")
    return problems, tally


def staged(broker, import_file, kind: str):
    return broker["tmp"] / "staging" / f"{import_file.guid}.{kind}"


def import_run_files(run: int) -> dict[str, bytes]:
    """A slow file and a quick one, their texts unique to the run (else the second run's would be
    turned away as already waiting for review)."""
    slow = SLOW_LINE * (IMPORT_SLOW_BYTES // len(SLOW_LINE)) + f"Interviewer: Thank you, run {run}.\n"
    quick = f"Interviewer: Where did you cross?\nParticipant: Near the river, run {run}.\n"
    return {f"FT1-{run}-slow.txt": slow.encode(), f"FT1-{run}-quick.txt": quick.encode()}


# Big enough that reading it takes about a second here: most random kills land mid-read.
IMPORT_SLOW_BYTES = 200_000


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120 + 20 * FAULT_RUNS)
def test_worker_killed_at_random_points_of_imports_every_batch_ends_with_nothing_doubled_or_half_read(
    team, api, broker
):
    interviews_before = Interview.objects.count()

    def start(run):
        return upload(api, team, list(import_run_files(run).items()))

    def finished(batch_id):
        return ImportBatch.objects.get(pk=batch_id).status == "done"

    def point(batch_id):
        status = ImportBatch.objects.get(pk=batch_id).status
        if status == "queued":
            return "before", "batch not yet claimed"
        if status == "done":
            return "after", "batch marked done"
        files = {f.name.rsplit("-", 1)[-1]: f for f in ImportFile.objects.filter(batch_id=batch_id)}
        slow, quick = files["slow.txt"], files["quick.txt"]
        if slow.status == "parsing":
            if staged(broker, slow, "json").exists():
                return "during", "slow file staged, its row not yet written"
            return "during", "reading the slow file"
        if quick.status in ("queued", "parsing"):
            return "during", "slow file written, quick one not"
        return "during", "both files written, batch not yet marked done"

    def check(batch_id, run):
        problems = []
        sent = import_run_files(run)
        files = list(ImportFile.objects.filter(batch_id=batch_id).order_by("name"))
        if sorted(f.name for f in files) != sorted(sent) or len(files) != 2:
            problems.append(f"files {[f.name for f in files]}, not one row for each of {sorted(sent)}")
        if ImportBatch.objects.get(pk=batch_id).processed_count != len(sent):
            problems.append("processed_count is not the number of files")
        if Interview.objects.count() != interviews_before:
            problems.append("the task stored an interview (only the researcher's review may)")
        outcome = []
        for f in files:
            outcome.append(f"{f.name.rsplit('-', 1)[-1][:-4]} {f.status}")
            if staged(broker, f, "upload").exists():
                problems.append(f"{f.name}: its upload is still staged after the task ended")
            if f.status == "ready":
                try:
                    text = json.loads(staged(broker, f, "json").read_text("utf-8"))["text"]
                except (FileNotFoundError, ValueError) as exc:
                    problems.append(f"{f.name}: ready, its staged text unreadable ({type(exc).__name__})")
                    continue
                if text.strip() != sent[f.name].decode().strip():
                    problems.append(f"{f.name}: ready, {len(text)} characters staged of {len(sent[f.name])}")
            elif f.status == "failed":
                if "stopped unexpectedly" not in f.reason:
                    problems.append(f"{f.name}: failed for another reason: {f.reason}")
                if staged(broker, f, "json").exists():
                    problems.append(f"{f.name}: failed but its staged text was left behind")
            else:
                problems.append(f"{f.name}: left {f.status}")
        return ", ".join(outcome), problems

    with routed(broker, interview_tasks.process_import_batch), contextlib.ExitStack() as stack:
        problems, _ = kill_at_random_points(
            "import", Workers(broker, stack), start=start, point=point, finished=finished, check=check
        )
    # Over all runs: nothing left running, and the staging folder holds exactly the ready files' text.
    assert not ImportBatch.objects.exclude(status="done").exists(), "a batch was left queued or running"
    assert not ImportFile.objects.filter(status__in=["queued", "parsing"]).exists(), "a file was left reading"
    ready = {f"{g}.json" for g in ImportFile.objects.filter(status="ready").values_list("guid", flat=True)}
    assert {p.name for p in (broker["tmp"] / "staging").iterdir()} == ready
    assert not problems, "\n".join(problems)


# Enough codings for a CSV export to take about a second here.
EXPORT_CODINGS = 25_000


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120 + 20 * FAULT_RUNS)
def test_worker_killed_at_random_points_of_exports_every_job_ends_done_or_failed_with_no_partial_file(
    team, api, broker, settings
):
    seed_codings(team, EXPORT_CODINGS)
    rows = Coding.objects.filter(project=team.project, interview__anonymised_at__isnull=False).count()

    def start(run):
        return start_export(api, team, "codings.csv")

    def finished(job_id):
        return ExportJob.objects.get(pk=job_id).status in ("done", "failed")

    def point(job_id):
        job = ExportJob.objects.get(pk=job_id)
        if job.status == "queued":
            return "before", "job not yet claimed"
        if job.status in ("done", "failed"):
            return "after", f"job marked {job.status}"
        final = exports.file_path(job)
        if final.exists():
            return "during", "file complete, job not yet marked done"
        if final.with_suffix(".part").exists():
            return "during", f"writing the file ({job.progress}%)"
        return "during", "job claimed, file not yet opened"

    def check(job_id, run):
        job = ExportJob.objects.get(pk=job_id)
        final = exports.file_path(job)
        problems = []
        if final.with_suffix(".part").exists():
            problems.append("a half-written .part file was left behind")
        if job.finished_at is None:
            problems.append("no finished_at")
        if job.status == "done":
            try:
                written = list(csv.reader(io.StringIO(final.read_text("utf-8-sig"))))
            except FileNotFoundError:
                return "done", [*problems, "done but its file is missing"]
            if len(written) - 1 != rows:
                problems.append(f"done with {len(written) - 1} rows of {rows}")
        elif job.status == "failed":
            if job.message != exports.WORKER_DIED:
                problems.append(f"failed with another message: {job.message}")
            if final.exists():
                problems.append("failed but its file was left behind")
        return job.status, problems

    with routed(broker, coding_tasks.run_export), contextlib.ExitStack() as stack:
        problems, _ = kill_at_random_points(
            "export", Workers(broker, stack), start=start, point=point, finished=finished, check=check
        )
    assert not ExportJob.objects.filter(status__in=["queued", "running"]).exists(), "a job was left running"
    done = {f"{k}.export" for k in ExportJob.objects.filter(status="done").values_list("file_key", flat=True)}
    assert set(export_files(settings)) == done  # one file per done job, nothing else
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- FT2: queued on commit


RECEIVED = re.compile(r"Task ([\w.]+)\[[0-9a-f-]+\] received")


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120 + 2 * FT2_ROUNDS)
def test_over_many_rounds_rolled_back_requests_queue_nothing_and_committed_ones_are_all_processed(
    team, steady
):
    log = steady["worker"].log
    first = len(log.read_text())
    problems = []
    began = time.monotonic()
    with routed(steady, coding_tasks.run_export, interview_tasks.process_import_batch):
        for n in range(1, FT2_ROUNDS + 1):
            seen = len(log.read_text())
            text = f"Interviewer: Round {n}?\nParticipant: Yes, round {n}.\n".encode()
            with pytest.raises(RuntimeError), transaction.atomic():  # what ATOMIC_REQUESTS does on an error
                lost_job = exports.start_export(project=team.project, by=team.supervisor, kind="codebook.csv")
                lost_batch = import_services.start_import(
                    project=team.project, by=team.owner, files=[(f"FT2-{n}-lost.txt", text)]
                )
                raise RuntimeError("the view failed after writing")
            if (
                ExportJob.objects.filter(pk=lost_job.pk).exists()
                or ImportBatch.objects.filter(pk=lost_batch.pk).exists()
            ):
                problems.append(f"round {n}: a rolled-back row is in the database")
            with transaction.atomic():
                job = exports.start_export(project=team.project, by=team.supervisor, kind="codebook.csv")
                batch = import_services.start_import(
                    project=team.project, by=team.owner, files=[(f"FT2-{n}.txt", text)]
                )
                # A task sent before the commit would be taken by the worker now, find no row
                # and leave the job queued for ever: leave it the time to do so.
                time.sleep(0.05)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (
                ExportJob.objects.get(pk=job.pk).status == "done"
                and ImportBatch.objects.get(pk=batch.pk).status == "done"
            ):
                time.sleep(0.01)
            processed = ImportFile.objects.filter(batch=batch, status="ready").exists()
            if ExportJob.objects.get(pk=job.pk).status != "done" or not processed:
                problems.append(f"round {n}: the committed export or import was not processed within 60 s")
                break
            # The queue is first in, first out: had the rolled-back request sent anything, the
            # worker would have received it before the committed tasks. It received those only.
            received = sorted(RECEIVED.findall(log.read_text()[seen:]))
            if received != ["coding.tasks.run_export", "interviews.tasks.process_import_batch"]:
                problems.append(f"round {n}: the worker received {received}")
    took = time.monotonic() - began
    print(f"\nFT2: {FT2_ROUNDS} rounds in {took:.1f} s ({took / FT2_ROUNDS:.2f} s a round)")
    assert not problems, "\n".join(problems)
    worker_log = log.read_text()[first:]  # everything the worker wrote over the rounds
    assert len(RECEIVED.findall(worker_log)) == 2 * FT2_ROUNDS
    assert "DoesNotExist" not in worker_log
    assert "ERROR" not in worker_log and "Traceback" not in worker_log, worker_log[-3000:]


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
