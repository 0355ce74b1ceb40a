"""IN3: filter and ordering parameters are allow-listed; no raw SQL is built from request data.

Dynamic: every list endpoint of the API (found from the URL resolver, so a new one is
covered without editing this file) gets ORM-lookup injection attempts: ordering by
``password`` or transcript text, lookups across relations into other projects,
``__regex``, Q-object internals, SQL fragments. Each answer is 400 or the same as
without the parameter, never a 5xx, and never carries another project's data or a
password hash. The pages with filters (participants, retrieve, memos, analytics) get the
same treatment.

Static: the code base is scanned for raw SQL (``.raw(``, ``cursor.execute``,
``RawSQL``, ``.extra(``) and for ``**request.…`` passed into a call; every raw-SQL
call site must be one of the reviewed places below.
"""

import ast
import json
from pathlib import Path

import pytest
from django.urls import URLResolver, get_resolver

from coding import services as coding_services

ROOT = Path(__file__).resolve().parent.parent
OTHER_NAME = "Another team's study"  # project B (tests/conftest.py)

ORDERING_ATTEMPTS = [
    "password",
    "-password",
    "user__password",
    "coder__password",
    "created_by__password",
    "author__password",
    "interview__text",
    "-interview__text",
    "text",
    "project__name",
    "id;DROP TABLE coding_coding",
    "(SELECT 1)",
    "id) --",
]


def lookup_attempts(team):
    other = team.other_project.pk
    return [
        # (values are prefixes of B's secrets, so an answer that merely records the filter it
        # was given, as the audit trail does, is not mistaken for a leak of the whole secret)
        {"code__project__name__startswith": "Another"},
        {"code__project__name": "x"},
        {"project": str(other)},
        {"project_id": str(other)},
        {"project__id": str(other)},
        {"participant__project": str(other)},
        {"interview__project": str(other)},
        {"interview__text__icontains": "river"},
        {"text__regex": "^(a|b)*$"},
        {"pseudonym__regex": ".*"},
        {"name__startswith": "Secret"},
        {"coder__password__startswith": "md5"},
        {"user__password__startswith": "md5"},
        {"created_by__password__startswith": "m"},
        {"_connector": "OR"},
        {"_negated": "true"},
        {"id__in": "1) OR 1=1 --"},
        {"pk": f"{team.other_interview.pk}"},
        {"where": "1=1"},
        {"search": "' OR '1'='1"},
        {"filter": '{"project": 2}'},
    ]


