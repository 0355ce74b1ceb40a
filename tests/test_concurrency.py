"""Concurrency: no lost update, no duplicate, no orphan, no 500 (SECURITY.md CC1–CC4).

CC1 optimistic concurrency: a detail answers an ``ETag`` (id and ``updated_at``); a PATCH or
DELETE must send it back as ``If-Match`` (428 and nothing written without it; ``*`` means
"whatever is there"); one whose ``If-Match`` no longer holds gets 412 and writes nothing. CC2
identical creates at once: one row, the other a 400 naming the field. CC3 merging or deleting a
code while coders apply it: every acknowledged coding survives on a code that exists. CC4
``Idempotency-Key`` on coding creation: replays, one of them concurrent, make one coding.

The tests with threads need real concurrent transactions: they run on PostgreSQL with
``django_db(transaction=True)`` (each thread has its own connection) and are skipped on SQLite,
whose in-memory test database other connections cannot share.

Page forms that edit a code or a participant carry the version they showed (hidden) and refuse a
stale one the same way, showing what is stored now.

Repetitions: RACE_REPEAT (default 8) is the number of CC1 collisions per kind of object; the
other races scale from it, so ``RACE_REPEAT=200`` gives SECURITY.md's counts: CC1 200 collisions
each for a memo, a code and a coding, CC2 50 rounds, CC3 10 merges and 10 deletes against 10
coding threads, CC4 25 rounds of 5 replays. ``make resilience`` runs that on a private PostgreSQL
(tests/resilience/test_races.py); RACE_REPORT names a file that gets each race's tallies.
"""

import html
import os
import threading
import time
import uuid
from collections import Counter
from functools import partial

import pytest
from django.db import OperationalError, connection, connections
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from coding import comments as coding_comments
from coding import review
from coding import services as coding_services
from coding.models import Assignment, Code, Coding, CodingComment, Memo, SavedQuery
from coding.selectors import flatten_tree
from interviews.models import AuditEvent, Interview, Membership, Participant

from .conftest import make_interview
from .db_state import row_counts, row_values

REPEAT = int(os.environ.get("RACE_REPEAT", "8"))
FULL_REPEAT = 200  # SECURITY.md's CC1 count; the other counts are given at this scale


def rounds(full: int) -> int:
    """SECURITY.md's count ``full`` when RACE_REPEAT is 200, proportionally fewer below (at least 2)."""
    return max(2, round(full * REPEAT / FULL_REPEAT))


def report(line: str) -> None:
    """A race's tallies, appended to RACE_REPORT when it names a file (``make resilience``)."""
    path = os.environ.get("RACE_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")


# ---------------------------------------------------------------- helpers


