"""Retrieve page: passages of a code with context, filters, links into the coding view, CSV, paging."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from coding import services as coding_services
from coding.views.retrieve import csv_cell
from interviews import services

from .conftest import make_interview

LONG_TEXT = (
    "Interviewer: Tell me about the route.\n"
    "Participant: "
    + " ".join(f"w{i:03d}" for i in range(200))
    + " =SUM(A1) said the <b>guard</b> near the fence 🌲 "
    + " ".join(f"v{i:03d}" for i in range(200))
    + "\n"
)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(team, **query):
    from urllib.parse import urlencode

    return reverse("retrieve", args=[team.project.pk]) + ("?" + urlencode(query, doseq=True) if query else "")


@pytest.fixture
def corpus(team):
    services.create_attribute_definition(
        project=team.project,
        key="nationality",
        label="Nationality",
        kind="categorical",
        choices=["Iraqi", "Syrian"],
    )
    services.update_participant(participant=team.participant, attributes={"nationality": "Syrian"})
    other = services.create_participant(
        project=team.project, pseudonym="LV-02", attributes={"nationality": "Iraqi"}
    )
    long_a = make_interview(team.participant, text=LONG_TEXT, by=team.owner, title="Long A")
    long_b = make_interview(other, text=LONG_TEXT, by=team.owner, title="Long B")
    start = LONG_TEXT.index("=SUM")
    end = LONG_TEXT.index("🌲") + 1
    sub = coding_services.create_code(project=team.project, name="Tourist visa via Minsk", parent=team.code)
    codings = {
        "a_code": coding_services.create_coding(
            interview=long_a, code=team.code, coder=team.coder, start=start, end=end
        ),
        "b_code": coding_services.create_coding(
            interview=long_b, code=team.code, coder=team.coder2, start=start, end=end
        ),
        "a_sub": coding_services.create_coding(
            interview=long_a, code=sub, coder=team.coder, start=13, end=20
        ),
        "a_other": coding_services.create_coding(
            interview=long_a, code=team.code2, coder=team.coder, start=13, end=20
        ),
    }
    return {"a": long_a, "b": long_b, "sub": sub, "start": start, "end": end, **codings}


def shown(response):
    return [row["id"] for row in response.context["page"].rows]


def test_member_sees_passages_with_context_cut_by_the_database(team, corpus):
    response = client_for(team.viewer).get(url(team, code=team.code.pk))
    assert response.status_code == 200
    assert sorted(shown(response)) == sorted([corpus["a_code"].pk, corpus["b_code"].pk])
    row = response.context["page"].rows[0]
    start, end = corpus["start"], corpus["end"]
    assert row["quote"] == LONG_TEXT[start:end]
    # About 200 characters each side, cut back to a whole word and marked with an ellipsis.
    assert row["before"].startswith("…") and LONG_TEXT[start - 200 : start].endswith(row["before"][1:])
    assert 190 <= len(row["before"]) <= 201
    assert row["after"].endswith("…") and LONG_TEXT[end : end + 200].startswith(row["after"][:-1])
    body = response.content.decode()
    link = (
        reverse("coding-view", args=[team.project.pk, corpus["a"].pk]) + f"?at={start}#c{corpus['a_code'].pk}"
    )
    assert link in body
    assert "&lt;b&gt;guard&lt;/b&gt;" in body and "<b>guard</b>" not in body


def test_context_near_the_start_of_the_text_is_not_marked_as_cut(team, corpus):
    response = client_for(team.viewer).get(url(team, code=corpus["sub"].pk))
    row = response.context["page"].rows[0]
    assert row["before"] == LONG_TEXT[:13]
    assert row["quote"] == LONG_TEXT[13:20]


def test_include_descendants_adds_sub_code_passages(team, corpus):
    client = client_for(team.viewer)
    assert corpus["a_sub"].pk not in shown(client.get(url(team, code=team.code.pk)))
    with_sub = shown(client.get(url(team, code=team.code.pk, descendants="on")))
    assert sorted(with_sub) == sorted([corpus["a_code"].pk, corpus["b_code"].pk, corpus["a_sub"].pk])


def test_filters_by_coder_interview_and_participant_attribute(team, corpus):
    client = client_for(team.viewer)
    assert shown(client.get(url(team, code=team.code.pk, coder=team.coder2.pk))) == [corpus["b_code"].pk]
    assert shown(client.get(url(team, code=team.code.pk, interview=corpus["a"].pk))) == [corpus["a_code"].pk]
    response = client.get(url(team, code=team.code.pk, attr="nationality", value="Iraqi"))
    assert shown(response) == [corpus["b_code"].pk]


@pytest.mark.parametrize(
    "query",
    [{"code": "abc"}, {"code": "999999"}, {"coder": "not-a-number"}, {"attr": "secret_key", "value": "x"}],
)
def test_bad_filter_shows_message_and_no_passages(team, corpus, query):
    response = client_for(team.viewer).get(url(team, **query))
    assert response.status_code == 400
    assert response.context["page"] is None
    assert "Select a valid choice" in response.content.decode()


def test_code_of_another_project_is_not_a_valid_choice(team, corpus):
    response = client_for(team.owner).get(url(team, code=team.other_code.pk))
    assert response.status_code == 400


def test_outsider_gets_404_on_retrieve(team):
    assert client_for(team.outsider).get(url(team)).status_code == 404
    assert client_for(team.outsider).get(url(team, format="csv")).status_code == 404


def test_anonymous_is_sent_to_login_from_retrieve(team):
    response = Client().get(url(team, format="csv"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_retrieve_paginates_and_query_count_is_fixed(team, corpus, django_assert_num_queries):
    text = corpus["a"].text
    for i in range(60):
        coding_services.create_coding(
            interview=corpus["a"], code=team.code, coder=team.supervisor, start=20 + i, end=40 + i
        )
    client = client_for(team.viewer)
    client.get(url(team, code=team.code.pk))
    with django_assert_num_queries(15):  # 13 + the participant choices + the audit trail's read row
        response = client.get(url(team, code=team.code.pk, descendants="on"))
    page = response.context["page"]
    assert (page.paginator.count, len(page.rows), page.paginator.num_pages) == (63, 50, 2)
    response = client.get(url(team, code=team.code.pk, descendants="on", page=2))
    assert len(response.context["page"].rows) == 13
    assert all(r["quote"] == text[r["start"] : r["end"]] for r in response.context["page"].rows)


def read_csv(response):
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(content[1:])))


def test_csv_export_has_what_is_shown_with_formula_cells_neutralised(team, corpus):
    coding_services.update_coding(coding=corpus["a_code"], comment="+1 agree")
    response = client_for(team.viewer).get(url(team, code=team.code.pk, coder=team.coder.pk, format="csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert [int(r["coding_id"]) for r in rows] == [corpus["a_code"].pk]
    row = rows[0]
    assert row["passage"] == "'" + LONG_TEXT[corpus["start"] : corpus["end"]]
    assert row["comment"] == "'+1 agree"
    assert row["code"] == team.code.name
    assert row["link"].endswith(f"#c{corpus['a_code'].pk}")


def test_csv_export_without_a_code_has_every_coding_not_just_one_page(team, corpus):
    for i in range(60):
        coding_services.create_coding(
            interview=corpus["a"], code=team.code2, coder=team.supervisor, start=20 + i, end=40 + i
        )
    rows = read_csv(client_for(team.viewer).get(url(team, format="csv")))
    assert len(rows) == 64


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM", "'@SUM"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain = text", "plain = text"),
        (12, "12"),
    ],
)
def test_csv_cell_neutralises_formula_starts(value, expected):
    assert csv_cell(value) == expected


def test_retrieve_narrows_to_one_participant_as_dashboard_links_ask(team, client):
    other = services.create_participant(project=team.project, pseudonym="LV-99")
    other_interview = make_interview(other, by=team.owner)
    for interview in (team.interview, other_interview):
        coding_services.create_coding(interview=interview, code=team.code, coder=team.coder, start=0, end=12)
    client.force_login(team.viewer)
    url = reverse("retrieve", args=[team.project.pk])
    both = client.get(url, {"code": team.code.pk})
    assert both.context["codings_total"] == 2
    one = client.get(url, {"code": team.code.pk, "participant": other.pk})
    assert one.status_code == 200
    assert one.context["codings_total"] == 1
    assert "LV-99" in one.content.decode()
    foreign = client.get(url, {"code": team.code.pk, "participant": team.other_interview.participant_id})
    assert foreign.status_code == 400
