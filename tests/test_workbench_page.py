"""The transcript coding view (page) and its data endpoint, without a browser."""

import json
import re

import pytest
from django.urls import reverse

from coding import services as coding_services
from interviews import services
from tests.conftest import make_interview

# Queries of a signed-in browser request: the session and the user, the savepoint
# and its release (ATOMIC_REQUESTS), the membership, the interview with its version
# aggregates; then text, turns, codings, codes, members and memos. None of them
# depends on how many codings exist; a 304 stops after the version. Plus the audit
# trail's read row (who opened the transcript), one INSERT.
PAGE_QUERIES = 13
DATA_QUERIES = 13
NOT_MODIFIED_QUERIES = 6


def page_url(team, interview=None):
    interview = interview or team.interview
    return reverse("coding-view", kwargs={"project_pk": team.project.pk, "interview_pk": interview.pk})


def data_url(team, interview=None, project=None):
    interview = interview or team.interview
    project = project or team.project
    return f"/api/projects/{project.pk}/interviews/{interview.pk}/coding-data/"


def page_data(response):
    match = re.search(r'<script id="wb-data" type="application/json">(.*?)</script>', response.text, re.S)
    assert match, "the page passes its data with json_script"
    return json.loads(match.group(1))


def code_some(team, n, skip=0):
    """``n`` distinct codings, the ``skip`` first of the sequence left out (so calls can add more)."""
    room = team.interview.text_length - 10
    for i in range(skip, skip + n):
        start = i % room
        coding_services.create_coding(
            interview=team.interview, code=team.code, coder=team.coder, start=start, end=start + 1 + i // room
        )


# ---------------------------------------------------------------- the page


def test_anonymous_is_redirected_to_login(team, client):
    response = client.get(page_url(team))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_outsider_gets_404_on_coding_view(team, client):
    client.force_login(team.outsider)
    assert client.get(page_url(team)).status_code == 404


def test_interview_of_another_project_is_404_in_coding_view(team, client):
    client.force_login(team.coder)
    assert client.get(page_url(team, team.other_interview)).status_code == 404


def test_coder_gets_coding_controls_and_page_data(team, client):
    client.force_login(team.coder)
    response = client.get(page_url(team))
    assert response.status_code == 200
    assert 'id="wb-apply"' in response.text
    assert 'id="wb-undo"' in response.text
    data = page_data(response)
    assert data["text"] == team.interview.text
    assert data["me"] == {
        "id": team.coder.pk,
        "username": "cora_coder",
        "role": "coder",
        "can_code": True,
        "can_edit_codebook": False,
        "can_supervise": False,
        "can_write_memos": True,
        "blind": False,
    }
    assert [t["role"] for t in data["turns"]][:2] == ["interviewer", "participant"]
    assert {c["name"] for c in data["codes"]} == {"Visa route", "Belarusian tourist visa", "Prior pushback"}
    assert data["urls"]["codings"] == f"/api/projects/{team.project.pk}/codings/"
    assert 'src="/static/js/workbench.js"' in response.text
    assert response["Cache-Control"].startswith("max-age=0")


def test_supervisor_gets_code_creation_controls(team, client):
    client.force_login(team.supervisor)
    response = client.get(page_url(team))
    assert 'id="wb-invivo"' in response.text
    assert page_data(response)["me"]["can_edit_codebook"] is True


def test_coder_gets_no_code_creation_controls(team, client):
    client.force_login(team.coder)
    assert 'id="wb-invivo"' not in client.get(page_url(team)).text


def test_viewer_gets_the_page_without_coding_controls(team, client):
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder, start=0, end=5)
    client.force_login(team.viewer)
    response = client.get(page_url(team))
    assert response.status_code == 200
    for control in ('id="wb-apply"', 'id="wb-undo"', 'id="wb-memo-form"', 'id="wb-code-search"'):
        assert control not in response.text
    data = page_data(response)
    assert data["me"]["can_code"] is False
    assert data["me"]["can_write_memos"] is False
    assert len(data["codings"]) == 1


def test_not_anonymised_interview_says_so_and_offers_no_coding(team, client):
    draft = services.create_interview(participant=team.participant, title="Draft", text="Names inside.")
    client.force_login(team.coder)
    response = client.get(page_url(team, draft))
    assert response.status_code == 200
    assert "not yet marked as anonymised" in response.text
    assert 'id="wb-apply"' not in response.text
    assert page_data(response)["me"]["can_code"] is False


def test_malicious_names_are_escaped_in_the_page(team, client):
    evil = "<img src=x onerror=alert(1)>"
    coding_services.create_code(project=team.project, name=evil)
    services.update_interview(interview=team.interview, title=f"{evil} title")
    client.force_login(team.coder)
    response = client.get(page_url(team))
    assert "<img src=x" not in response.text
    assert evil in {c["name"] for c in page_data(response)["codes"]}


def test_page_queries_do_not_grow_with_codings(team, client, django_assert_num_queries):
    client.force_login(team.coder)
    code_some(team, 3)
    client.get(page_url(team))  # the first request stamps the session (timeout middleware)
    with django_assert_num_queries(PAGE_QUERIES):
        assert client.get(page_url(team)).status_code == 200
    code_some(team, 40, skip=3)
    with django_assert_num_queries(PAGE_QUERIES):
        assert client.get(page_url(team)).status_code == 200


# ---------------------------------------------------------------- the data endpoint


def test_outsider_gets_404_on_coding_data(team, api):
    assert api.as_user(team.outsider).get(data_url(team)).status_code == 404


