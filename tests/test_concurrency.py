"""Concurrency: no lost update, no duplicate, no orphan, no 500 (SECURITY.md CC1–CC4).

CC1 optimistic concurrency: a detail answers an ``ETag`` (id and ``updated_at``); a write with
an ``If-Match`` that no longer holds gets 412 and writes nothing; without ``If-Match`` it is
accepted (last writer wins). CC2 identical creates at once: one row, the other a 400 naming
the field. CC3 merging or deleting a code while others code with it: every acknowledged coding
survives on a code that exists. CC4 ``Idempotency-Key`` on coding creation.

The tests with threads need real concurrent transactions: they run on PostgreSQL with
``django_db(transaction=True)`` (each thread has its own connection) and are skipped on SQLite,
whose in-memory test database other connections cannot share.
"""

import threading
import time
import uuid
from functools import partial

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from coding import services as coding_services
from coding.models import Code, Coding, Memo
from interviews.models import Interview, Participant

from .conftest import make_interview
from .db_state import row_counts

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


def a_coding(team, coder=None, start=0, end=5, code=None):
    return coding_services.create_coding(
        interview=team.interview, code=code or team.code, coder=coder or team.coder, start=start, end=end
    )


# Each resource the researcher edits: who edits it, its URL, two different changes, and how to
# read the changed field back from the database.
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


# ---------------------------------------------------------------- CC1: ETag and If-Match


