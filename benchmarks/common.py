"""Shared set-up for benchmark scripts: a fresh database, the shared corpus, timing.

Run a benchmark from the repository root, e.g. ``.venv/bin/python benchmarks/agreement.py``.
By default it uses a throw-away SQLite file; set DATABASE_URL to a PostgreSQL database that may be
wiped (e.g. postgres://postgres@127.0.0.1:5432/bench) to measure there.
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A copy of ../shared/bench/corpus.py (see benchmarks/corpus/PROVENANCE.md).
SHARED_BENCH = ROOT / "benchmarks" / "corpus"


def setup_django(name: str) -> None:
    """Point Django at a fresh database for benchmark ``name`` and migrate it."""
    sys.path.insert(0, str(ROOT))
    if "DATABASE_URL" not in os.environ:
        db_file = Path(tempfile.gettempdir()) / f"bench_{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db_file}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("APP_ENV", "test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)


def corpus_module():
    """The shared deterministic corpus (our copy of ../shared/bench/corpus.py)."""
    sys.path.insert(0, str(SHARED_BENCH))
    import corpus

    return corpus


def timings(fn, *, repeat: int, warmup: int = 2) -> list[float]:
    """Milliseconds per call of ``fn`` over ``repeat`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(label: str, samples: list[float], *, beside: str = "") -> None:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    extra = f"   {beside}" if beside else ""
    print(f"{label:<58} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   (n={len(ordered)}){extra}")
