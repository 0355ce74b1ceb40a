"""AC1–AC4: the route × role × method matrix, generated from the OpenAPI schema and the URL resolver.

Every API operation in the schema and every page route the resolver knows must
be classified below; a route nobody classified fails the test. For each one,
each role gets the status its policy implies:

- anonymous: 401/403 (pages: redirect to login); a deactivated user: 401/403/404;
- a member of another project (``outsider``): 404 on anything of project A;
- a member whose role is below the policy: 403;
- a member at or above it: anything but 401/403/404/405/5xx.

Each request runs in a savepoint that is rolled back, so one write cannot
change what the next request sees.
"""

import io
import re
import zipfile

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.views import APIView

from coding import comments as coding_comments
from coding import consensus, exports, review
from coding import services as coding_services
from interviews import import_services, services
from interviews.models import AuditEvent, Membership, Role

PUBLIC, SIGNED_IN, VIEWER, CODER, SUPERVISOR, OWNER = (
    "public",
    "signed-in",
    Role.VIEWER,
    Role.CODER,
    Role.SUPERVISOR,
    Role.OWNER,
)
RANK = {VIEWER: 0, CODER: 1, SUPERVISOR: 2, OWNER: 3}
ROLES = ["viewer", "coder", "supervisor", "owner"]

P = "/api/projects/{project_pk}"