@pytest.mark.parametrize("kind", RESOURCES)
def test_detail_answers_an_etag_that_changes_when_the_row_changes(team, kind):
    user, path, field, _ = resources(team)[kind]
    client = client_for(user)
    first = client.get(f"{base(team)}/{path}")
    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert client.get(f"{base(team)}/{path}")["ETag"] == first["ETag"]  # stable while unchanged
    changed = client.patch(f"{base(team)}/{path}", {field: "LV-99 changed"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] != first["ETag"]
    assert client.get(f"{base(team)}/{path}")["ETag"] == changed["ETag"]


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
    assert client.patch(url, {"comment": "edited elsewhere"}, format="json").status_code == 200
    assert client.delete(url, HTTP_IF_MATCH=seen).status_code == 412
    assert Coding.objects.filter(pk=coding.pk).exists()
    assert client.delete(url, HTTP_IF_MATCH=client.get(url)["ETag"]).status_code == 204
    assert not Coding.objects.filter(pk=coding.pk).exists()


def test_without_if_match_the_last_writer_wins(team):
    """Documented: If-Match is optional; scripts that never read first keep working."""
    url = f"{base(team)}/codes/{team.code.pk}/"
    assert client_for(team.supervisor).patch(url, {"definition": "one"}, format="json").status_code == 200
    assert client_for(team.owner).patch(url, {"definition": "two"}, format="json").status_code == 200
    assert Code.objects.get(pk=team.code.pk).definition == "two"


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


def test_the_coding_view_data_carries_each_codings_version(team):
    coding = a_coding(team)
    url = f"{base(team)}/codings/{coding.pk}/"
    client = client_for(team.coder)
    data = client.get(f"{base(team)}/interviews/{team.interview.pk}/coding-data/").json()
    (row,) = [c for c in data["codings"] if c["id"] == coding.pk]
    assert row["etag"] == client.get(url)["ETag"]


@pytest.mark.django_db(transaction=True)
def test_two_editors_colliding_get_one_success_and_one_412(team):
    needs_postgresql()
    editable = resources(team)
    for kind in ("code", "memo", "coding"):
        user, path, field, read = editable[kind]
        url = f"{base(team)}/{path}"
        for round_ in range(8):
            alice, bob = client_for(user), client_for(user)
            seen = alice.get(url)["ETag"]
            answers = collide(
                partial(alice.patch, url, {field: f"Alice {round_}"}, format="json", HTTP_IF_MATCH=seen),
                partial(bob.patch, url, {field: f"Bob {round_}"}, format="json", HTTP_IF_MATCH=seen),
            )
            codes = sorted(a.status_code for a in answers)
            assert codes == [200, 412], (kind, round_, [a.content for a in answers])
            winner = "Alice" if answers[0].status_code == 200 else "Bob"
            assert getattr(read(), field) == f"{winner} {round_}"  # the winner's, not a mix


# ---------------------------------------------------------------- CC2: identical creates at once


def one_created_one_refused(answers, field, fragment):
    assert sorted(a.status_code for a in answers) == [201, 400], [a.content for a in answers]
    (refused,) = [a for a in answers if a.status_code == 400]
    assert fragment in refused.json()[field][0]


@pytest.mark.django_db(transaction=True)
def test_identical_creates_at_once_make_one_row_and_no_500(team):
    needs_postgresql()
    codings, codes, participants = (f"{base(team)}/{name}/" for name in ("codings", "codes", "participants"))
    for n in range(6):
        # Two coders' tabs post the same coding.
        body = {"interview": team.interview.pk, "code": team.code.pk, "start": n * 4, "end": n * 4 + 3}
        one, two = client_for(team.coder), client_for(team.coder)
        answers = collide(
            partial(one.post, codings, body, format="json"), partial(two.post, codings, body, format="json")
        )
        one_created_one_refused(answers, "code", "already coded this passage")
        assert Coding.objects.filter(interview=team.interview, start=n * 4, end=n * 4 + 3).count() == 1

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
        body = {"pseudonym": f"LV-{50 + n}"}
        answers = collide(
            partial(one.post, participants, body, format="json"),
            partial(two.post, participants, body, format="json"),
        )
        one_created_one_refused(answers, "pseudonym", "already called")
        assert Participant.objects.filter(project=team.project, pseudonym=body["pseudonym"]).count() == 1

        # One coder's retry races the original request: same Idempotency-Key, one coding (CC4).
        key = uuid.uuid4().hex
        one, two = client_for(team.coder2), client_for(team.coder2)
        answers = collide(
            partial(post_coding, one, team, key, start=n * 3, end=n * 3 + 2),
            partial(post_coding, two, team, key, start=n * 3, end=n * 3 + 2),
        )
        assert sorted(a.status_code for a in answers) == [200, 201], [a.content for a in answers]
        assert answers[0].json()["id"] == answers[1].json()["id"]
        assert Coding.objects.filter(request_key=key).count() == 1


# ---------------------------------------------------------------- CC3: merge or delete while coding


def coding_storm(team, interview, code, codings_url, threads=8, each=4, offset=0):
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
def test_merging_or_deleting_a_code_while_coders_apply_it_loses_no_coding_and_leaves_no_orphan(team):
    needs_postgresql()
    codings_url = f"{base(team)}/codings/"
    interview = make_interview(team.participant, text="Participant: " + "we walked " * 200, by=team.owner)
    for round_ in range(3):
        source = coding_services.create_code(project=team.project, name=f"Forest {round_}")
        target = coding_services.create_code(project=team.project, name=f"Border forest {round_}")
        a_coding(team, code=source, start=100 + round_ * 3, end=101 + round_ * 3)
        before = Coding.objects.filter(code__in=[source, target]).count()
        supervisor = client_for(team.supervisor)
        results = collide(
            *coding_storm(team, interview, source, codings_url, offset=round_ * 64),
            partial(merge_once_coding_is_under_way, supervisor, team, source, target, interview),
        )
        merge = results[-1]
        assert merge.status_code == 200, merge.content
        acknowledged = assert_no_orphans_and_every_acknowledged_coding_kept(results[:-1], {201, 400})
        assert not Code.objects.filter(pk=source.pk).exists()
        # Conserved: what was there plus every acknowledged coding, all now on the target.
        assert Coding.objects.filter(code=target).count() == before + len(acknowledged)
        assert acknowledged  # the merge came in the middle of the coding, not before it
        assert set(Coding.objects.filter(pk__in=acknowledged).values_list("code_id", flat=True)) == {
            target.pk
        }

    # Deleting: refused while codings use it, so either the delete wins (and every coding
    # after it is refused) or the codings do (and the delete is refused, counting them).
    for round_ in range(4):
        code = coding_services.create_code(project=team.project, name=f"Rumour {round_}")
        supervisor = client_for(team.supervisor)
        # The delete goes first in the list, so some rounds it wins and some the coders do.
        results = collide(
            partial(supervisor.delete, f"{base(team)}/codes/{code.pk}/"),
            *coding_storm(team, interview, code, codings_url, threads=4, each=2, offset=200 + round_ * 16),
        )
        delete = results[0]
        assert delete.status_code in (204, 400), delete.content
        acknowledged = assert_no_orphans_and_every_acknowledged_coding_kept(results[1:], {201, 400})
        if delete.status_code == 204:
            assert not acknowledged and not Code.objects.filter(pk=code.pk).exists()
        else:
            assert "applied" in delete.json()["code"][0] and Code.objects.filter(pk=code.pk).exists()
            assert Coding.objects.filter(code=code).count() == len(acknowledged)


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
    assert again.status_code == 400 and "already coded" in again.json()["code"][0]


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
    coding_services.update_coding(coding=coding, comment="The supervisor's note.")
    page.fill("#wb-editor-comment", "The coder's note.")
    page.click("#wb-editor-save")
    page.wait_for_function(
        "() => document.getElementById('wb-status').textContent.includes('Someone else changed this passage')"
    )
    assert Coding.objects.get(pk=coding.pk).comment == "The supervisor's note."  # not overwritten
    assert page.guard.foreign_requests == []