def api_list_routes():
    """(route regex, name) of every list route of the API."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.name, pattern

    for route, name, pattern in walk(get_resolver().url_patterns):
        actions = getattr(pattern.callback, "actions", None) or {}
        if route.startswith("api/") and actions.get("get") == "list":
            yield route, name


def concrete(route: str, ids: dict) -> str:
    path = route.replace("^", "").replace("$", "")
    for key, value in ids.items():
        path = path.replace(f"(?P<{key}>[0-9]+)", str(value))
    assert "(?P<" not in path, f"no id for {path}"
    return "/" + path


@pytest.fixture
def seeded(team):
    coding = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=0, end=12, comment="baseline"
    )
    coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder2, start=13, end=30
    )
    coding_services.create_memo(project=team.project, author=team.coder, text="a memo", title="Memo")
    coding_services.create_memo(
        project=team.project, author=team.supervisor, text="another memo", title="Zed"
    )
    coding_services.create_coding(
        interview=team.other_interview, code=team.other_code, coder=team.outsider, start=0, end=5
    )
    ids = {
        "project_pk": team.project.pk,
        "interview_pk": team.interview.pk,
        "coding_pk": coding.pk,
    }
    return team, ids


def secrets_of(team) -> list[str]:
    team.owner.refresh_from_db()
    hashes = [u.password for u in (team.owner, team.coder, team.outsider)]
    return [OTHER_NAME, "Secret code", *hashes]


def body_of(response):
    try:
        body = response.json()
    except (ValueError, TypeError):
        return response.content.decode(errors="replace")
    if isinstance(body, dict):
        # A long list's page links repeat the request's parameters (DRF keeps them): not data.
        body = {k: v for k, v in body.items() if k not in ("next", "previous")}
    return body


def test_every_api_list_ignores_or_refuses_orm_injection_in_filters_and_ordering(seeded, api):
    team, ids = seeded
    client = api.as_user(team.owner)
    secrets = secrets_of(team)
    checked = []
    for route, name in api_list_routes():
        url = concrete(route, ids)
        baseline = client.get(url)
        if baseline.status_code != 200:
            # Not readable as a list by the owner in this state (e.g. a POST-only route).
            assert baseline.status_code < 500, (url, baseline.status_code)
            continue
        checked.append(name)
        expected = body_of(baseline)
        attempts = [{"ordering": o} for o in ORDERING_ATTEMPTS] + lookup_attempts(team)
        for params in attempts:
            response = client.get(url, params)
            assert response.status_code in (200, 400), (url, params, response.status_code)
            text = response.content.decode(errors="replace")
            for secret in secrets:
                assert secret not in text, (url, params)
            if response.status_code == 200:
                assert body_of(response) == expected, (url, params)
    # The point is coverage: the lists users read most must have been exercised.
    assert {"participant-list", "interview-list", "code-list", "coding-list", "memo-list"} <= set(checked)
    assert len(checked) >= 10, checked


def test_allowed_ordering_still_works_so_the_check_is_meaningful(seeded, api):
    team, ids = seeded
    client = api.as_user(team.owner)
    url = f"/api/projects/{team.project.pk}/memos/"
    titles = [m["title"] for m in client.get(url, {"ordering": "title"}).json()["results"]]
    reverse = [m["title"] for m in client.get(url, {"ordering": "-title"}).json()["results"]]
    assert titles == sorted(titles) and reverse == titles[::-1] and titles != reverse


@pytest.mark.parametrize(
    "path, params",
    [
        ("participants/", {"sort": "password"}),
        ("participants/", {"sort": "-interviews__text"}),
        ("participants/", {"sort": "attr:../../etc"}),
        ("participants/", {"attr": "pseudonym__regex", "value": ".*"}),
        ("participants/", {"type": "x' OR '1'='1"}),
        ("participants/", {"project": "{other}"}),
        ("retrieve/", {"code": "{other_code}"}),
        ("retrieve/", {"interview": "{other_interview}"}),
        ("retrieve/", {"participant": "1 OR 1=1"}),
        ("retrieve/", {"code__project__name__startswith": "Another"}),
        ("memos/", {"author": "1) OR (1=1"}),
        ("memos/", {"ordering": "author__password"}),
        ("analytics/", {"where": "1=1; DROP TABLE coding_coding"}),
        ("analytics/", {"where": "pseudonym__regex = '.*'"}),
        ("analytics/", {"q": "__import__('os')"}),
        ("analytics/", {"attribute": "user__password"}),
        ("analytics/download/frequencies.csv", {"where": "password = 'x'"}),
    ],
)
def test_pages_with_filters_refuse_or_ignore_injection(seeded, client, path, params):
    team, _ids = seeded
    client.force_login(team.owner)
    values = {
        "other": team.other_project.pk,
        "other_code": team.other_code.pk,
        "other_interview": team.other_interview.pk,
    }
    params = {k: v.format(**values) if isinstance(v, str) else v for k, v in params.items()}
    response = client.get(f"/projects/{team.project.pk}/{path}", params)
    assert response.status_code in (200, 400), response.status_code
    text = response.content.decode(errors="replace")
    for secret in secrets_of(team):
        assert secret not in text


@pytest.mark.parametrize(
    "where",
    [
        "1=1",
        "nationality = 'x' OR 1=1 --",
        '"x"); DELETE FROM interviews_interview; --',
        "participant__project__name = 'x'",
        "code:1 UNION SELECT password FROM auth_user",
        "pseudonym LIKE '%'",
    ],
)
def test_analytics_where_expressions_with_injection_are_400(seeded, api, where):
    team, _ids = seeded
    client = api.as_user(team.viewer)
    response = client.get(f"/api/projects/{team.project.pk}/analytics/frequencies/", {"where": where})
    assert response.status_code == 400, response.content
    assert "where" in response.json()
    assert team.project.interviews.count() == 1


# ---------------------------------------------------------------- static checks

SOURCE_DIRS = ["coding", "interviews", "accounts", "config"]
RAW_SQL_CALLS = {"raw", "execute", "executemany", "extra", "RawSQL"}
# Reviewed places that run SQL by hand. Each builds its statement from constants and
# ORM-compiled fragments only; every value from a request goes in as a parameter.
REVIEWED_RAW_SQL = {
    # Version numbers of an interview's codings for the coding view's ETag polling.
    ("coding/workbench.py", "raw"),
    ("coding/workbench.py", "execute"),
    # Analytics: one grouped statement per question (coding/ANALYTICS.md); _fetch runs it.
    ("coding/analytics.py", "execute"),
    ("coding/analytics.py", "RawSQL"),
    # The project's attribute definitions, once per request (model table name, id as parameter).
    ("coding/analytics.py", "raw"),
    # FOR KEY SHARE on the code being applied (model table name, id as parameter).
    ("coding/services.py", "execute"),
    # delete_project marks its transaction for the audit trail's trigger (project id as parameter).
    ("interviews/services.py", "execute"),
    # The refused-attempts purge announces its cut-off to the table's trigger (a parameter).
    ("interviews/audit.py", "execute"),
    # Backup drill checksums: table names from the catalogue, quoted; no request involved.
    ("config/backup.py", "execute"),
}


def python_files():
    for directory in SOURCE_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _mentions_request(node) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "request" for n in ast.walk(node)) or any(
        isinstance(n, ast.Attribute) and n.attr in ("query_params", "GET", "POST", "data")
        for n in ast.walk(node)
    )


def test_raw_sql_is_only_run_in_reviewed_places():
    found = set()
    for path in python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called_name(node) in RAW_SQL_CALLS:
                if _called_name(node) == "execute" and not isinstance(node.func, ast.Attribute):
                    continue
                found.add((str(path.relative_to(ROOT)), _called_name(node)))
    unreviewed = found - REVIEWED_RAW_SQL
    assert not unreviewed, f"review these raw SQL call sites and add them to REVIEWED_RAW_SQL: {unreviewed}"
    assert ("coding/analytics.py", "execute") in found  # the scan sees real call sites


def test_no_raw_sql_statement_is_built_from_request_data():
    offenders = []
    for path in python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called_name(node) in RAW_SQL_CALLS and node.args:
                statement = node.args[0]
                if isinstance(statement, (ast.JoinedStr, ast.BinOp)) and _mentions_request(statement):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_request_data_is_never_unpacked_into_a_query():
    """No ``filter(**request.query_params)``, ``order_by(*request.GET…)`` and the like."""
    offenders = []
    for path in python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            unpacked = [k.value for k in node.keywords if k.arg is None] + [
                a.value for a in node.args if isinstance(a, ast.Starred)
            ]
            if any(_mentions_request(value) for value in unpacked) and _called_name(node) in {
                "filter",
                "exclude",
                "get",
                "Q",
                "annotate",
                "alias",
                "order_by",
                "values",
                "update",
                "create",
                "extra",
            }:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_unsafe_deserialisers_or_extra():
    offenders = []
    for path in python_files():
        text = path.read_text()
        for needle in ("pickle.load", "yaml.load(", "marshal.load", ".extra(", "eval(", "exec("):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


def test_the_static_scan_would_catch_an_offender(tmp_path):
    """The checks above parse code; make sure they flag the shapes they look for."""
    bad = (
        "def view(request):\n"
        "    Model.objects.filter(**request.query_params)\n"
        "    cursor.execute(f\"SELECT * FROM t WHERE a = '{request.GET['a']}'\")\n"
    )
    tree = ast.parse(bad)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    unpacking = [c for c in calls if any(k.arg is None and _mentions_request(k.value) for k in c.keywords)]
    raw = [
        c
        for c in calls
        if _called_name(c) == "execute"
        and isinstance(c.args[0], ast.JoinedStr)
        and _mentions_request(c.args[0])
    ]
    assert len(unpacking) == 1 and len(raw) == 1
    assert json.dumps(sorted(REVIEWED_RAW_SQL))  # the allow-list is plain data