def client_for(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def collide(*calls):
    """Run each call in a thread of its own, released together by a barrier; their results
    (or the exception each raised), in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=20)
            results[i] = call()
        except BaseException as exc:  # reported to the test, never lost in the thread
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL; the PostgreSQL pass runs this")


def base(team):
    return f"/api/projects/{team.project.pk}"


def a_coding(team, coder=None, start=0, end=5, code=None, interview=None):
    return coding_services.create_coding(
        interview=interview or team.interview,
        code=code or team.code,
        coder=coder or team.coder,
        start=start,
        end=end,
    )


def long_interview(team):
    """An interview with room for hundreds of distinct passages."""
    return make_interview(team.participant, text="Participant: " + "we walked " * 300, by=team.owner)


# Each kind of object a researcher edits: who edits it, its URL, the field changed, and how to
# read the object back from the database.
def resources(team):
    memo = coding_services.create_memo(project=team.project, author=team.coder, text="first thoughts")
    coding = a_coding(team)
    return {
        "code": (
            team.supervisor,
            f"codes/{team.code.pk}/",
            "definition",
            lambda: Code.objects.get(pk=team.code.pk),
        ),
        "memo": (team.coder, f"memos/{memo.pk}/", "text", lambda: Memo.objects.get(pk=memo.pk)),
        "participant": (
            team.supervisor,
            f"participants/{team.participant.pk}/",
            "pseudonym",
            lambda: Participant.objects.get(pk=team.participant.pk),
        ),
        "interview": (
            team.supervisor,
            f"interviews/{team.interview.pk}/",
            "title",
            lambda: Interview.objects.get(pk=team.interview.pk),
        ),
        "coding": (team.coder, f"codings/{coding.pk}/", "comment", lambda: Coding.objects.get(pk=coding.pk)),
    }


RESOURCES = ["code", "memo", "participant", "interview", "coding"]


def every_versioned_object(team):
    """Every kind of object that answers an ETag: (who changes it, URL, a change, its model, pk)."""
    editable = resources(team)
    coding = Coding.objects.get(pk=int(editable["coding"][1].split("/")[1]))
    membership = Membership.objects.get(project=team.project, user=team.coder)
    comment = coding_comments.add_comment(membership=membership, coding=coding, text="Is this a visa?")
    (assignment,) = review.assign_interview(interview=team.interview, coders=[team.coder], by=team.supervisor)
    query = coding_services.create_saved_query(
        project=team.project, created_by=team.coder, name="Visa", expression=f'"{team.code.name}"'
    )
    objects = {
        kind: (user, path, {field: "LV-96 changed"}, type(read()), read().pk)
        for kind, (user, path, field, read) in editable.items()
    }
    objects["comment"] = (
        team.coder,
        f"codings/{coding.pk}/comments/{comment.pk}/",
        {"text": "Is this a tourist visa?"},
        CodingComment,
        comment.pk,
    )
    objects["assignment"] = (
        team.supervisor,
        f"assignments/{assignment.pk}/",
        {"status": "in_progress"},
        Assignment,
        assignment.pk,
    )
    objects["saved query"] = (
        team.coder,
        f"analytics/saved-queries/{query.pk}/",
        {"name": "Visa holders"},
        SavedQuery,
        query.pk,
    )
    return objects


VERSIONED = [*RESOURCES, "comment", "assignment", "saved query"]


# ---------------------------------------------------------------- CC1: ETag and If-Match


@pytest.mark.parametrize("kind", RESOURCES)
def test_detail_answers_an_etag_that_changes_when_the_row_changes(team, kind):
    user, path, field, _ = resources(team)[kind]
    client = client_for(user)
    first = client.get(f"{base(team)}/{path}")
    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert client.get(f"{base(team)}/{path}")["ETag"] == first["ETag"]  # stable while unchanged
    changed = client.patch(
        f"{base(team)}/{path}", {field: "LV-99 changed"}, format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] != first["ETag"]
    assert client.get(f"{base(team)}/{path}")["ETag"] == changed["ETag"]


@pytest.mark.parametrize("kind", VERSIONED)
def test_a_change_or_delete_without_if_match_gets_428_and_nothing_is_written(team, kind):
    user, path, change, model, pk = every_versioned_object(team)[kind]
    client = client_for(user)
    url = f"{base(team)}/{path}"
    assert client.get(url)["ETag"]  # the version the client should have sent
    rows, events = row_values(model), AuditEvent.objects.count()
    for response in (client.patch(url, change, format="json"), client.delete(url)):
        assert response.status_code == 428, (kind, response.status_code, response.content)
        assert "If-Match" in response.json()["detail"] and "ETag" in response.json()["detail"]
    assert row_values(model) == rows and model.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("kind", VERSIONED)
def test_if_match_star_changes_whatever_is_there(team, kind):
    user, path, change, model, pk = every_versioned_object(team)[kind]
    response = client_for(user).patch(f"{base(team)}/{path}", change, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 200, response.content
    ((field, value),) = change.items()
    assert getattr(model.objects.get(pk=pk), field) == value


def test_an_empty_if_match_is_no_version(team):
    url = f"{base(team)}/codes/{team.code.pk}/"
    response = client_for(team.supervisor).patch(url, {"definition": "x"}, format="json", HTTP_IF_MATCH="")
    assert response.status_code == 428
    assert Code.objects.get(pk=team.code.pk).definition == ""


def test_objects_without_a_version_need_no_if_match(team):
    """Members and attribute definitions answer no ETag, so nothing could be sent."""
    membership = Membership.objects.get(project=team.project, user=team.viewer)
    url = f"{base(team)}/members/{membership.pk}/"
    assert not client_for(team.owner).get(url).has_header("ETag")
    response = client_for(team.owner).patch(url, {"role": "coder"}, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("kind", RESOURCES)
def test_a_change_based_on_a_stale_version_is_refused_with_412_and_nothing_is_written(team, kind):
    user, path, field, read = resources(team)[kind]
    alice, bob = client_for(user), client_for(user)
    seen = alice.get(f"{base(team)}/{path}")["ETag"]
    assert bob.get(f"{base(team)}/{path}")["ETag"] == seen
    first = alice.patch(f"{base(team)}/{path}", {field: "LV-98 Alice"}, format="json", HTTP_IF_MATCH=seen)
    assert first.status_code == 200, first.content
    stored = getattr(read(), field)
    counts = row_counts()
    second = bob.patch(f"{base(team)}/{path}", {field: "LV-97 Bob"}, format="json", HTTP_IF_MATCH=seen)
    assert second.status_code == 412
    assert "changed this since you loaded it" in second.json()["detail"]
    assert getattr(read(), field) == stored == "LV-98 Alice"
    assert row_counts() == counts
    # Bob reloads and makes his change on the current version.
    again = bob.patch(
        f"{base(team)}/{path}", {field: "LV-97 Bob"}, format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert again.status_code == 200 and getattr(read(), field) == "LV-97 Bob"


def test_a_delete_based_on_a_stale_version_is_refused_and_the_coding_stays(team):
    coding = a_coding(team)
    client = client_for(team.coder)
    url = f"{base(team)}/codings/{coding.pk}/"
    seen = client.get(url)["ETag"]
    edited = client.patch(url, {"comment": "edited elsewhere"}, format="json", HTTP_IF_MATCH=seen)
    assert edited.status_code == 200
    assert client.delete(url, HTTP_IF_MATCH=seen).status_code == 412
    assert Coding.objects.filter(pk=coding.pk).exists()
    assert client.delete(url, HTTP_IF_MATCH=client.get(url)["ETag"]).status_code == 204
    assert not Coding.objects.filter(pk=coding.pk).exists()


def test_if_match_star_and_a_list_of_tags_are_understood(team):
    url = f"{base(team)}/codes/{team.code.pk}/"
    client = client_for(team.supervisor)
    tag = client.get(url)["ETag"]
    assert client.patch(url, {"definition": "a"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    current = client.get(url)["ETag"]
    both = f"{tag}, W/{current}"
    assert client.patch(url, {"definition": "b"}, format="json", HTTP_IF_MATCH=both).status_code == 200


def test_a_stale_if_match_from_an_outsider_is_still_404(team):
    url = f"{base(team)}/codes/{team.code.pk}/"
    response = client_for(team.outsider).patch(url, {"definition": "x"}, format="json", HTTP_IF_MATCH='"1-1"')
    assert response.status_code == 404
    response = client_for(team.viewer).patch(url, {"definition": "x"}, format="json", HTTP_IF_MATCH='"1-1"')
    assert response.status_code == 403
    # Without If-Match too: who may not change it learns that first, not that a version is missing.
    assert client_for(team.outsider).patch(url, {"definition": "x"}, format="json").status_code == 404
    assert client_for(team.viewer).delete(url).status_code == 403


def test_the_coding_view_data_carries_each_codings_version(team):
    coding = a_coding(team)
    url = f"{base(team)}/codings/{coding.pk}/"
    client = client_for(team.coder)
    data = client.get(f"{base(team)}/interviews/{team.interview.pk}/coding-data/").json()
    (row,) = [c for c in data["codings"] if c["id"] == coding.pk]
    assert row["etag"] == client.get(url)["ETag"]


def test_the_comment_list_carries_each_comments_version(team):
    """The coding view resolves a thread with the version it listed (coding_comments.js)."""
    coding = a_coding(team)
    membership = Membership.objects.get(project=team.project, user=team.coder)
    comment = coding_comments.add_comment(membership=membership, coding=coding, text="Visa?")
    url = f"{base(team)}/codings/{coding.pk}/comments/"
    client = client_for(team.supervisor)
    (listed,) = client.get(url).json()
    assert listed["etag"] == client.get(f"{url}{comment.pk}/")["ETag"]
    resolved = client.patch(
        f"{url}{comment.pk}/", {"resolved": True}, format="json", HTTP_IF_MATCH=listed["etag"]
    )
    assert resolved.status_code == 200
    # A second tab that listed the thread before it was resolved cannot reopen it unseen.
    stale = client.patch(
        f"{url}{comment.pk}/", {"resolved": False}, format="json", HTTP_IF_MATCH=listed["etag"]
    )
    assert stale.status_code == 412 and CodingComment.objects.get(pk=comment.pk).resolved


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["memo", "code", "coding"])
def test_two_editors_colliding_get_one_success_and_one_412_every_time(team, kind):
    """CC1: both read version v1, both write with If-Match v1 at the same moment, REPEAT times."""
    needs_postgresql()
    user, path, field, read = resources(team)[kind]
    url = f"{base(team)}/{path}"
    alice, bob = client_for(user), client_for(user)
    tally, wrong = Counter(), []

    def timed(call, *args, **kwargs):
        started = time.monotonic()
        response = call(*args, **kwargs)
        return response, started, time.monotonic()

    for round_ in range(REPEAT):
        seen = alice.get(url)["ETag"]
        assert bob.get(url)["ETag"] == seen
        timings = collide(
            partial(timed, alice.patch, url, {field: f"Alice {round_}"}, format="json", HTTP_IF_MATCH=seen),
            partial(timed, bob.patch, url, {field: f"Bob {round_}"}, format="json", HTTP_IF_MATCH=seen),
        )
        answers = [response for response, _, _ in timings]
        # Overlapping: the second request started before the first had its answer.
        tally["overlapping"] += max(t[1] for t in timings) < min(t[2] for t in timings)
        codes = sorted(a.status_code for a in answers)
        tally.update(codes)
        tally["both 2xx"] += all(200 <= c < 300 for c in codes)
        if codes != [200, 412]:
            wrong.append((round_, codes, [a.content for a in answers]))
            continue
        (won,) = [i for i, a in enumerate(answers) if a.status_code == 200]
        winner = ("Alice", "Bob")[won]
        # The winner's change, whole, and the version the winner was given is the current one.
        if getattr(read(), field) != f"{winner} {round_}" or alice.get(url)["ETag"] != answers[won]["ETag"]:
            wrong.append((round_, "final state", getattr(read(), field), winner))
    report(
        f"CC1 {kind}: {REPEAT} collisions, {tally[200]} x 200, {tally[412]} x 412, "
        f"{tally['both 2xx']} with two 2xx, {len(wrong)} wrong ({tally['overlapping']} of the "
        "collisions had both requests in flight at once)"
    )
    assert tally["both 2xx"] == 0 and not wrong, (tally, wrong[:5])
    assert tally[200] == tally[412] == REPEAT


# ---------------------------------------------------------------- CC2: identical creates at once


def one_created_one_refused(answers, field, fragment):
    assert sorted(a.status_code for a in answers) == [201, 409], [a.content for a in answers]
    (refused,) = [a for a in answers if a.status_code == 409]
    assert fragment in refused.json()[field][0]


@pytest.mark.django_db(transaction=True)
def test_identical_creates_at_once_make_one_row_and_no_500(team):
    needs_postgresql()
    codings, codes, participants = (f"{base(team)}/{name}/" for name in ("codings", "codes", "participants"))
    interview = long_interview(team)
    n_rounds = rounds(50)
    for n in range(n_rounds):
        # Two coders' tabs post the same coding.
        body = {"interview": interview.pk, "code": team.code.pk, "start": n * 4, "end": n * 4 + 3}
        one, two = client_for(team.coder), client_for(team.coder)
        answers = collide(
            partial(one.post, codings, body, format="json"), partial(two.post, codings, body, format="json")
        )
        one_created_one_refused(answers, "code", "already coded this passage")
        assert Coding.objects.filter(interview=interview, start=n * 4, end=n * 4 + 3).count() == 1

        # Two supervisors create the same code; the spellings differ in case only.
        first = {"name": f"Pushback {n}", "parent": team.code_group.pk}
        second = {"name": f"PUSHBACK {n}", "parent": team.code_group.pk}
        one, two = client_for(team.supervisor), client_for(team.owner)
        answers = collide(
            partial(one.post, codes, first, format="json"), partial(two.post, codes, second, format="json")
        )
        one_created_one_refused(answers, "name", "already exists")
        assert Code.objects.filter(parent=team.code_group, name__iexact=f"pushback {n}").count() == 1

        # Two supervisors add the same participant.
        body = {"pseudonym": f"LV-{100 + n}"}
        answers = collide(
            partial(one.post, participants, body, format="json"),
            partial(two.post, participants, body, format="json"),
        )
        one_created_one_refused(answers, "pseudonym", "already called")
        assert Participant.objects.filter(project=team.project, pseudonym=body["pseudonym"]).count() == 1
    report(f"CC2: {n_rounds} rounds x 3 identical creates at once: one 201 and one 409 each, no 500")


# ---------------------------------------------------------------- CC3: merge or delete while coding


def coding_storm(team, interview, code, codings_url, threads=10, each=4, offset=0):
    """``threads`` coders' requests applying ``code`` to distinct passages; each thread's
    answers. Distinct passages, so every 201 must leave exactly one row."""

    def apply(i):
        client = client_for(team.coder if i % 2 else team.coder2)
        answers = []
        for j in range(each):
            start = offset + (i * each + j) * 2
            body = {"interview": interview.pk, "code": code.pk, "start": start, "end": start + 1}
            answers.append(client.post(codings_url, body, format="json"))
        return answers

    return [lambda i=i: apply(i) for i in range(threads)]


def assert_no_orphans_and_every_acknowledged_coding_kept(answers_by_thread, allowed):
    answers = [a for thread in answers_by_thread for a in thread]
    assert all(a.status_code in allowed for a in answers), sorted({a.status_code for a in answers})
    acknowledged = [a.json()["id"] for a in answers if a.status_code == 201]
    assert Coding.objects.filter(pk__in=acknowledged).count() == len(acknowledged)
    existing_codes = set(Code.objects.values_list("pk", flat=True))
    assert set(Coding.objects.values_list("code_id", flat=True)) <= existing_codes
    for refused in (a for a in answers if a.status_code == 400):
        assert "code" in refused.json(), refused.content
    return acknowledged


def merge_once_coding_is_under_way(supervisor, team, source, target, interview):
    deadline = time.monotonic() + 10
    while (
        not Coding.objects.filter(interview=interview, code=source).exists() and time.monotonic() < deadline
    ):
        time.sleep(0.005)
    return supervisor.post(f"{base(team)}/codes/{source.pk}/merge/", {"target": target.pk}, format="json")


@pytest.mark.django_db(transaction=True)
def test_merging_a_code_while_ten_coders_apply_it_loses_no_coding_and_leaves_no_orphan(team):
    needs_postgresql()
    codings_url = f"{base(team)}/codings/"
    interview = long_interview(team)
    n_rounds, tally = rounds(10), Counter()
    for round_ in range(n_rounds):
        source = coding_services.create_code(project=team.project, name=f"Forest {round_}")
        target = coding_services.create_code(project=team.project, name=f"Border forest {round_}")
        a_coding(team, code=source, start=100 + round_ * 3, end=101 + round_ * 3)
        before = Coding.objects.filter(code__in=[source, target]).count()
        supervisor = client_for(team.supervisor)
        results = collide(
            *coding_storm(team, interview, source, codings_url, offset=round_ * 80),
            partial(merge_once_coding_is_under_way, supervisor, team, source, target, interview),
        )
        merge = results[-1]
        assert merge.status_code == 200, merge.content
        acknowledged = assert_no_orphans_and_every_acknowledged_coding_kept(results[:-1], {201, 400})
        tally.update(a.status_code for thread in results[:-1] for a in thread)
        assert not Code.objects.filter(pk=source.pk).exists()
        # Conserved: what was there plus every acknowledged coding, all now on the target.
        assert Coding.objects.filter(code=target).count() == before + len(acknowledged)
        assert acknowledged  # the merge came in the middle of the coding, not before it
        assert set(Coding.objects.filter(pk__in=acknowledged).values_list("code_id", flat=True)) == {
            target.pk
        }
    report(
        f"CC3 merge: {n_rounds} merges against 10 coding threads: {tally[201]} codings acknowledged "
        f"and kept on the target, {tally[400]} refused (code gone), 0 orphans, 0 x 500"
    )


@pytest.mark.django_db(transaction=True)
def test_deleting_a_code_while_ten_coders_apply_it_leaves_no_orphan(team):
    """Refused while codings use it, so either the delete wins (and every coding after it is
    refused) or the codings do (and the delete is refused, counting them)."""
    needs_postgresql()
    codings_url = f"{base(team)}/codings/"
    interview = long_interview(team)
    n_rounds, outcomes = rounds(10), Counter()
    for round_ in range(n_rounds):
        code = coding_services.create_code(project=team.project, name=f"Rumour {round_}")
        supervisor = client_for(team.supervisor)
        url = f"{base(team)}/codes/{code.pk}/"
        seen = supervisor.get(url)["ETag"]
        # The delete goes first in the list, so some rounds it wins and some the coders do.
        results = collide(
            partial(supervisor.delete, url, HTTP_IF_MATCH=seen),
            *coding_storm(team, interview, code, codings_url, each=2, offset=1000 + round_ * 40),
        )
        delete = results[0]
        assert delete.status_code in (204, 400), delete.content
        outcomes[delete.status_code] += 1
        acknowledged = assert_no_orphans_and_every_acknowledged_coding_kept(results[1:], {201, 400})
        if delete.status_code == 204:
            assert not acknowledged and not Code.objects.filter(pk=code.pk).exists()
        else:
            assert "applied" in delete.json()["code"][0] and Code.objects.filter(pk=code.pk).exists()
            assert Coding.objects.filter(code=code).count() == len(acknowledged)
    report(
        f"CC3 delete: {n_rounds} deletes against 10 coding threads: {outcomes[204]} deleted first, "
        f"{outcomes[400]} refused as the code was in use, 0 orphans, 0 x 500"
    )


# ---------------------------------------------------------------- CC4: idempotency keys


def post_coding(client, team, key, start=0, end=5, code=None):
    body = {"interview": team.interview.pk, "code": (code or team.code).pk, "start": start, "end": end}
    return client.post(f"{base(team)}/codings/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retried_coding_post_with_the_same_key_makes_one_coding(team):
    client = client_for(team.coder)
    key = uuid.uuid4().hex
    first = post_coding(client, team, key)
    assert first.status_code == 201, first.content
    counts = row_counts()
    for _ in range(4):
        again = post_coding(client, team, key)
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert again.json()["quote"] == first.json()["quote"]
    assert row_counts() == counts  # not a row more, audit trail included
    assert Coding.objects.get(pk=first.json()["id"]).request_key == key


@pytest.mark.django_db(transaction=True)
def test_five_replays_of_a_coding_post_one_of_them_concurrent_make_one_coding(team):
    """CC4: the same POST with the same Idempotency-Key 5 times, the first two at once."""
    needs_postgresql()
    interview = long_interview(team)
    n_rounds, tally = rounds(25), Counter()
    for round_ in range(n_rounds):
        key = uuid.uuid4().hex
        body = {"interview": interview.pk, "code": team.code.pk, "start": round_ * 3, "end": round_ * 3 + 2}

        def post(client, body=body, key=key):
            return client.post(f"{base(team)}/codings/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)

        answers = collide(partial(post, client_for(team.coder2)), partial(post, client_for(team.coder2)))
        answers += [post(client_for(team.coder2)) for _ in range(3)]
        codes = sorted(a.status_code for a in answers)
        tally.update(codes)
        assert codes == [200, 200, 200, 200, 201], [a.content for a in answers]
        assert len({a.json()["id"] for a in answers}) == 1
        assert Coding.objects.filter(request_key=key).count() == 1
        assert Coding.objects.filter(interview=interview, start=round_ * 3, end=round_ * 3 + 2).count() == 1
    report(
        f"CC4: {n_rounds} rounds of 5 replays (2 at once): {tally[201]} x 201, {tally[200]} x 200 "
        "with the same id, 1 coding each"
    )


def test_the_same_key_for_another_passage_is_refused_with_422(team):
    client = client_for(team.coder)
    key = uuid.uuid4().hex
    assert post_coding(client, team, key).status_code == 201
    counts = row_counts()
    other = post_coding(client, team, key, start=6, end=9)
    assert other.status_code == 422
    assert "already used for another passage" in other.json()["idempotency_key"][0]
    assert row_counts() == counts


def test_keys_belong_to_their_coder(team):
    key = uuid.uuid4().hex
    mine = post_coding(client_for(team.coder), team, key)
    theirs = post_coding(client_for(team.coder2), team, key)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


@pytest.mark.parametrize("key", ["x" * 65, "two words", "ключ"])
def test_a_malformed_key_is_refused_naming_the_header(team, key):
    counts = row_counts()
    response = post_coding(client_for(team.coder), team, key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert row_counts() == counts


def test_without_a_key_a_second_post_is_the_duplicate_it_is(team):
    client = client_for(team.coder)
    body = {"interview": team.interview.pk, "code": team.code.pk, "start": 0, "end": 5}
    assert client.post(f"{base(team)}/codings/", body, format="json").status_code == 201
    again = client.post(f"{base(team)}/codings/", body, format="json")
    assert again.status_code == 409 and "already coded" in again.json()["code"][0]


# ---------------------------------------------------------------- the coding view sends both headers


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_coding_view_sends_a_key_per_coding_and_refuses_to_overwrite_someone_elses_change(page, team):
    from .browser import log_in
    from .test_workbench_browser import SELECT_JS

    interview = make_interview(
        team.participant, text="Participant: We crossed the river at night.\n", by=team.owner
    )
    log_in(page, "cora_coder", next_path=f"/projects/{team.project.pk}/interviews/{interview.pk}/code/")
    page.wait_for_selector("body[data-workbench=ready]")
    page.evaluate(SELECT_JS, ["crossed the river", "crossed the river"])
    page.wait_for_function("() => window.workbench.pending() !== null")
    page.click(f"button.wb-code[data-code='{team.code.pk}']")
    page.wait_for_function("() => document.querySelectorAll('#wb-stripes .wb-stripe').length === 1")
    coding = Coding.objects.get(interview=interview)
    assert len(coding.request_key) == 32  # the create carried an Idempotency-Key

    page.click(f"#wb-stripes .wb-stripe[data-coding='{coding.pk}']")
    page.wait_for_selector("#wb-editor:not([hidden])")
    # Polling paused (as in a background tab), a supervisor changes the coding meanwhile.
    page.evaluate("() => Object.defineProperty(document, 'hidden', { get: () => true })")
    # The live server may still be answering the opened editor's reads. SQLite's shared-cache
    # test database refuses a write while another connection reads (it does not wait), so the
    # supervisor's change is retried until that read is over.
    for _ in range(50):
        try:
            coding_services.update_coding(coding=coding, comment="The supervisor's note.")
            break
        except OperationalError:
            time.sleep(0.1)
    else:
        pytest.fail("the supervisor's change could not be written")
    page.fill("#wb-editor-comment", "The coder's note.")
    page.click("#wb-editor-save")
    page.wait_for_function(
        "() => document.getElementById('wb-status').textContent.includes('Someone else changed this passage')"
    )
    assert Coding.objects.get(pk=coding.pk).comment == "The supervisor's note."  # not overwritten
    assert page.guard.foreign_requests == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_coding_view_resolves_a_thread_with_its_version_and_refuses_a_stale_one(page, live_server, team):
    from .browser import log_in

    start = team.interview.text.index("Near")
    coding = a_coding(team, start=start, end=start + 10)
    membership = Membership.objects.get(project=team.project, user=team.coder2)
    thread = coding_comments.add_comment(membership=membership, coding=coding, text="Too short?")
    view = f"/projects/{team.project.pk}/interviews/{team.interview.pk}/code/"
    log_in(page, "sam_supervisor", next_path=view)
    page.goto(f"{live_server.url}{view}?at={start}#c{coding.pk}")
    page.wait_for_selector("#wb-comment-list li.wb-thread")
    page.locator("#wb-comment-list button", has_text="Resolve").click()
    page.wait_for_selector("#wb-comment-list li.wb-thread.resolved")
    assert CodingComment.objects.get(pk=thread.pk).resolved  # sent with its If-Match, accepted

    # Someone reopens the thread while this page still shows it resolved: "Reopen" would do
    # nothing visible, so it is refused (412) rather than silently applied to a stale view.
    coding_comments.resolve_thread(membership=membership, comment=thread, resolved=False)
    coding_comments.resolve_thread(membership=membership, comment=thread, resolved=True)
    page.locator("#wb-comment-list button", has_text="Reopen").click()
    page.wait_for_function(
        "() => document.getElementById('wb-comment-status').textContent.includes('Someone else changed')"
    )
    assert CodingComment.objects.get(pk=thread.pk).resolved  # not flipped by the stale click
    assert not page.guard.errors


# ---------------------------------------------------------------- page forms: no lost update either


def page_client(user):
    client = Client()
    client.force_login(user)
    return client


def codebook_edit_form(response, code):
    """The edit form of ``code`` as the codebook page rendered it (bound after a refusal)."""
    return next(c.edit_form for c in flatten_tree(response.context["roots"]) if c.pk == code.pk)


def test_codebook_edit_from_a_stale_page_is_refused_and_shows_what_is_stored(team):
    page = reverse("codebook", args=[team.project.pk])
    update = reverse("code-update", args=[team.project.pk, team.code2.pk])
    prefix = f"c{team.code2.pk}-edit"
    alice, bob = page_client(team.supervisor), page_client(team.owner)
    shown = alice.get(page)
    version = codebook_edit_form(shown, team.code2).initial["version"]
    assert f'name="{prefix}-version" value="{html.escape(version)}"' in shown.content.decode()
    assert codebook_edit_form(bob.get(page), team.code2).initial["version"] == version

    def edit(client, definition, version):
        data = {f"{prefix}-name": "Prior pushback", f"{prefix}-colour": "#4e79a7"}
        data.update({f"{prefix}-definition": definition, f"{prefix}-version": version})
        return client.post(update, data)

    assert edit(bob, "<b>Sent back</b> before", version).status_code == 302
    refused = edit(alice, "Pushed back at least once", version)
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "Someone else changed this since you opened the page" in body
    assert "Stored now: &lt;b&gt;Sent back&lt;/b&gt; before" in body and "<b>Sent back" not in body
    assert Code.objects.get(pk=team.code2.pk).definition == "<b>Sent back</b> before"
    # Alice has seen Bob's definition; sending her form again replaces it, knowingly.
    form = codebook_edit_form(refused, team.code2)
    assert form.data[f"{prefix}-definition"] == "Pushed back at least once"  # her text is kept
    assert edit(alice, "Pushed back at least once", form.data[f"{prefix}-version"]).status_code == 302
    assert Code.objects.get(pk=team.code2.pk).definition == "Pushed back at least once"


def test_codebook_edit_without_a_version_is_refused(team):
    before = row_values(Code)
    prefix = f"c{team.code2.pk}-edit"
    response = page_client(team.supervisor).post(
        reverse("code-update", args=[team.project.pk, team.code2.pk]),
        {f"{prefix}-name": "Renamed", f"{prefix}-colour": "#4e79a7"},
    )
    assert response.status_code == 400 and "Someone else changed this" in response.content.decode()
    assert row_values(Code) == before


def test_participant_edit_from_a_stale_page_is_refused_and_shows_what_is_stored(team):
    detail = reverse("participant-detail", args=[team.project.pk, team.participant.pk])
    alice, bob = page_client(team.supervisor), page_client(team.owner)
    shown = alice.get(detail)
    version = shown.context["form"].initial["version"]
    assert f'name="version" value="{html.escape(version)}"' in shown.content.decode()
    assert bob.get(detail).context["form"].initial["version"] == version

    def edit(client, pseudonym, version):
        return client.post(
            detail, {"pseudonym": pseudonym, "participant_type": "border_crosser", "version": version}
        )

    assert edit(bob, "LV-07-Bob", version).status_code == 302
    refused = edit(alice, "LV-07-Alice", version)
    assert refused.status_code == 400
    assert refused.context["form"].errors["pseudonym"] == ["Stored now: LV-07-Bob"]
    assert Participant.objects.get(pk=team.participant.pk).pseudonym == "LV-07-Bob"
    assert edit(alice, "LV-07-Alice", refused.context["form"].data["version"]).status_code == 302
    assert Participant.objects.get(pk=team.participant.pk).pseudonym == "LV-07-Alice"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_two_tabs_editing_one_code_definition_the_second_save_is_refused(page, live_server, team):
    from .browser import log_in

    codebook = f"/projects/{team.project.pk}/codebook/"
    log_in(page, "sam_supervisor", next_path=codebook)
    other_tab = page.context.new_page()
    other_tab.goto(f"{live_server.url}{codebook}")
    field = f"#id_c{team.code2.pk}-edit-definition"
    for tab, definition in ((other_tab, "Sent back before (tab 2)"), (page, "Pushed back once (tab 1)")):
        tab.locator(f"#code-{team.code2.pk} details.code-actions > summary").click()
        tab.fill(field, definition)
    with other_tab.expect_navigation():
        other_tab.locator(f"#code-{team.code2.pk} button", has_text="Save code").click()
    assert Code.objects.get(pk=team.code2.pk).definition == "Sent back before (tab 2)"

    page.locator(f"#code-{team.code2.pk} button", has_text="Save code").click()
    page.wait_for_selector(f"#code-{team.code2.pk} .error[role=alert]")
    assert "Someone else changed this" in page.locator(f"#code-{team.code2.pk}").inner_text()
    assert "Stored now: Sent back before (tab 2)" in page.locator(f"#code-{team.code2.pk}").inner_text()
    assert page.input_value(field) == "Pushed back once (tab 1)"  # tab 1's text is not lost
    assert Code.objects.get(pk=team.code2.pk).definition == "Sent back before (tab 2)"
    # Having seen it, tab 1 saves again and replaces it.
    with page.expect_navigation():
        page.locator(f"#code-{team.code2.pk} button", has_text="Save code").click()
    assert Code.objects.get(pk=team.code2.pk).definition == "Pushed back once (tab 1)"
    assert not page.guard.errors
