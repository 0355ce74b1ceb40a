"""LD1: realistic coding load against gunicorn + PostgreSQL, with locust (headless, loopback only).

``.venv/bin/python benchmarks/load.py [--users 50] [--duration 120] [--workers 3] [--threads 4]``

Starts a private PostgreSQL cluster (tests/resilience/live.py; never the shared server), seeds a
project (the shared benchmark corpus: 10 interviews of ~8,000 words, 30 codes, 1,500 codings, 50
coders), serves it with gunicorn on 127.0.0.1, and runs locust for ``--duration`` seconds with
``--users`` simulated coders, each with their own API token:

* 70% reads: an interview's coding data (transcript, turns, codings: what the coding view loads)
  and the codings of an interview (API list);
* 25% writes: creating a coding, or changing (PATCH) one the same coder made;
* 5% analytics (code frequencies, as the supervisor);

while one export (QDPX of the whole project) after another runs for the whole time. Prints the
throughput, p50/p95/p99 per kind, errors, and checks that the codings stored equal the codings
acknowledged (201). Exits 1 if there were errors or the counts differ; the latency targets
(p95 write <= 100 ms, read <= 200 ms on a quiet 2-core machine) are reported, and enforced only
with ``--enforce-targets`` (a shared, busy machine measures its neighbours as much as the app).

Run as a locustfile (``locust -f benchmarks/load.py``) it defines the simulated coder.
"""

from __future__ import annotations

import json
import os
import random
import sys

KINDS = {
    "read transcript": "read",
    "read codings": "read",
    "create coding": "write",
    "change coding": "write",
    "analytics": "analytics",
}

if __name__ != "__main__":  # imported by locust: the simulated coder
    from locust import HttpUser, between, events, task

    INFO = json.loads(open(os.environ["LOAD_INFO"]).read())  # noqa: SIM115
    _tokens = iter(INFO["tokens"]["coders"] * 10)
    ACKED = {"created": 0, "changed": 0}

    class Coder(HttpUser):
        wait_time = between(0.5, 1.5)

        def on_start(self):
            self.token = next(_tokens)
            self.headers = {"Authorization": f"Token {self.token}"}
            self.project = INFO["project"]
            self.mine: list[int] = []
            self.rng = random.Random(self.token)

        def _interview(self):
            index = self.rng.randrange(len(INFO["interviews"]))
            return INFO["interviews"][index], INFO["interview_lengths"][index]

        @task(40)
        def read_transcript(self):
            interview, _ = self._interview()
            self.client.get(
                f"/api/projects/{self.project}/interviews/{interview}/coding-data/",
                headers=self.headers,
                name="read transcript",
            )

        @task(30)
        def read_codings(self):
            interview, _ = self._interview()
            self.client.get(
                f"/api/projects/{self.project}/codings/?interview={interview}&page_size=200",
                headers=self.headers,
                name="read codings",
            )

        @task(15)
        def create_coding(self):
            interview, length = self._interview()
            start = self.rng.randrange(0, length - 200)
            body = {
                "interview": interview,
                "code": self.rng.choice(INFO["codes"]),
                "start": start,
                "end": start + self.rng.randrange(5, 150),
            }
            with self.client.post(
                f"/api/projects/{self.project}/codings/",
                json=body,
                headers=self.headers,
                name="create coding",
                catch_response=True,
            ) as r:
                if r.status_code == 201:
                    self.mine.append(r.json()["id"])
                    ACKED["created"] += 1
                elif r.status_code == 400 and "already" in r.text:
                    r.success()  # the same passage with the same code twice: a valid refusal
                else:
                    r.failure(f"{r.status_code}")

        @task(10)
        def change_coding(self):
            if not self.mine:
                return self.create_coding()
            coding = self.rng.choice(self.mine)
            with self.client.patch(
                f"/api/projects/{self.project}/codings/{coding}/",
                json={"comment": f"changed {self.rng.random():.6f}", "needs_review": self.rng.random() < 0.5},
                headers=self.headers,
                name="change coding",
                catch_response=True,
            ) as r:
                if r.status_code == 200:
                    ACKED["changed"] += 1
                else:
                    r.failure(f"{r.status_code}")

        @task(5)
        def analytics(self):
            self.client.get(
                f"/api/projects/{self.project}/analytics/frequencies/",
                headers={"Authorization": f"Token {INFO['tokens']['supervisor']}"},
                name="analytics",
            )

    @events.quitting.add_listener
    def _summary(environment, **kwargs):
        stats = {}
        for (name, _method), entry in environment.stats.entries.items():
            stats[name] = {
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "times": {str(k): v for k, v in entry.response_times.items()},
            }
        with open(os.environ["LOAD_RESULT"], "w") as out:
            json.dump({"stats": stats, "acked": ACKED}, out)


def percentile(times: dict[int, int], q: float) -> float:
    """The q-quantile of locust's rounded response-time histogram {ms: count}."""
    total = sum(times.values())
    if not total:
        return 0.0
    seen = 0
    for ms in sorted(times):
        seen += times[ms]
        if seen >= q * total:
            return float(ms)
    return float(max(times))


