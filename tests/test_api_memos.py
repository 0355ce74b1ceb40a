"""Memos through the API: the kind names the target, coders change only their own."""

import pytest

from coding import services as coding_services
from coding.models import Memo

from .db_state import row_counts, row_values
from .factories import versioned


def url(project, pk=None):
    base = f"/api/projects/{project.pk}/memos/"
    return f"{base}{pk}/" if pk is not None else base


def assert_refused(response, field, fragment=None):
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    message = " ".join(body[field])
    if fragment:
        assert fragment in message, message


@pytest.fixture
def coding(team):
    return coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=0, end=5
    )


@pytest.mark.parametrize("kind", ["project", "participant", "interview", "code", "coding"])
def test_coder_writes_a_memo_on_each_kind_of_target(team, api, coding, kind):
    targets = {
        "participant": team.participant,
        "interview": team.interview,
        "code": team.code,
        "coding": coding,
    }
    payload = {"kind": kind, "title": "Pattern", "text": "Several mention the forest."}
    if kind in targets:
        payload[kind] = targets[kind].pk
    response = api.as_user(team.coder).post(url(team.project), payload)
    assert response.status_code == 201, response.json()
    memo = Memo.objects.get(pk=response.json()["id"])
    assert (memo.kind, memo.author, memo.project) == (kind, team.coder, team.project)
    if kind in targets:
        assert getattr(memo, kind) == targets[kind]


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({"kind": "code", "interview": "interview"}, "code", "Say which code"),
        ({"kind": "participant"}, "participant", "Say which participant"),
        ({"kind": "project", "code": "code"}, "code", "no target"),
        ({"kind": "interview", "interview": "interview", "code": "code"}, "code", "one interview only"),
        ({"kind": "coding", "coding": "coding", "participant": "participant"}, "participant", None),
        ({"kind": "code", "code": "other_code"}, "code", "No such code in this project"),
        ({"kind": "interview", "interview": "other_interview"}, "interview", "No such interview"),
        ({"kind": "dream"}, "kind", None),
        ({"kind": "project", "text": "   "}, "text", "may not be blank"),
        ({"kind": "project", "text": ""}, "text", None),
        ({"kind": "project", "author": "coder2"}, "author", "cannot be set"),
        ({"kind": "project", "project": "other_project"}, "project", "cannot be set"),
    ],
)
def test_bad_memo_is_refused_and_nothing_is_written(team, api, coding, payload, field, fragment):
    refs = {"coding": coding}
    resolved = {"text": "A note."}
    for key, value in payload.items():
        if key == "kind" or key == "text":
            resolved[key] = value
        else:
            resolved[key] = (refs.get(value) or getattr(team, value)).pk
    before = row_counts()
    assert_refused(api.as_user(team.coder).post(url(team.project), resolved), field, fragment)
    assert row_counts() == before


def test_coder_changes_own_memo_but_not_kind_or_target(team, api):
    memo = coding_services.create_memo(project=team.project, author=team.coder, text="first")
    client = api.as_user(team.coder)
    response = versioned(client, "patch", url(team.project, memo.pk), {"text": "second", "title": "T"})
    assert response.status_code == 200, response.json()
    memo.refresh_from_db()
    assert (memo.text, memo.title) == ("second", "T")
    before = row_values(Memo)
    assert_refused(
        versioned(client, "patch", url(team.project, memo.pk), {"kind": "code"}),
        "kind",
        "cannot be set",
    )
    assert_refused(
        versioned(client, "patch", url(team.project, memo.pk), {"author": team.coder2.pk}),
        "author",
    )
    assert_refused(
        versioned(client, "patch", url(team.project, memo.pk), {"text": "  "}),
        "text",
        "may not be blank",
    )
    assert row_values(Memo) == before


def test_coder_cannot_change_or_delete_another_coders_memo(team, api):
    memo = coding_services.create_memo(project=team.project, author=team.coder2, text="theirs")
    client = api.as_user(team.coder)
    before = row_values(Memo)
    assert versioned(client, "patch", url(team.project, memo.pk), {"text": "mine"}).status_code == 403
    assert versioned(client, "delete", url(team.project, memo.pk)).status_code == 403
    assert row_values(Memo) == before


@pytest.mark.parametrize("role", ["supervisor", "owner"])
def test_supervisor_changes_and_deletes_a_coders_memo(team, api, role):
    memo = coding_services.create_memo(project=team.project, author=team.coder, text="theirs")
    client = api.as_user(team.member(role))
    assert versioned(client, "patch", url(team.project, memo.pk), {"text": "edited"}).status_code == 200
    memo.refresh_from_db()
    assert (memo.text, memo.author) == ("edited", team.coder)
    assert versioned(client, "delete", url(team.project, memo.pk)).status_code == 204
    assert not Memo.objects.filter(pk=memo.pk).exists()


def test_viewer_reads_memos_but_cannot_write(team, api):
    memo = coding_services.create_memo(project=team.project, author=team.coder, text="note")
    client = api.as_user(team.viewer)
    before = row_counts(), row_values(Memo)
    assert client.get(url(team.project)).json()["count"] == 1
    assert client.post(url(team.project), {"kind": "project", "text": "x"}).status_code == 403
    assert versioned(client, "patch", url(team.project, memo.pk), {"text": "x"}).status_code == 403
    assert versioned(client, "delete", url(team.project, memo.pk)).status_code == 403
    assert (row_counts(), row_values(Memo)) == before


def test_outsider_gets_404_on_memos_and_cannot_attach_to_project_a(team, api, coding):
    memo = coding_services.create_memo(project=team.project, author=team.coder, text="note")
    client = api.as_user(team.outsider)
    before = row_counts(), row_values(Memo)
    assert client.get(url(team.project)).status_code == 404
    assert client.get(url(team.project, memo.pk)).status_code == 404
    assert client.post(url(team.project), {"kind": "project", "text": "x"}).status_code == 404
    assert versioned(client, "patch", url(team.project, memo.pk), {"text": "x"}).status_code == 404
    assert versioned(client, "delete", url(team.project, memo.pk)).status_code == 404
    assert client.get(url(team.other_project, memo.pk)).status_code == 404
    assert versioned(client, "patch", url(team.other_project, memo.pk), {"text": "x"}).status_code == 404
    for kind, target in (("coding", coding), ("code", team.code), ("participant", team.participant)):
        response = client.post(url(team.other_project), {"kind": kind, kind: target.pk, "text": "x"})
        assert_refused(response, kind, "No such")
    assert (row_counts(), row_values(Memo)) == before


def test_memos_filter_by_kind_and_target(team, api, coding):
    coding_services.create_memo(project=team.project, author=team.coder, text="p")
    coding_services.create_memo(project=team.project, author=team.coder, text="c", target=team.code)
    coding_services.create_memo(project=team.project, author=team.coder2, text="d", target=coding)
    client = api.as_user(team.viewer)
    assert client.get(url(team.project), {"kind": "code"}).json()["results"][0]["text"] == "c"
    assert client.get(url(team.project), {"coding": coding.pk}).json()["count"] == 1
    assert client.get(url(team.project), {"author": team.coder2.pk}).json()["count"] == 1
