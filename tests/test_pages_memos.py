"""Memos page: every memo of the project, filtered by kind and author; new project memos."""

import pytest
from django.test import Client
from django.urls import reverse

from coding import services as coding_services
from coding.models import Memo


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(team, **query):
    from urllib.parse import urlencode

    return reverse("memos-page", args=[team.project.pk]) + ("?" + urlencode(query) if query else "")


@pytest.fixture
def memos(team):
    coding = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=0, end=5
    )
    made = {
        "project": coding_services.create_memo(
            project=team.project, author=team.supervisor, text="Saturation?"
        ),
        "interview": coding_services.create_memo(
            project=team.project, author=team.coder, text="Noisy recording", target=team.interview
        ),
        "code": coding_services.create_memo(
            project=team.project, author=team.coder, text="Scope", target=team.code
        ),
        "coding": coding_services.create_memo(
            project=team.project, author=team.coder2, text="Irony", target=coding
        ),
        "participant": coding_services.create_memo(
            project=team.project,
            author=team.supervisor,
            text="Second interview planned",
            target=team.participant,
        ),
    }
    coding_services.create_memo(project=team.other_project, author=team.outsider, text="Not yours")
    return made


def shown(response):
    return {m.pk for m in response.context["page"]}


def test_member_sees_all_memos_of_the_project_with_their_targets(team, memos):
    response = client_for(team.viewer).get(url(team))
    assert response.status_code == 200
    assert shown(response) == {m.pk for m in memos.values()}
    body = response.content.decode()
    assert "Not yours" not in body
    assert reverse("coding-view", args=[team.project.pk, team.interview.pk]) + "?at=0#c" in body
    assert reverse("participant-detail", args=[team.project.pk, team.participant.pk]) in body
    assert "New project memo" not in body


def test_outsider_gets_404_on_memos(team):
    assert client_for(team.outsider).get(url(team)).status_code == 404


def test_anonymous_is_sent_to_login_from_memos(team):
    response = Client().get(url(team))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_memos_filter_by_kind_and_author(team, memos):
    client = client_for(team.viewer)
    assert shown(client.get(url(team, kind="coding"))) == {memos["coding"].pk}
    assert shown(client.get(url(team, author=team.supervisor.pk))) == {
        memos["project"].pk,
        memos["participant"].pk,
    }
    assert shown(client.get(url(team, kind="code", author=team.coder.pk))) == {memos["code"].pk}


def test_bad_memo_filter_is_400_with_message(team, memos):
    response = client_for(team.viewer).get(url(team, kind="secret"))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert shown(response) == set()
    response = client_for(team.viewer).get(url(team, author=team.outsider.pk))
    assert response.status_code == 400


def test_memo_list_query_count_is_fixed(team, memos, django_assert_num_queries):
    client = client_for(team.viewer)
    client.get(url(team))
    with django_assert_num_queries(8):
        client.get(url(team))
    for n in range(10):
        coding_services.create_memo(
            project=team.project, author=team.coder, text=f"More {n}", target=team.interview
        )
    with django_assert_num_queries(8):
        response = client.get(url(team))
    assert len(shown(response)) == 15


def test_coder_creates_a_project_memo(team):
    response = client_for(team.coder).post(
        url(team), {"title": "Emerging theme", "text": "Trust in smugglers"}
    )
    assert response.status_code == 302
    memo = Memo.objects.get(project=team.project, title="Emerging theme")
    assert (memo.kind, memo.author_id, memo.text) == ("project", team.coder.pk, "Trust in smugglers")


def test_empty_memo_shows_message_and_writes_nothing(team):
    before = Memo.objects.count()
    response = client_for(team.coder).post(url(team), {"title": "Empty", "text": "   "})
    assert response.status_code == 400
    assert "The memo is empty." in response.content.decode()
    assert Memo.objects.count() == before


def test_viewer_cannot_create_a_memo(team):
    before = Memo.objects.count()
    response = client_for(team.viewer).post(url(team), {"title": "T", "text": "Should not be saved"})
    assert response.status_code == 403
    assert Memo.objects.count() == before


def test_memo_text_is_escaped(team):
    coding_services.create_memo(project=team.project, author=team.coder, text="<script>alert(1)</script>")
    body = client_for(team.viewer).get(url(team)).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
