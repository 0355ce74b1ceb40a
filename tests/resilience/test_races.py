"""CC1–CC4 at SECURITY.md's counts: tests/test_concurrency.py with RACE_REPEAT (default 200: 200
collisions per object for CC1, 50 rounds of CC2, 10 merges and 10 deletes against 10 coding
threads for CC3, 25 rounds of CC4) on a private PostgreSQL cluster. The normal suite runs the same
tests a few times each. Each race's tallies go to test-artifacts/races.txt."""

import os
import subprocess
import sys

import pytest

from .live import ROOT, PrivatePostgres

RACE_REPEAT = os.environ.get("RACE_REPEAT", "200")
ARTIFACTS = ROOT / "test-artifacts"


@pytest.mark.timeout(1200)
def test_the_races_hold_at_full_count(needs_postgres_binaries):
    ARTIFACTS.mkdir(exist_ok=True)
    tallies = ARTIFACTS / "races.txt"
    tallies.unlink(missing_ok=True)
    with PrivatePostgres() as pg:
        # The normal suite's settings, on the private cluster (pytest-django makes test_races).
        env = {k: v for k, v in os.environ.items() if k != "RESILIENCE"}
        env.update(DATABASE_URL=pg.url("races"), RACE_REPEAT=RACE_REPEAT, RACE_REPORT=str(tallies))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/test_concurrency.py",
                "-m",
                "not browser",
                "-q",
                "-p",
                "no:cacheprovider",
                "--create-db",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1100,
        )
    report = tallies.read_text() if tallies.exists() else ""
    print(report)
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    # Every race ran and reported (none skipped for want of PostgreSQL).
    assert sorted(line.split(":")[0] for line in report.splitlines()) == [
        "CC1 code",
        "CC1 coding",
        "CC1 memo",
        "CC2",
        "CC3 delete",
        "CC3 merge",
        "CC4",
    ], report
