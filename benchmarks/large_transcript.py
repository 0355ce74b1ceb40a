"""LD2: a large transcript (about 2 MB of text, 5,000 codings) through gunicorn + PostgreSQL.

``.venv/bin/python benchmarks/large_transcript.py [--repeat 20]``

Seeds a private PostgreSQL cluster (tests/resilience/live.py) with the project of
tests/resilience/seed.py plus one interview of ~390,000 words (2 MB) carrying 5,000 codings, serves
it with gunicorn on 127.0.0.1, and measures one request at a time (signed in as a coder):

* the coding view page of that interview (HTML with the data inlined);
* its coding data (API: text, turns, every coding) and its transcript (interview API);
* the codings list with an oversized page_size (the page size must be capped at 500);

then runs the QDPX and codings-CSV exports of the project in a worker process of their own, exactly
as a Celery worker would (``coding.exports.run_export``), and reports that process's peak RSS.
Targets: page and API p95 < 1 s (reported; enforced with ``--enforce-targets``, as a busy shared
machine measures its neighbours too); export worker peak RSS < 300 MB and the page size capped at
500 (always enforced). Exits 1 when an enforced target is missed or a request fails.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RSS_LIMIT_MB = 300
P95_LIMIT_MS = 1000


def export_child(project: int, kind: str) -> None:
    """In a fresh process: record an export job and run it as the worker does; print the job's state."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from coding import exports
    from coding.models import ExportJob
    from interviews.models import Project

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    owner = get_user_model().objects.get(username="owner")
    job = exports.start_export(project=Project.objects.get(pk=project), by=owner, kind=kind)
    exports.run_export(job_id=job.pk)  # a no-op if eager mode already ran it on commit
    job = ExportJob.objects.get(pk=job.pk)
    size = exports.file_path(job).stat().st_size if job.status == "done" else 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # this process's own peak, MB
    print(json.dumps({"status": job.status, "bytes": size, "baseline_mb": baseline, "peak_mb": peak}))


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="LD2 large transcript")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--enforce-targets", action="store_true", help="exit 1 when a p95 target is missed")
    parser.add_argument("--export-child", nargs=2, metavar=("PROJECT", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.export_child:
        export_child(int(args.export_child[0]), args.export_child[1])
        return 0

    sys.path.insert(0, str(ROOT))
    import requests

    from tests.resilience.live import Gunicorn, PrivatePostgres, app_env, seed

    failed = False
    with PrivatePostgres() as pg:
        url = pg.create_database("large")
        started = time.monotonic()
        info = seed(url, coders=2, interviews=1, codings=50, large=True)
        print(
            f"seeded in {time.monotonic() - started:.0f} s: a transcript of "
            f"{info['large_bytes'] / 1e6:.2f} MB "
            f"with {info['large_codings']} codings"
        )
        project, interview = info["project"], info["large_interview"]
        with Gunicorn(url, workers=2, threads=2) as server:
            coder = requests.Session()
            coder.headers["Authorization"] = f"Token {info['tokens']['coders'][0]}"
            browser = requests.Session()
            login = f"{server.url}/accounts/login/"
            browser.get(login, timeout=30)
            browser.post(
                login,
                data={
                    "username": "coder01",
                    "password": info["password"],
                    "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                },
                headers={"Referer": login},
                timeout=30,
            )
            checks = {
                "coding view page (HTML, data inlined)": (
                    browser,
                    f"/projects/{project}/interviews/{interview}/code/",
                ),
                "coding data (API: text, turns, codings)": (
                    coder,
                    f"/api/projects/{project}/interviews/{interview}/coding-data/",
                ),
                "interview with its transcript (API)": (
                    coder,
                    f"/api/projects/{project}/interviews/{interview}/",
                ),
                "codings list, page_size=100000 asked": (
                    coder,
                    f"/api/projects/{project}/codings/?interview={interview}&page_size=100000",
                ),
            }
            for label, (session, path) in checks.items():
                samples, size = [], 0
                warmup, repeat = 2, args.repeat
                for i in range(warmup + repeat):
                    t0 = time.perf_counter()
                    r = session.get(server.url + path, timeout=600)
                    elapsed = (time.perf_counter() - t0) * 1000
                    if r.status_code != 200:
                        print(f"  {label}: answered {r.status_code}")
                        failed = True
                        break
                    size = len(r.content)
                    if i >= warmup:
                        samples.append(elapsed)
                if not samples:
                    continue
                if "page_size" in path:
                    shown = len(r.json()["results"])
                    if shown > 500:
                        print(f"  page size not capped: {shown} codings in one page")
                        failed = True
                high = p95(samples)
                verdict = "ok" if high < P95_LIMIT_MS else "MISSED"
                failed |= args.enforce_targets and high >= P95_LIMIT_MS
                print(
                    f"{label:<44} p50 {statistics.median(samples):7.0f} ms  p95 {high:7.0f} ms  "
                    f"({size / 1e6:.2f} MB, n={len(samples)}) {verdict}"
                )

        for kind in ("qdpx", "codings.csv"):
            t0 = time.monotonic()
            done = subprocess.run(
                [sys.executable, __file__, "--export-child", str(project), kind],
                cwd=ROOT,
                env=app_env(url),
                capture_output=True,
                text=True,
                timeout=900,
            )
            seconds = time.monotonic() - t0
            if done.returncode:
                print(f"export {kind} failed:\n{done.stderr[-2000:]}")
                failed = True
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            peak_mb = result["peak_mb"]
            ok = result["status"] == "done" and peak_mb < RSS_LIMIT_MB
            failed |= not ok
            print(
                f"export {kind:<12} {result['status']} in {seconds:.1f} s, {result['bytes'] / 1e6:.2f} MB; "
                f"worker peak RSS {peak_mb} MB (Django loaded: {result['baseline_mb']} MB) "
                f"{'ok' if ok else 'MISSED'}"
            )
    print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("LD2 " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
