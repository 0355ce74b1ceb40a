"""BI9: schemathesis against the OpenAPI schema on a live server: all checks (but the two named in
EXCLUDED_CHECKS), including object-level authorisation between two peers (the owners of project A
and of project B), bounded examples and time, 0 failures.

Runs gunicorn on a private PostgreSQL cluster seeded by tests/resilience/seed.py, in two passes:
valid data as project A's owner with ``project_pk`` fixed to project A (so requests reach real
objects rather than 404s), then all data (valid and invalid) with free path values. ``outsider`` is
the peer whose replays must never see A's objects. Login (axes would lock the account), the schema
and the docs page are left out, and so is deleting project A. Settings: FUZZ_MAX_EXAMPLES (default
10 per operation), FUZZ_MAX_TIME (seconds for both passes, default 240; `make resilience` gives 160).
The whole output goes to test-artifacts/schemathesis.txt.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .live import ROOT, Gunicorn, PrivatePostgres, request, seed

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
MAX_TIME = int(os.environ.get("FUZZ_MAX_TIME", "240"))
EXCLUDED = r"^/api/(auth/token|schema|docs)/"
ARTIFACTS = ROOT / "test-artifacts"
# All checks run but these two (the config file switches them off; a `--checks` option on the
# command line would override the per-operation settings below):
# - positive_data_acceptance expects every schema-valid request to succeed, but the schema cannot
#   state the business rules the API checks (a coding's end within its transcript, a code of the
#   same project, ids that exist): those answer 400 naming the field, as specified.
# - negative_data_rejection expects every malformed query value to be refused, but an empty filter
#   value (`?parent=`, `?page=`) means "no filter" / "first page" in django-filter and DRF, on
#   purpose. Malformed values it found were made 400s (page_size, yes/no filters, numbers for text).
EXCLUDED_CHECKS = ("positive_data_acceptance", "negative_data_rejection")
# A change or delete of a versioned object requires If-Match (428 without it). The pinned pass
# sends `If-Match: *` ("whatever is there"), so its requests reach the input checks behind it;
# missing_required_header is off there (the header is never missing). The free pass sends what
# the schema makes of it, and a missing If-Match must be answered 428.
IF_MATCH_ANY = "If-Match: *"
MISSING_HEADER_STATUSES = ("400", "401", "403", "406", "415", "422", "428")
# Operations whose documented response does not yet match the answer (response_schema_conformance
# is off for them only; every other check still runs). Each is listed in the report to fix.
KNOWN_SCHEMA_GAPS: dict[str, str] = {}


def write_config(folder: Path, info: dict, *, pin_project: bool) -> Path:
    wfc = {
        "schemaVersion": "1.0",
        "auth": [
            {
                "name": name,
                "fixedHeaders": [{"name": "Authorization", "value": f"Token {info['tokens'][name]}"}],
            }
            for name in ("owner", "outsider")
        ],
    }
    (folder / "wfc.json").write_text(json.dumps(wfc))
    config = folder / f"schemathesis-{'pinned' if pin_project else 'free'}.toml"
    text = f"""
[auth.wfc]
path = "{folder / "wfc.json"}"
user = "owner"
peers = ["owner", "outsider"]

# Every check runs (schemathesis' default) except these; see EXCLUDED_CHECKS.
[checks]
"""
    text += "".join(f"{check}.enabled = false\n" for check in EXCLUDED_CHECKS)
    if not pin_project:
        text += f"missing_required_header.expected-statuses = {json.dumps(MISSING_HEADER_STATUSES)}\n"
    else:
        text += f"""missing_required_header.enabled = false

[parameters]
"path.project_pk" = {info["project"]}
"""
    for name in KNOWN_SCHEMA_GAPS:
        text += f"""
[[operations]]
include-name = "{name}"
checks.response_schema_conformance.enabled = false
"""
    config.write_text(text)
    return config


@pytest.mark.timeout(2 * MAX_TIME + 420)
def test_the_api_matches_its_schema_under_fuzzing(needs_postgres_binaries, tmp_path):
    with PrivatePostgres() as pg:
        url = pg.create_database("fuzz")
        info = seed(url, coders=2, interviews=2, codings=60)
        # No URL length limit in gunicorn: its own 414 page (HTML) for a fuzzed multi-kilobyte query
        # is not the app's answer; in production the proxy in front sets that limit.
        with Gunicorn(url, workers=2, threads=4, extra_args=("--limit-request-line", "0")) as server:
            status, _, schema = request(
                "GET", f"{server.url}/api/schema/?format=json", token=info["tokens"]["owner"]
            )
            assert status == 200
            schema_file = tmp_path / "schema.json"
            schema_file.write_text(json.dumps(schema))
            runs = []
            # Valid data against project A (a fixed project_pk would make "invalid" path values
            # valid, so negative data runs in a second pass with free path values).
            for mode, pinned in (("positive", True), ("all", False)):
                config = write_config(tmp_path, info, pin_project=pinned)
                command = [
                    str(Path(sys.executable).parent / "schemathesis"),
                    "--config-file",
                    str(config),
                    "run",
                    str(schema_file),
                    "--url",
                    server.url,
                    "--mode",
                    mode,
                    "--max-examples",
                    str(MAX_EXAMPLES),
                    "--max-time",
                    str(MAX_TIME // 2),
                    "--exclude-path-regex",
                    EXCLUDED,
                    # Deleting project A would turn the rest of the run into 404s.
                    "--exclude-name",
                    "DELETE /api/projects/{project_pk}/",
                    "--seed",
                    "20261128",
                    # One worker: with two threads, CPython 3.11's ast.parse (used by hypothesis to
                    # describe filters) sometimes fails with "AST constructor recursion depth
                    # mismatch", a schemathesis-side error that is not the API's.
                    "--workers",
                    "1",
                    "--request-timeout",
                    "30",
                    "--no-color",
                    *(["-H", IF_MATCH_ANY] if pinned else []),
                ]
                runs.append(
                    subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=MAX_TIME + 300)
                )
            server_log = server.log()
    ARTIFACTS.mkdir(exist_ok=True)
    output = "\n\n".join(f"{done.stdout}\n{done.stderr}" for done in runs)
    (ARTIFACTS / "schemathesis.txt").write_text(f"{output}\n\nserver log:\n{server_log}")
    summaries = [
        done.stdout[done.stdout.rfind("Failures:") :] if "Failures:" in done.stdout else done.stdout[-1500:]
        for done in runs
    ]
    print("\n".join(summaries))
    assert [done.returncode for done in runs] == [0, 0], (
        "\n".join(summaries) + "\nsee test-artifacts/schemathesis.txt"
    )