# (path template, method) → the least role that may call it. Coders' writes to
# codings and memos are limited to their own rows (the object here is the
# coder's own; other people's rows are covered in test_api_codings/memos).
API_POLICY = {
    ("/api/auth/token/", "post"): PUBLIC,
    ("/api/projects/", "get"): SIGNED_IN,
    ("/api/projects/", "post"): SIGNED_IN,
    (f"{P}/", "get"): VIEWER,
    # supervisors may switch blind coding alone (the empty body here); other fields are the
    # owner's (test_blind_coding)
    (f"{P}/", "patch"): SUPERVISOR,
    (f"{P}/", "delete"): OWNER,
    (f"{P}/members/", "get"): VIEWER,
    (f"{P}/members/", "post"): OWNER,
    (f"{P}/members/{{id}}/", "get"): VIEWER,
    (f"{P}/members/{{id}}/", "patch"): OWNER,
    (f"{P}/members/{{id}}/", "delete"): OWNER,
    (f"{P}/codings/", "get"): VIEWER,
    (f"{P}/codings/", "post"): CODER,
    (f"{P}/codings/{{id}}/", "get"): VIEWER,
    (f"{P}/codings/{{id}}/", "patch"): CODER,
    (f"{P}/codings/{{id}}/", "delete"): CODER,
    (f"{P}/memos/", "get"): VIEWER,
    (f"{P}/memos/", "post"): CODER,
    (f"{P}/memos/{{id}}/", "get"): VIEWER,
    (f"{P}/memos/{{id}}/", "patch"): CODER,
    (f"{P}/memos/{{id}}/", "delete"): CODER,
    (f"{P}/agreement/", "get"): SUPERVISOR,
    # disagreement review and the consensus layer
    (f"{P}/interviews/{{interview_pk}}/disagreements/", "get"): SUPERVISOR,
    (f"{P}/interviews/{{interview_pk}}/consensus/", "get"): SUPERVISOR,
    (f"{P}/interviews/{{interview_pk}}/consensus/", "post"): SUPERVISOR,
    (f"{P}/interviews/{{interview_pk}}/consensus/{{id}}/", "delete"): SUPERVISOR,
    # comments on a coding (the coder's own comment on their own coding)
    (f"{P}/codings/{{coding_pk}}/comments/", "get"): VIEWER,
    (f"{P}/codings/{{coding_pk}}/comments/", "post"): CODER,
    (f"{P}/codings/{{coding_pk}}/comments/{{id}}/", "get"): VIEWER,
    (f"{P}/codings/{{coding_pk}}/comments/{{id}}/", "patch"): CODER,
    (f"{P}/codings/{{coding_pk}}/comments/{{id}}/", "delete"): CODER,
    # assignments: a coder lists and moves only their own (the object here is the coder's)
    (f"{P}/assignments/", "get"): CODER,
    (f"{P}/assignments/", "post"): SUPERVISOR,
    (f"{P}/assignments/mine/", "get"): CODER,
    (f"{P}/assignments/{{id}}/", "get"): CODER,
    (f"{P}/assignments/{{id}}/", "patch"): CODER,
    (f"{P}/assignments/{{id}}/", "delete"): SUPERVISOR,
    # one interview's review: reveal, sign-off, changes since my last review
    (f"{P}/interviews/{{interview_pk}}/review/", "get"): SUPERVISOR,
    (f"{P}/interviews/{{interview_pk}}/review/changes/", "get"): SUPERVISOR,
    (f"{P}/interviews/{{interview_pk}}/review/reveal/", "post"): SUPERVISOR,
    (f"{P}/interviews/{{interview_pk}}/review/unreveal/", "post"): SUPERVISOR,
    (f"{P}/interviews/{{interview_pk}}/review/sign-off/", "post"): SUPERVISOR,
    # the audit trail; restore answers 400 for an event that is not a deleted coding
    (f"{P}/audit/", "get"): SUPERVISOR,
    (f"{P}/audit/{{id}}/restore/", "post"): SUPERVISOR,
    # refused requests for the project's data: who probed it, from where (owners only)
    (f"{P}/audit/refused/", "get"): OWNER,
    # the coding view's data, polled by the page
    (f"{P}/interviews/{{id}}/coding-data/", "get"): VIEWER,
    # import and anonymisation
    (f"{P}/imports/", "get"): SUPERVISOR,
    (f"{P}/imports/", "post"): SUPERVISOR,
    (f"{P}/imports/{{id}}/", "get"): SUPERVISOR,
    (f"{P}/import-files/{{id}}/", "get"): SUPERVISOR,
    (f"{P}/import-files/{{id}}/confirm/", "post"): SUPERVISOR,
    (f"{P}/import-files/{{id}}/discard/", "post"): SUPERVISOR,
    (f"{P}/sensitive-terms/", "get"): CODER,
    (f"{P}/sensitive-terms/", "post"): SUPERVISOR,
    (f"{P}/sensitive-terms/{{id}}/", "delete"): SUPERVISOR,
    (f"{P}/allowed-words/", "get"): CODER,
    (f"{P}/allowed-words/", "post"): SUPERVISOR,
    (f"{P}/allowed-words/{{id}}/", "delete"): SUPERVISOR,
    (f"{P}/interviews/{{interview_pk}}/redactions/", "get"): VIEWER,
    (f"{P}/interviews/{{interview_pk}}/redactions/", "post"): SUPERVISOR,
    # exchange formats
    ("/api/projects/import/qdpx/", "post"): SIGNED_IN,
    (f"{P}/export/qdpx/", "get"): SUPERVISOR,
    (f"{P}/export/qdpx/report/", "get"): SUPERVISOR,
    (f"{P}/export/qdc/", "get"): SUPERVISOR,
    (f"{P}/import/qdc/", "post"): SUPERVISOR,
    (f"{P}/import/codebook-csv/", "post"): SUPERVISOR,
    (f"{P}/exports/", "post"): SUPERVISOR,
    (f"{P}/exports/{{id}}/", "get"): SUPERVISOR,
    (f"{P}/exports/{{id}}/download/", "get"): SUPERVISOR,  # 409 until the job is done
    # analytics
    (f"{P}/analytics/saved-queries/", "get"): VIEWER,
    (f"{P}/analytics/saved-queries/", "post"): CODER,
    (f"{P}/analytics/saved-queries/{{id}}/", "get"): VIEWER,
    (f"{P}/analytics/saved-queries/{{id}}/", "patch"): CODER,
    (f"{P}/analytics/saved-queries/{{id}}/", "delete"): CODER,
    (f"{P}/analytics/saved-queries/{{id}}/run/", "get"): VIEWER,
}
for table in ("codings", "profiles", "codebook"):
    for fmt in ("csv", "xlsx"):
        API_POLICY[(f"{P}/export/{table}.{fmt}", "get")] = SUPERVISOR
for analytic in (
    "frequencies",
    "matrix",
    "cooccurrence",
    "crosstab",
    "heterogeneity",
    "profiles",
    "query",
    "saturation",
    "events",
):
    API_POLICY[(f"{P}/analytics/{analytic}/", "get")] = VIEWER