def main(argv=None) -> int:
    import argparse
    import shutil
    import subprocess
    import tempfile
    import threading
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from tests.resilience.live import Gunicorn, PrivatePostgres, request, seed

    parser = argparse.ArgumentParser(description="LD1 load test (locust, loopback only)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=120, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--enforce-targets", action="store_true", help="exit 1 when a p95 target is missed")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="qc-load-"))
    with PrivatePostgres() as pg:
        url = pg.create_database("load")
        started = time.monotonic()
        info = seed(url, coders=args.users, interviews=10, codings=1500)
        print(
            f"seeded in {time.monotonic() - started:.0f} s: "
            f"{len(info['interviews'])} interviews, {args.users} coders"
        )
        seeded = int(pg.psql("SELECT count(*) FROM coding_coding", dbname="load"))
        (tmp / "info.json").write_text(json.dumps(info))
        with Gunicorn(url, workers=args.workers, threads=args.threads) as server:
            stop = threading.Event()
            exports = {"done": 0, "failed": 0, "seconds": []}

            def export_loop():
                while not stop.is_set():
                    t0 = time.monotonic()
                    status, _, body = request(
                        "POST",
                        f"{server.url}/api/projects/{info['project']}/exports/",
                        token=info["tokens"]["owner"],
                        body={"kind": "qdpx"},
                        timeout=300,
                    )
                    job_status = body.get("status") if isinstance(body, dict) else None
                    while status == 202 and job_status not in ("done", "failed") and not stop.is_set():
                        time.sleep(0.5)
                        _, _, job = request(
                            "GET",
                            f"{server.url}/api/projects/{info['project']}/exports/{body['id']}/",
                            token=info["tokens"]["owner"],
                        )
                        job_status = job.get("status") if isinstance(job, dict) else None
                    if job_status == "done":
                        exports["done"] += 1
                        exports["seconds"].append(time.monotonic() - t0)
                    elif not stop.is_set():
                        exports["failed"] += 1
                        print(f"export answered {status}, job {job_status}: {str(body)[:200]}")
                        time.sleep(1)

            exporter = threading.Thread(target=export_loop, daemon=True)
            exporter.start()
            env = dict(os.environ, LOAD_INFO=str(tmp / "info.json"), LOAD_RESULT=str(tmp / "result.json"))
            locust = [
                str(Path(sys.executable).parent / "locust"),
                "-f",
                str(Path(__file__).resolve()),
                "--headless",
                "--host",
                server.url,
                "-u",
                str(args.users),
                "-r",
                str(args.spawn_rate),
                "-t",
                f"{args.duration}s",
                "--stop-timeout",
                "30",
                "--only-summary",
                "--loglevel",
                "WARNING",
            ]
            subprocess.run(locust, env=env, cwd=root, check=False, timeout=args.duration + 300)
            stop.set()
            exporter.join(timeout=300)
        stored = int(pg.psql("SELECT count(*) FROM coding_coding", dbname="load")) - seeded

    result = json.loads((tmp / "result.json").read_text())
    shutil.rmtree(tmp, ignore_errors=True)
    stats, acked = result["stats"], result["acked"]
    print(
        f"\nLD1: {args.users} simulated coders for {args.duration} s against gunicorn "
        f"({args.workers} workers x {args.threads} threads) + PostgreSQL on 127.0.0.1; "
        f"{os.cpu_count()} cores; "
        f"load average now {os.getloadavg()[0]:.1f}"
    )
    total = sum(s["requests"] for s in stats.values())
    errors = sum(s["failures"] for s in stats.values())
    print(f"throughput {total / args.duration:.1f} requests/s ({total} requests), errors {errors}")
    by_kind: dict[str, dict[str, int]] = {}
    for name, s in sorted(stats.items()):
        times = {int(k): v for k, v in s["times"].items()}
        print(
            f"  {name:<16} n={s['requests']:<6} p50 {percentile(times, 0.5):6.0f} ms  "
            f"p95 {percentile(times, 0.95):6.0f} ms  p99 {percentile(times, 0.99):6.0f} ms  "
            f"errors {s['failures']}"
        )
        kind = by_kind.setdefault(KINDS.get(name, name), {})
        for ms, n in times.items():
            kind[ms] = kind.get(ms, 0) + n
    p95 = {}
    for kind, times in by_kind.items():
        p95[kind] = percentile(times, 0.95)
        print(
            f"  all {kind:<12} p50 {percentile(times, 0.5):6.0f} ms  p95 {p95[kind]:6.0f} ms  "
            f"p99 {percentile(times, 0.99):6.0f} ms"
        )
    seconds = exports["seconds"]
    print(
        f"exports (QDPX of the project, one after another): {exports['done']} done, "
        f"{exports['failed']} failed" + (f", {sum(seconds) / len(seconds):.1f} s each" if seconds else "")
    )
    print(
        f"codings acknowledged {acked['created']}, stored {stored}; changes acknowledged {acked['changed']}"
    )
    targets = {"write": 100, "read": 200}
    for kind, limit in targets.items():
        verdict = "met" if p95.get(kind, 0) <= limit else "MISSED"
        print(f"target p95 {kind} <= {limit} ms: {verdict} ({p95.get(kind, 0):.0f} ms)")
    failed = errors > 0 or stored != acked["created"] or exports["done"] == 0 or exports["failed"] > 0
    if args.enforce_targets and any(p95.get(k, 0) > v for k, v in targets.items()):
        failed = True
    print("LD1 " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
