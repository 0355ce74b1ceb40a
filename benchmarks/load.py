"""LD1: realistic coding load against gunicorn + PostgreSQL, with locust (headless, loopback only).

``.venv/bin/python benchmarks/load.py [--users 50] [--duration 120] [--workers 4] [--threads 2]``

Starts a private PostgreSQL cluster (tests/resilience/live.py; never the shared server), seeds a
project (the shared benchmark corpus: 10 interviews of ~8,000 words, 30 codes, 1,500 codings, 50
coders), serves it with gunicorn on 127.0.0.1 and a Celery worker on Redis (database 13, flushed),
as deployed, and runs locust for ``--duration`` seconds with ``--users`` simulated coders, each
with their own API token:

* 70% reads: an interview's coding data (transcript, turns, codings: what the coding view loads)
  and the codings of an interview (API list);
* 25% writes: creating a coding, or changing (PATCH, with If-Match) one the same coder made;
* 5% analytics (code frequencies, as the supervisor).

Once every user has arrived, windows of ``--window`` seconds alternate: in one no export runs,
in the next one export (QDPX of the whole project) after another runs in the worker. The worker
runs in a cgroup with docker-compose.yml's CPU settings for it (where one is writable: root):
at most ``--worker-cpus`` of a core and a CPU weight of ``--worker-shares`` against the web
server's and the database's 1024. Where no cgroup is writable, the idle CPU class (``chrt
--idle``) stands in for the low weight and the cap is not applied (the summary says so).
Alternating windows, rather than a baseline first, keep the comparison fair: the codings list
every coder reads grows through the run, so later requests are slower with or without an
export. ``--no-export`` is the control: the same windows with no export in any, which shows
what the comparison reads from noise alone.

Prints the throughput, p50/p95/p99 per kind, errors, p95 of requests that started while an
export ran and of those that started in windows without one (SECURITY.md LD1: an export may
raise it by at most 20%),
and checks that the codings stored equal the codings acknowledged (201). Exits 1 if there were
errors or the counts differ; the latency targets (p95 write <= 100 ms, read <= 200 ms on a
quiet 2-core machine) are reported, and enforced only with ``--enforce-targets`` (a shared,
busy machine measures its neighbours as much as the app).

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

if __name__ != "__main__" and "LOAD_INFO" in os.environ:  # imported by locust: the simulated coder
    from locust import FastHttpUser, between, events, task

    INFO = json.loads(open(os.environ["LOAD_INFO"]).read())  # noqa: SIM115
    _tokens = iter(INFO["tokens"]["coders"] * 10)
    ACKED = {"created": 0, "changed": 0}
    SEEN: list[tuple[float, str, float, int]] = []  # (end, name, milliseconds, failed)

    @events.request.add_listener
    def _record(request_type, name, response_time, response_length, exception=None, start_time=None, **kw):
        SEEN.append((start_time + response_time / 1000, name, response_time, int(exception is not None)))

    class Coder(FastHttpUser):
        wait_time = between(0.5, 1.5)

        def on_start(self):
            self.token = next(_tokens)
            self.headers = {"Authorization": f"Token {self.token}"}
            self.project = INFO["project"]
            self.mine: dict[int, str] = {}  # coding id -> its version (ETag)
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
                    self.mine[r.json()["id"]] = r.headers.get("ETag")
                    ACKED["created"] += 1
                elif r.status_code == 409 and "already" in r.text:
                    r.success()  # the same passage with the same code twice: a valid refusal
                else:
                    r.failure(f"{r.status_code}")

        @task(10)
        def change_coding(self):
            if not self.mine:
                return self.create_coding()
            coding, version = self.rng.choice(list(self.mine.items()))
            with self.client.patch(
                f"/api/projects/{self.project}/codings/{coding}/",
                json={"comment": f"changed {self.rng.random():.6f}", "needs_review": self.rng.random() < 0.5},
                headers={**self.headers, "If-Match": version},
                name="change coding",
                catch_response=True,
            ) as r:
                if r.status_code == 200:
                    self.mine[coding] = r.headers.get("ETag")
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
            json.dump({"stats": stats, "acked": ACKED, "seen": SEEN}, out)


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


def in_export_window(moment: float, since: float, window: float) -> bool:
    """Whether ``moment`` falls in a window with exports: windows of ``window`` seconds alternate
    from ``since`` (when every user has arrived), the first without."""
    return moment >= since and int((moment - since) // window) % 2 == 1


def phase_of(start: float, running: list[tuple[float, float]], export_window, *, control: bool) -> str | None:
    """Where a request that started at ``start`` counts: "export running" when it started while
    an export ran (``running``: their start and end times), "no export" when it started in a
    window without exports, None when it started between two exports of an export window. In
    the control run (no exports), by the kind of window it started in.

    A request is placed by the moment it started, never by how long it took: placing every
    request that overlapped an export with the export would put long requests there more often
    than short ones (a longer request overlaps more), and so raise that p95 whatever the export
    did."""
    if control:
        return "export running" if export_window(start) else "no export"
    if any(a <= start <= b for a, b in running):
        return "export running"
    if not export_window(start):
        return "no export"
    return None


def build_parser():
    import argparse

    parser = argparse.ArgumentParser(description="LD1 load test (locust, loopback only)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=120, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=10)
    # 4 x 2 measured better than 3 x 4 on 2 cores (less waiting for each process's GIL).
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13", help="Redis database (flushed)")
    parser.add_argument("--window", type=float, default=10, help="seconds per window without / with exports")
    parser.add_argument(
        "--worker-cpus",
        type=float,
        default=0.25,
        help="CPU cap of the worker, in cores, as WORKER_CPUS in docker-compose.yml (0: none)",
    )
    parser.add_argument(
        "--worker-shares",
        type=int,
        default=2,
        help="CPU weight of the worker (a normal process has 1024), as cpu_shares in docker-compose.yml",
    )
    parser.add_argument("--no-export", action="store_true", help="control run: the same windows, no exports")
    parser.add_argument("--enforce-targets", action="store_true", help="exit 1 when a p95 target is missed")
    return parser


def main(argv=None) -> int:
    import shutil
    import subprocess
    import tempfile
    import threading
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from tests.resilience.live import CeleryWorker, Gunicorn, PrivatePostgres, request, seed

    args = build_parser().parse_args(argv)

    import redis

    redis.Redis.from_url(args.broker).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="qc-load-"))
    folders = {"EXPORT_DIR": str(tmp / "exports"), "IMPORT_STAGING_DIR": str(tmp / "staging")}
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
        with (
            Gunicorn(
                url, workers=args.workers, threads=args.threads, CELERY_BROKER_URL=args.broker, **folders
            ) as server,
            CeleryWorker(
                url, args.broker, cpus=args.worker_cpus, shares=args.worker_shares, **folders
            ) as worker,
        ):
            if worker.cap:
                capped = f"CPU capped at {args.worker_cpus:g} cores, weight {args.worker_shares}"
            elif args.worker_cpus or args.worker_shares:
                capped = "CPU not capped (no writable cgroup)" + (
                    "; idle CPU class for its low weight" if args.worker_shares else ""
                )
            else:
                capped = "CPU not capped"
            stop = threading.Event()
            exports = {"done": 0, "failed": 0, "seconds": [], "running": []}
            measured_from = time.time() + 3600  # set when the load starts

            def export_window(moment: float) -> bool:
                return in_export_window(moment, measured_from, args.window)

            def export_loop():
                while not stop.is_set():
                    if args.no_export or not export_window(time.time()):
                        stop.wait(0.1)
                        continue
                    t0, wall = time.monotonic(), time.time()
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
                    exports["running"].append((wall, time.time()))
                    if job_status == "done":
                        exports["done"] += 1
                        exports["seconds"].append(time.monotonic() - t0)
                    elif not stop.is_set():
                        exports["failed"] += 1
                        print(f"export answered {status}, job {job_status}: {str(body)[:200]}")
                        time.sleep(1)

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
            load_started = time.time()
            measured_from = load_started + args.users / args.spawn_rate + 2  # every user has arrived
            exporter = threading.Thread(target=export_loop, daemon=True)
            exporter.start()
            subprocess.run(locust, env=env, cwd=root, check=False, timeout=args.duration + 300)
            stop.set()
            exporter.join(timeout=300)
        stored = int(pg.psql("SELECT count(*) FROM coding_coding", dbname="load")) - seeded

    result = json.loads((tmp / "result.json").read_text())
    shutil.rmtree(tmp, ignore_errors=True)
    stats, acked = result["stats"], result["acked"]
    print(
        f"\nLD1: {args.users} simulated coders for {args.duration} s against gunicorn "
        f"({args.workers} workers x {args.threads} threads) + PostgreSQL "
        f"+ a Celery worker ({capped}) on 127.0.0.1; "
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
    # p95 of the requests that started while an export ran, and of those that started in a
    # window without one (``phase_of``).
    phases: dict[str, dict[str, dict[int, int]]] = {"no export": {}, "export running": {}}
    for end, name, ms, _failed in result["seen"]:
        start = end - ms / 1000
        if start < measured_from:
            continue
        phase = phase_of(start, exports["running"], export_window, control=args.no_export)
        if phase is None:
            continue
        times = phases[phase].setdefault(KINDS.get(name, name), {})
        times[round(ms)] = times.get(round(ms), 0) + 1
    raised = None
    for kind in ("read", "write"):
        quiet, busy = phases["no export"].get(kind, {}), phases["export running"].get(kind, {})
        if quiet and busy:
            before, during = percentile(quiet, 0.95), percentile(busy, 0.95)
            raised = max(raised or 0.0, during / before - 1 if before else 0.0)
            print(
                f"  p95 {kind:<6} no export {before:5.0f} ms (n={sum(quiet.values())}), "
                f"{'(control) ' * args.no_export}export running {during:5.0f} ms "
                f"(n={sum(busy.values())}): {during / before - 1:+.0%}"
            )
    seconds = exports["seconds"]
    print(
        f"exports (QDPX of the project in the Celery worker, one after another in every other "
        f"{args.window:.0f} s window): {exports['done']} done, {exports['failed']} failed"
        + (f", {sum(seconds) / len(seconds):.1f} s each" if seconds else "")
    )
    print(
        f"codings acknowledged {acked['created']}, stored {stored}; changes acknowledged {acked['changed']}"
    )
    targets = {"write": 100, "read": 200}
    for kind, limit in targets.items():
        verdict = "met" if p95.get(kind, 0) <= limit else "MISSED"
        print(f"target p95 {kind} <= {limit} ms: {verdict} ({p95.get(kind, 0):.0f} ms)")
    if raised is None:
        print("target an export raises p95 by <= 20%: not measured (the run is too short for both phases)")
    else:
        verdict = "met" if raised <= 0.2 else "MISSED"
        print(f"target an export raises p95 by <= 20%: {verdict} ({raised:+.0%})")
    failed = errors > 0 or stored != acked["created"] or exports["failed"] > 0
    failed = failed or (exports["done"] == 0 and not args.no_export)
    if args.enforce_targets and (any(p95.get(k, 0) > v for k, v in targets.items()) or (raised or 0) > 0.2):
        failed = True
    print("LD1 " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