# Collections that read for every member and write for supervisors and owners.
for collection in ("attributes", "participants", "interviews", "codes"):
    API_POLICY[(f"{P}/{collection}/", "get")] = VIEWER
    API_POLICY[(f"{P}/{collection}/", "post")] = SUPERVISOR
    API_POLICY[(f"{P}/{collection}/{{id}}/", "get")] = VIEWER
    API_POLICY[(f"{P}/{collection}/{{id}}/", "patch")] = SUPERVISOR
    API_POLICY[(f"{P}/{collection}/{{id}}/", "delete")] = SUPERVISOR
for action in ("mark-anonymised", "status", "revise", "turns"):
    API_POLICY[(f"{P}/interviews/{{id}}/{action}/", "post")] = SUPERVISOR
for action in ("move", "merge"):
    API_POLICY[(f"{P}/codes/{{id}}/{action}/", "post")] = SUPERVISOR

# Page routes by URL name → {method: the least role that may use it}. Admin
# pages are for staff only and covered by tests/test_admin.py.
PAGE_POLICY = {
    "login": {"GET": PUBLIC, "POST": PUBLIC},
    "logout": {"POST": SIGNED_IN},
    "project-list": {"GET": SIGNED_IN},
    "api-docs": {"GET": SIGNED_IN},
    "api-schema": {"GET": SIGNED_IN},
    "project-home": {"GET": VIEWER},
    "member-add": {"GET": OWNER, "POST": OWNER},  # GET goes back to the page
    "member-role": {"GET": OWNER, "POST": OWNER},  # GET goes back to the page
    "member-remove": {"GET": OWNER, "POST": OWNER},  # GET goes back to the page
    "participant-list": {"GET": VIEWER, "POST": SUPERVISOR},
    "participant-detail": {"GET": VIEWER, "POST": SUPERVISOR},
    "coding-view": {"GET": VIEWER},
    "codebook": {"GET": VIEWER},
    "code-create": {"GET": SUPERVISOR, "POST": SUPERVISOR},  # GET goes back to the page
    "code-update": {"GET": SUPERVISOR, "POST": SUPERVISOR},  # GET goes back to the page
    "code-move": {"GET": SUPERVISOR, "POST": SUPERVISOR},  # GET goes back to the page
    "code-merge": {"GET": SUPERVISOR, "POST": SUPERVISOR},  # GET goes back to the page
    "code-split": {"GET": SUPERVISOR, "POST": SUPERVISOR},
    "retrieve": {"GET": VIEWER},
    "memos-page": {"GET": VIEWER, "POST": CODER},
    "analytics-dashboard": {"GET": VIEWER},
    "analytics-download": {"GET": VIEWER},
    "agreement-page": {"GET": SUPERVISOR},
    "disagreements-page": {"GET": SUPERVISOR, "POST": SUPERVISOR},  # POST settles, undoes, comments
    "import-upload": {"GET": SUPERVISOR},  # uploads go through the API
    "import-review": {"GET": SUPERVISOR},
    "exchange": {"GET": SUPERVISOR, "POST": SUPERVISOR},
    "audit-trail": {"GET": SUPERVISOR, "POST": SUPERVISOR},  # POST restores a deleted coding
    "project-import-qdpx-page": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "assignments": {"GET": SUPERVISOR, "POST": SUPERVISOR},
    "assignment-remove": {"GET": SUPERVISOR, "POST": SUPERVISOR},  # GET goes back to the page
    "assignment-status": {"GET": CODER, "POST": CODER},  # the coder's own; GET goes back to the page
    "my-assignments": {"GET": CODER},
    "project-blind-coding": {"GET": SUPERVISOR, "POST": SUPERVISOR},  # GET goes back to the page
    "interview-reveal": {"GET": SUPERVISOR, "POST": SUPERVISOR},  # GET goes back to the page
    "interview-unreveal": {"GET": SUPERVISOR, "POST": SUPERVISOR},  # GET goes back to the page
    "interview-sign-off": {"GET": SUPERVISOR, "POST": SUPERVISOR},  # GET goes back to the page
    # two-factor authentication: the signed-in user's own account (tests/test_two_factor.py)
    "two-factor": {"GET": SIGNED_IN},
    "two-factor-setup": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "two-factor-verify": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "two-factor-backup-codes": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "two-factor-remove": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "project-two-factor": {"GET": OWNER, "POST": OWNER},  # GET goes back to the page
    "project-min-cell-size": {"GET": OWNER, "POST": OWNER},  # GET goes back to the page
}
# Arguments of page routes that are not ids of project A's objects.
PAGE_ARGUMENTS: dict[str, dict] = {"analytics-download": {"table": "frequencies", "fmt": "csv"}}
ID_ARGUMENTS = {
    "project_pk",
    "interview_pk",
    "participant_pk",
    "code_pk",
    "coding_pk",
    "memo_pk",
    "member_pk",
    "file_pk",
    "assignment_pk",
}


