"""Every list endpoint runs a fixed number of queries, however many rows it lists.

Each endpoint is measured with 2 and with 20 rows; the counts must be equal
and match the pinned number, so an N+1 (a per-row query) fails the build.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coding import services as coding_services
from interviews import services
from interviews.models import Role

from .conftest import make_interview
from .factories import UserFactory

# Queries per list request: membership lookup, page count, the rows, plus one
# per prefetch. Raise a number only with a reason.
PINNED = {
    "projects": 2,
    "members": 3,
    "attributes": 3,
    "participants": 4,
    "interviews": 3,
    "codes": 3,
    "codings": 5,  # + the texts the quotes are cut from (one read each) + the audit trail's read row
    "memos": 3,
}


def add_rows(team, endpoint, first, last):
    """Give project A rows number ``first`` to ``last - 1`` of the listed kind, built as users would."""
    p = team.project
    numbers = range(first, last)
    if endpoint == "projects":
        for i in numbers:
            services.create_project(name=f"Study {i}", owner=team.coder)
    elif endpoint == "members":
        for i in numbers:
            services.add_member(project=p, user=UserFactory(username=f"member{i}"), role=Role.CODER)
    elif endpoint == "attributes":
        for i in numbers:
            services.create_attribute_definition(project=p, key=f"a{i}", label=f"A {i}", kind="integer")
    elif endpoint == "participants" and first == 0:
        services.create_attribute_definition(
            project=p, key="nationality", kind="categorical", choices=["Iraq", "Syria"]
        )
        services.create_attribute_definition(
            project=p, key="languages", kind="categorical", choices=["Arabic", "Kurmanji"], multiple=True
        )
        services.create_attribute_definition(project=p, key="attempts", kind="integer")
    if endpoint == "participants":
        for i in numbers:
            services.create_participant(
                project=p,
                pseudonym=f"LV-{i + 10}",
                attributes={"nationality": "Iraq", "languages": ["Arabic", "Kurmanji"], "attempts": i},
            )
    elif endpoint == "interviews":
        for i in numbers:
            participant = services.create_participant(project=p, pseudonym=f"LV-{i + 10}")
            interview = make_interview(participant, by=team.owner, title=f"Interview {i}")
            coding_services.create_coding(
                interview=interview, code=team.code, coder=team.coder, start=0, end=4
            )
    elif endpoint == "codes":
        for i in numbers:
            code = coding_services.create_code(project=p, name=f"Code {i}", parent=team.code_group)
            coding_services.create_coding(
                interview=team.interview, code=code, coder=team.coder, start=i, end=i + 3
            )
    elif endpoint == "codings":
        for i in numbers:
            coder = team.coder if i % 2 else team.coder2
            code = team.code if i % 3 else team.code2
            coding_services.create_coding(
                interview=team.interview, code=code, coder=coder, start=i, end=i + 5
            )
    elif endpoint == "memos":
        for i in numbers:
            target = [None, team.code, team.interview, team.participant][i % 4]
            coding_services.create_memo(project=p, author=team.coder, text=f"memo {i}", target=target)


def path(team, endpoint):
    if endpoint == "projects":
        return "/api/projects/"
    return f"/api/projects/{team.project.pk}/{endpoint}/"


def _bookkeeping(sql):
    return "SAVEPOINT" in sql or "django_session" in sql


def list_queries(api, team, endpoint):
    """The queries one list request runs.

    Left out: the savepoints of ATOMIC_REQUESTS and the session middleware's
    own queries, which are per request, not per row.
    """
    client = api.as_user(team.coder)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path(team, endpoint))
    assert response.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries if not _bookkeeping(q["sql"])]
    return response.json()["count"], sql


@pytest.mark.parametrize("endpoint", sorted(PINNED))
def test_list_query_count_does_not_grow_with_rows(api, team, endpoint):
    add_rows(team, endpoint, 0, 2)
    few_rows, few = list_queries(api, team, endpoint)
    add_rows(team, endpoint, 2, 20)
    many_rows, many = list_queries(api, team, endpoint)
    assert many_rows >= 20 and many_rows - few_rows == 18
    assert len(few) == len(many), "\n".join(many)
    assert len(many) == PINNED[endpoint], "\n".join(many)


def test_pinned_count_holds_under_django_assert_num_queries(api, team, django_assert_num_queries):
    add_rows(team, "codings", 0, 20)
    client = api.as_user(team.viewer)
    client.get(path(team, "codings"))  # the first request also creates the session
    with CaptureQueriesContext(connection) as warm:
        client.get(path(team, "codings"))
    second = [q["sql"] for q in warm.captured_queries]
    assert len([q for q in second if not _bookkeeping(q)]) == PINNED["codings"]
    with django_assert_num_queries(len(second)):
        response = client.get(path(team, "codings"))
    assert len(response.json()["results"]) == 20


def test_interview_detail_with_turns_has_a_fixed_query_count(api, team):
    client = api.as_user(team.viewer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/projects/{team.project.pk}/interviews/{team.interview.pk}/")
    assert len(response.json()["turns"]) == 4
    # membership, the interview with its participant, its turns, the audit trail's read row
    assert len([q for q in queries.captured_queries if not _bookkeeping(q["sql"])]) == 4