def test_other_projects_interview_is_404_on_coding_data(team, api):
    response = api.as_user(team.coder).get(data_url(team, interview=team.other_interview))
    assert response.status_code == 404


def test_anonymous_gets_no_coding_data(team, client):
    assert client.get(data_url(team)).status_code in (401, 403)


def test_coding_data_refuses_writes(team, api):
    assert api.as_user(team.owner).post(data_url(team), {}).status_code == 405


def test_coding_data_lists_codings_of_all_coders_with_offsets(team, api):
    text = team.interview.text
    start = text.index("🌲")
    mine = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=start, end=start + 1
    )
    theirs = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder2, start=0, end=11
    )
    data = api.as_user(team.viewer).get(data_url(team)).json()
    by_id = {c["id"]: c for c in data["codings"]}
    assert set(by_id) == {mine.pk, theirs.pk}
    assert text[by_id[mine.pk]["start"] : by_id[mine.pk]["end"]] == "🌲"
    assert by_id[theirs.pk]["coder_id"] == team.coder2.pk
    assert {"id": team.coder2.pk, "username": "cody_coder", "role": "coder"} in data["members"]
    assert data["me"]["can_code"] is False


def test_coding_data_filters_by_coder(team, api):
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder, start=0, end=4)
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder2, start=0, end=4)
    response = api.as_user(team.coder).get(data_url(team), {"coder": team.coder2.pk})
    assert [c["coder_id"] for c in response.json()["codings"]] == [team.coder2.pk]
    assert api.as_user(team.coder).get(data_url(team), {"coder": "x"}).status_code == 400


def test_coding_data_includes_memos_of_the_interview_and_its_codings(team, api):
    coding = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=0, end=4
    )
    coding_services.create_memo(
        project=team.project, author=team.coder, text="On the interview", target=team.interview
    )
    coding_services.create_memo(project=team.project, author=team.coder, text="On the coding", target=coding)
    coding_services.create_memo(
        project=team.project, author=team.coder, text="Elsewhere", target=team.participant
    )
    memos = api.as_user(team.coder).get(data_url(team)).json()["memos"]
    assert sorted((m["kind"], m["text"]) for m in memos) == [
        ("coding", "On the coding"),
        ("interview", "On the interview"),
    ]


def test_coding_data_answers_304_while_nothing_changed(team, api):
    client = api.as_user(team.coder)
    first = client.get(data_url(team))
    etag = first["ETag"]
    assert first.json()["etag"] == etag
    again = client.get(data_url(team), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert client.get(data_url(team), HTTP_IF_NONE_MATCH=f'W/{etag}, "other"').status_code == 304


def _etag(api, team, **params):
    return api.get(data_url(team), params).headers["ETag"]


def test_etag_changes_when_a_coding_is_created_updated_or_deleted(team, api):
    client = api.as_user(team.coder)
    tags = [_etag(client, team)]
    coding = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder2, start=0, end=4
    )
    tags.append(_etag(client, team))
    coding_services.update_coding(coding=coding, comment="changed")
    tags.append(_etag(client, team))
    coding_services.delete_coding(coding=coding)
    tags.append(_etag(client, team))
    assert len(set(tags[:3])) == 3
    assert tags[3] not in tags[1:3]
    # Back to no codings at all: the same content as at first, so the same tag.
    assert tags[3] == tags[0]
    response = client.get(data_url(team), HTTP_IF_NONE_MATCH=tags[2])
    assert response.status_code == 200
    assert response.json()["codings"] == []


def test_etag_changes_when_a_coding_is_replaced_by_another(team, api):
    """Delete one and create another between two polls: the count is the same, the tag is not."""
    client = api.as_user(team.coder)
    old = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder2, start=0, end=4
    )
    before = _etag(client, team)
    coding_services.delete_coding(coding=old)
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder2, start=0, end=4)
    assert _etag(client, team) != before


def test_etag_changes_with_codebook_memos_and_filter(team, api):
    client = api.as_user(team.coder)
    tags = [_etag(client, team)]
    coding_services.create_code(project=team.project, name="Russian visa")
    tags.append(_etag(client, team))
    coding_services.create_memo(project=team.project, author=team.coder, text="note", target=team.interview)
    tags.append(_etag(client, team))
    tags.append(_etag(client, team, coder=team.coder.pk))
    assert len(set(tags)) == 4


def test_etag_of_another_interview_is_unaffected(team, api):
    other = make_interview(team.participant, title="Second interview", by=team.owner)
    client = api.as_user(team.coder)
    before = _etag(
        client,
        team,
    )
    coding_services.create_coding(interview=other, code=team.code, coder=team.coder2, start=0, end=4)
    assert _etag(client, team) == before


def test_coding_data_queries_do_not_grow_with_codings(team, client, django_assert_num_queries):
    client.force_login(team.coder)
    code_some(team, 3)
    client.get(data_url(team))  # the first request stamps the session (timeout middleware)
    with django_assert_num_queries(DATA_QUERIES):
        response = client.get(data_url(team))
    code_some(team, 40, skip=3)
    with django_assert_num_queries(DATA_QUERIES):
        assert len(client.get(data_url(team)).json()["codings"]) == 43
    etag = client.get(data_url(team))["ETag"]
    with django_assert_num_queries(NOT_MODIFIED_QUERIES):
        assert client.get(data_url(team), HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert response.status_code == 200


@pytest.mark.parametrize("role", ["viewer", "coder", "supervisor", "owner"])
def test_every_member_role_reads_coding_data(team, api, role):
    response = api.as_user(team.member(role)).get(data_url(team))
    assert response.status_code == 200
    assert response.json()["me"]["role"] == role