def walk_patterns(patterns=None, prefix="", namespace=""):
    """(route string, URLPattern) for every pattern the resolver knows; the pattern's
    ``qualified_name`` is set to its reversible name (with its namespace)."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            pattern.qualified_name = f"{namespace}{pattern.name}" if pattern.name else None
            yield prefix + str(pattern.pattern), pattern


def is_api_view(pattern: URLPattern) -> bool:
    """DRF views appear in the OpenAPI schema, so the schema classifies them."""
    view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
    # The schema and docs views leave themselves out of the schema: classify them as pages.
    return (
        isinstance(view, type)
        and issubclass(view, APIView)
        and view not in (SpectacularSwaggerSplitView, SpectacularAPIView)
    )


def page_routes():
    for route, pattern in walk_patterns():
        if route.startswith("admin/") or is_api_view(pattern):
            continue
        yield route, pattern


def schema_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method


@pytest.fixture
def world(team):
    """Objects for every kind of id a route takes, in project A."""
    definition = services.create_attribute_definition(
        project=team.project, key="nationality", label="Nationality", kind="categorical", choices=["Iraq"]
    )
    coding = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=0, end=5
    )
    memo = coding_services.create_memo(project=team.project, author=team.coder, text="A note")
    membership = Membership.objects.get(project=team.project, user=team.coder2)
    batch = import_services.start_import(
        project=team.project, by=team.owner, files=[("LV-09.txt", b"Interviewer: Hello.\nParticipant: Hi.\n")]
    )
    term = import_services.add_sensitive_term(
        project=team.project, term="Grodno", category="place", by=team.owner
    )
    allowed = import_services.add_allowed_word(project=team.project, word="Minsk", by=team.owner)
    export_job = exports.start_export(project=team.project, by=team.owner, kind="qdc")
    saved = coding_services.create_saved_query(
        project=team.project, created_by=team.coder, name="Visa", expression='"Prior pushback"'
    )
    comment = coding_comments.add_comment(
        membership=Membership.objects.get(project=team.project, user=team.coder),
        coding=coding,
        text="Why here?",
    )
    settled = consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[coding], by=team.supervisor
    )
    (assignment,) = review.assign_interview(interview=team.interview, coders=[team.coder], by=team.supervisor)
    ids = {
        "members": membership.pk,
        "attributes": definition.pk,
        "participants": team.participant.pk,
        "interviews": team.interview.pk,
        "codes": team.code.pk,
        "codings": coding.pk,
        "memos": memo.pk,
        "imports": batch.pk,
        "import-files": batch.files.get().pk,
        "sensitive-terms": term.pk,
        "allowed-words": allowed.pk,
        "saved-queries": saved.pk,
        "assignments": assignment.pk,
        "exports": export_job.pk,
        "audit": AuditEvent.objects.filter(project=team.project).latest("id").pk,
        "comments": comment.pk,
        "consensus": settled.pk,
    }
    other_ids = {
        "members": Membership.objects.get(project=team.other_project, user=team.outsider).pk,
        "participants": team.other_interview.participant_id,
        "interviews": team.other_interview.pk,
        "codes": team.other_code.pk,
    }
    return team, ids, other_ids


def concrete(path: str, project_pk: int, ids: dict) -> str:
    url = path.replace("{project_pk}", str(project_pk))
    if "{interview_pk}" in url:
        url = url.replace("{interview_pk}", str(ids["interviews"]))
    if "{coding_pk}" in url:
        url = url.replace("{coding_pk}", str(ids["codings"]))
    if "{id}" in url:
        collection = re.search(r"/([a-z_-]+)/\{id\}/", url).group(1)
        url = url.replace("{id}", str(ids[collection]))
    return url


def call(client, method, url):
    with transaction.atomic():
        response = getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)
        transaction.set_rollback(True)
    return response


def expected_ok(status: int) -> bool:
    return status not in (401, 403, 404, 405) and status < 500


def test_every_api_operation_and_page_route_is_classified():
    operations = set(schema_operations())
    unclassified = sorted(operations - set(API_POLICY))
    assert not unclassified, f"API operations without an access policy: {unclassified}"
    stale = sorted(set(API_POLICY) - operations)
    assert not stale, f"Policies for operations that no longer exist: {stale}"

    unclassified_pages = [
        f"{route} ({pattern.name})" for route, pattern in page_routes() if pattern.name not in PAGE_POLICY
    ]
    assert not unclassified_pages, f"Page routes without an access policy: {unclassified_pages}"
    named = {pattern.name for _, pattern in page_routes()}
    assert not set(PAGE_POLICY) - named, (
        f"Policies for pages that no longer exist: {set(PAGE_POLICY) - named}"
    )


@pytest.mark.parametrize("role", ROLES)
def test_member_gets_what_their_role_allows_on_every_api_operation(world, api, role):
    team, ids, _ = world
    client = api.as_user(team.member(role))
    failures = []
    for (path, method), needed in sorted(API_POLICY.items()):
        if needed == PUBLIC:
            continue
        response = call(client, method, concrete(path, team.project.pk, ids))
        allowed = needed == SIGNED_IN or RANK[Role(role)] >= RANK[Role(needed)]
        if allowed and not expected_ok(response.status_code):
            failures.append(f"{method.upper()} {path}: {response.status_code}, expected to be allowed")
        if not allowed and response.status_code != 403:
            failures.append(f"{method.upper()} {path}: {response.status_code}, expected 403")
    assert not failures, "\n".join(failures)


def test_outsider_gets_404_on_every_project_api_operation(world, api):
    team, ids, _ = world
    client = api.as_user(team.outsider)
    failures = []
    for (path, method), _needed in sorted(API_POLICY.items()):
        if "{project_pk}" not in path:
            continue
        response = call(client, method, concrete(path, team.project.pk, ids))
        if response.status_code != 404:
            failures.append(f"{method.upper()} {path}: {response.status_code}")
    assert not failures, "outsider did not get 404:\n" + "\n".join(failures)


def test_outsider_gets_404_for_other_projects_objects_through_own_project_urls(world, api):
    """AC2 nested routes: /api/projects/<B>/<kind>/<id of A's object>/ is 404, for ids around A's too."""
    team, ids, _ = world
    client = api.as_user(team.outsider)
    failures = []
    for (path, method), _needed in sorted(API_POLICY.items()):
        if "{id}" not in path:
            continue
        collection = re.search(r"/([a-z_-]+)/\{id\}/", path).group(1)
        for delta in (0, 1, -1, 2, 7):
            foreign = {**ids, collection: ids[collection] + delta}
            url = concrete(path, team.other_project.pk, foreign)
            own_ids = {
                "members": set(team.other_project.memberships.values_list("pk", flat=True)),
                "participants": {team.other_interview.participant_id},
                "interviews": {team.other_interview.pk},
                "codes": {team.other_code.pk},
                "audit": set(team.other_project.audit_events.values_list("pk", flat=True)),
            }.get(collection, set())
            if foreign[collection] in own_ids:
                continue
            response = call(client, method, url)
            if response.status_code != 404:
                failures.append(f"{method.upper()} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_anonymous_and_deactivated_users_are_refused_everywhere(world):
    """A deactivated account's open session and API token stop working on the next request."""
    team, ids, _ = world
    session_client, token_client = APIClient(), APIClient()
    session_client.force_login(team.coder)
    token = Token.objects.create(user=team.coder)
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert session_client.get(f"/api/projects/{team.project.pk}/").status_code == 200
    assert token_client.get(f"/api/projects/{team.project.pk}/").status_code == 200
    team.coder.is_active = False
    team.coder.save()

    failures = []
    for who, client in (("anonymous", APIClient()), ("session", session_client), ("token", token_client)):
        for (path, method), needed in sorted(API_POLICY.items()):
            if needed == PUBLIC:
                continue
            response = call(client, method, concrete(path, team.project.pk, ids))
            if response.status_code not in (401, 403):
                failures.append(f"{who} {method.upper()} {path}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_coding_that_names_another_projects_code_is_refused_and_writes_nothing(world, api):
    team, _, _ = world
    before = team.project.codings.count(), team.other_project.codings.count()
    response = api.as_user(team.coder).post(
        f"/api/projects/{team.project.pk}/codings/",
        {"interview": team.interview.pk, "code": team.other_code.pk, "start": 0, "end": 4},
    )
    assert response.status_code == 400
    assert "code" in response.json()
    assert "Secret code" not in response.content.decode()
    assert (team.project.codings.count(), team.other_project.codings.count()) == before


def test_outsiders_lists_never_contain_another_projects_rows(world, api):
    """AC3: list endpoints of B, called by B's owner, hold B's rows only (canaries from A absent)."""
    team, _, _ = world
    canary = "CANARY-A-7f3e"
    coding_services.create_code(project=team.project, name=canary)
    services.create_participant(project=team.project, pseudonym=canary)
    other_coding = coding_services.create_coding(
        interview=team.other_interview, code=team.other_code, coder=team.outsider, start=0, end=5
    )
    other_objects = {"interviews": team.other_interview.pk, "codings": other_coding.pk}
    client = api.as_user(team.outsider)
    for (path, method), _needed in sorted(API_POLICY.items()):
        if method != "get" or "{id}" in path or "{project_pk}" not in path:
            continue
        response = client.get(concrete(path, team.other_project.pk, other_objects))
        assert response.status_code in (200, 400), path  # 400: an analytic that needs parameters
        assert canary not in body_text(response), path
    projects = client.get("/api/projects/").json()
    assert [p["id"] for p in projects["results"]] == [team.other_project.pk]
    assert projects["count"] == 1


def test_filtering_a_list_by_another_projects_id_answers_as_for_an_id_that_does_not_exist(world, api):
    """AC3: ``?interview=`` and the other id filters know only the project's own objects, so a
    member of B cannot tell which ids exist in A."""
    team, ids, _ = world
    a_ids = {
        "interview": team.interview.pk,
        "participant": team.participant.pk,
        "code": team.code.pk,
        "parent": team.code.pk,
        "coding": ids["codings"],
        "coder": team.coder.pk,
        "author": team.coder.pk,
    }
    missing = 999_999
    client = api.as_user(team.outsider)
    refused, differ = 0, []
    for (path, method), _needed in sorted(API_POLICY.items()):
        if method != "get" or "{id}" in path or "{coding_pk}" in path or "{project_pk}" not in path:
            continue
        url = concrete(path, team.other_project.pk, {"interviews": team.other_interview.pk})
        for name, a_id in a_ids.items():
            elsewhere, nowhere = client.get(url, {name: a_id}), client.get(url, {name: missing})
            # An unknown id is refused with 400 naming the filter (and perhaps the id given); an
            # unfiltered list answers 200.
            answers = [
                (r.status_code, re.sub(rf"\b{v}\b", "ID", r.content.decode()) if r.status_code == 400 else "")
                for r, v in ((elsewhere, a_id), (nowhere, missing))
            ]
            if answers[0] != answers[1]:
                differ.append(f"{path}?{name}=: {answers[0]} for A's id, {answers[1]} for none at all")
            refused += elsewhere.status_code == 400 and name in elsewhere.json()
    assert not differ, "\n".join(differ)
    assert refused >= 8  # codings, memos, assignments, interviews, codes: their id filters took part
    response = client.get(f"/api/projects/{team.other_project.pk}/codings/", {"interview": team.interview.pk})
    assert response.json() == {"interview": ["No such interview in this project."]}
    response = client.get(f"/api/projects/{team.other_project.pk}/codings/", {"coder": team.coder.pk})
    assert response.json() == {"coder": ["No such member of this project."]}


def body_text(response) -> str:
    """Everything a response carries, as text: streamed bodies joined, zip/XLSX archives unpacked."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    if raw.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            raw = b"".join(archive.read(name) for name in archive.namelist())
    return raw.decode("utf-8", errors="replace")


def page_url(pattern: URLPattern, team, ids) -> str:
    """A concrete URL for a page route, with ids of project A's objects."""
    values = {
        "project_pk": team.project.pk,
        "interview_pk": ids["interviews"],
        "participant_pk": ids["participants"],
        "code_pk": ids["codes"],
        "coding_pk": ids["codings"],
        "memo_pk": ids["memos"],
        "member_pk": ids["members"],
        "file_pk": ids["import-files"],
        "assignment_pk": ids["assignments"],
        **PAGE_ARGUMENTS.get(pattern.name, {}),
    }
    return reverse(pattern.qualified_name, kwargs={name: values[name] for name in pattern.pattern.converters})


def test_every_page_route_can_be_filled_with_ids():
    unfillable = [
        route
        for route, pattern in page_routes()
        if set(pattern.pattern.converters) - ID_ARGUMENTS - set(PAGE_ARGUMENTS.get(pattern.name, {}))
    ]
    assert not unfillable, f"Page routes with an argument the matrix cannot fill: {unfillable}"


def page_request(client, method: str, url: str):
    with transaction.atomic():
        response = client.get(url) if method == "GET" else client.post(url, {})
        transaction.set_rollback(True)
    return response


def project_page_operations():
    for _route, pattern in page_routes():
        if "project_pk" in pattern.pattern.converters:
            for method, needed in PAGE_POLICY[pattern.name].items():
                yield pattern, method, needed


@pytest.mark.parametrize("role", ROLES)
def test_member_gets_what_their_role_allows_on_every_page(world, client, role):
    team, ids, _ = world
    failures = []
    for pattern, method, needed in project_page_operations():
        client.force_login(team.member(role))
        url = page_url(pattern, team, ids)
        response = page_request(client, method, url)
        allowed = RANK[Role(role)] >= RANK[Role(needed)]
        if allowed and not expected_ok(response.status_code):
            failures.append(f"{method} {url}: {response.status_code}, expected to be allowed")
        if not allowed and response.status_code != 403:
            failures.append(f"{method} {url}: {response.status_code}, expected 403")
    assert not failures, "\n".join(failures)


def test_outsider_gets_404_and_anonymous_goes_to_login_on_every_project_page(world, client):
    team, ids, _ = world
    failures = []
    for pattern, method, _needed in project_page_operations():
        url = page_url(pattern, team, ids)
        response = page_request(client, method, url)
        if response.status_code != 302 or "/accounts/login/" not in response["Location"]:
            failures.append(f"anonymous {method} {url}: {response.status_code}")
    client.force_login(team.outsider)
    for pattern, method, _needed in project_page_operations():
        url = page_url(pattern, team, ids)
        response = page_request(client, method, url)
        if response.status_code != 404:
            failures.append(f"outsider {method} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)
    page = client.get("/")
    assert page.status_code == 200
    assert team.project.name not in page.content.decode()


def test_methods_a_page_does_not_take_are_refused(world, client):
    team, ids, _ = world
    client.force_login(team.owner)
    failures = []
    for _route, pattern in page_routes():
        if pattern.name in ("login", "api-docs", "api-schema"):
            continue
        url = page_url(pattern, team, ids)
        for method in {"GET", "POST"} - set(PAGE_POLICY[pattern.name]):
            response = page_request(client, method, url)
            if response.status_code != 405:
                failures.append(f"{method} {url}: {response.status_code}, expected 405")
    assert not failures, "\n".join(failures)


def test_pages_for_signed_in_users_refuse_anonymous_visitors(world, client):
    team, ids, _ = world
    failures = []
    for _route, pattern in page_routes():
        if PAGE_POLICY[pattern.name].get("GET") != SIGNED_IN:
            continue
        response = client.get(page_url(pattern, team, ids))
        redirected = response.status_code == 302 and "/accounts/login/" in response["Location"]
        if not redirected and response.status_code not in (401, 403):
            failures.append(f"GET {pattern.name}: {response.status_code}")
    assert not failures, "\n".join(failures)
