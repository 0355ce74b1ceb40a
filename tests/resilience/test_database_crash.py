"""FT4: every write answered 2xx survives a PostgreSQL crash; during the outage requests get 503
with Retry-After and a clear message (never 500); the running app recovers by itself.

A private cluster (never the shared server) is killed with ``pg_ctl stop -m immediate`` while
writer threads stream coding creations through gunicorn; it is restarted a few seconds later.
"""

import threading
import time
from dataclasses import dataclass, field

import pytest
import requests

from .live import Gunicorn, PrivatePostgres, seed

WRITERS = 4
CRASH_AFTER_ACKS = 300
TOTAL_WRITES = 1000
OUTAGE_SECONDS = 4
RECOVERY_LIMIT_SECONDS = 10


@dataclass
class Answer:
    sent: float
    received: float
    status: int  # 0: no HTTP answer at all
    key: str = ""
    coding_id: int | None = None
    retry_after: str | None = None
    detail: str = ""


@dataclass
class Log:
    answers: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answer):
        with self.lock:
            self.answers.append(answer)

    def acked(self):
        with self.lock:
            return [a for a in self.answers if 200 <= a.status < 300]


def writer(base, project, interview, code, token, offset, log, stop):
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    url = f"{base}/api/projects/{project}/codings/"
    k = 0
    while not stop.is_set():
        body = {"interview": interview, "code": code, "start": offset + k, "end": offset + k + 7}
        # As the workbench does: one key per passage, so a retry of a write whose commit
        # outlived its answer gets that coding back (200) instead of a duplicate refusal.
        key = f"ft4-{offset + k}"
        sent = time.monotonic()
        try:
            r = session.post(url, json=body, headers={"Idempotency-Key": key}, timeout=15)
        except requests.RequestException:
            log.add(Answer(sent, time.monotonic(), 0, key))
            time.sleep(0.05)
            continue
        answer = Answer(sent, time.monotonic(), r.status_code, key, retry_after=r.headers.get("Retry-After"))
        if r.headers.get("Content-Type", "").startswith("application/json"):
            payload = r.json()
            answer.coding_id = payload.get("id") if r.status_code in (200, 201) else None
            answer.detail = str(payload.get("detail", ""))
        log.add(answer)
        if r.status_code in (200, 201):
            k += 1
        else:
            time.sleep(0.2)


def signed_in_browser(base, username, password):
    browser = requests.Session()
    login = f"{base}/accounts/login/"
    browser.get(login, timeout=10)
    r = browser.post(
        login,
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": login},
        timeout=10,
        allow_redirects=False,
    )
    assert r.status_code == 302, r.status_code
    return browser


@pytest.mark.timeout(600)
def test_acknowledged_codings_survive_a_database_crash_and_the_outage_answers_503(needs_postgres_binaries):
    with PrivatePostgres() as pg:
        url = pg.create_database("ft4")
        info = seed(url, coders=WRITERS, interviews=1, codings=20)
        project, interview, code = info["project"], info["interviews"][0], info["codes"][0]
        seeded = int(pg.psql("SELECT count(*) FROM coding_coding", dbname="ft4"))
        with Gunicorn(url, workers=2, threads=4) as server:
            workers_before = sorted(server.worker_pids())
            browser = signed_in_browser(server.url, "supervisor", info["password"])
            page = f"{server.url}/projects/{project}/"
            assert browser.get(page, timeout=10).status_code == 200

            log, stop = Log(), threading.Event()
            threads = [
                threading.Thread(
                    target=writer,
                    args=(server.url, project, interview, code, token, i * 5000, log, stop),
                    daemon=True,
                )
                for i, token in enumerate(info["tokens"]["coders"])
            ]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 180
            while len(log.acked()) < CRASH_AFTER_ACKS and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(log.acked()) >= CRASH_AFTER_ACKS, "writes did not get going"

            pg.crash()
            crashed = time.monotonic()
            time.sleep(1)
            page_during_outage = browser.get(page, timeout=10)
            api_read_during_outage = requests.get(
                f"{server.url}/api/projects/{project}/codings/",
                headers={"Authorization": f"Token {info['tokens']['owner']}"},
                timeout=10,
            )
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - crashed)))
            restarting = time.monotonic()
            pg.start()
            back = time.monotonic()

            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                acked_after = sum(1 for a in log.acked() if a.sent > back)
                if len(log.answers) >= TOTAL_WRITES and acked_after >= CRASH_AFTER_ACKS:
                    break
                time.sleep(0.1)
            stop.set()
            for t in threads:
                t.join(timeout=30)
            page_after = browser.get(page, timeout=10)
            workers_after = sorted(server.worker_pids())
            server_log = server.log()

        answers = list(log.answers)
        acked_ids = {a.coding_id for a in answers if a.status in (200, 201)}
        stored = {int(x) for x in pg.psql("SELECT id FROM coding_coding", dbname="ft4").split()}

    # Nothing acknowledged is lost.
    assert None not in acked_ids
    missing = acked_ids - stored
    assert not missing, f"{len(missing)} acknowledged codings are missing after the crash"
    # Every retry until an answer came, each with its passage's key: what is stored is exactly
    # what was acknowledged, nothing twice.
    assert len(stored) - seeded == len(acked_ids)

    # Only three answers exist: created, 503 while the database was away, or (for a retry of a
    # write the crash cut off after its commit) the coding that write made; never a 500.
    statuses = {a.status for a in answers}
    assert statuses <= {200, 201, 503}, (statuses, server_log)
    replays = [a for a in answers if a.status == 200]
    outage = [a for a in answers if a.sent > crashed and a.received < restarting]
    assert outage, "no request was made during the outage"
    assert all(a.status == 503 for a in outage)
    assert all(a.retry_after == "5" and "database is unavailable" in a.detail for a in outage)
    assert page_during_outage.status_code == 503
    assert page_during_outage.headers["Retry-After"] == "5"
    assert "database is unavailable" in page_during_outage.text
    assert api_read_during_outage.status_code == 503
    assert "database is unavailable" in api_read_during_outage.json()["detail"]

    # The same gunicorn workers serve again within seconds of the database returning.
    first_ack_after = min(a.received for a in answers if a.status == 201 and a.sent >= back)
    recovery = first_ack_after - back
    assert recovery <= RECOVERY_LIMIT_SECONDS, recovery
    assert page_after.status_code == 200
    assert workers_after == workers_before
    unavailable = sum(1 for a in answers if a.status == 503)
    print(
        f"\nFT4: {len(answers)} writes, {len(acked_ids)} acknowledged and all stored "
        f"(exactly the {len(stored) - seeded} the writers stored), "
        f"{unavailable} answered 503 during the outage, "
        f"{len(replays)} retries answered with the coding their cut-off first try had stored, "
        f"recovered {recovery:.2f} s after PostgreSQL returned"
    )
