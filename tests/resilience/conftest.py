"""The resilience suite (FT4 database crash, FT5 backup drill, FT6 migrations, BI9 schema fuzzing)
starts real servers and takes minutes, so the normal ``make test`` does not collect it:
``make resilience`` runs it with RESILIENCE=1 (and the load benchmarks after it)."""

import os

import pytest

from .live import postgres_available

if os.environ.get("RESILIENCE") != "1":
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def needs_postgres_binaries():
    if not postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are needed for the resilience suite")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
