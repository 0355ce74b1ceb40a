"""Participants pages: the table with attributes (sort, filter), typed forms, the participant page."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from coding import services as coding_services
from interviews import selectors, services
from interviews.models import AttributeValue, Participant

from .conftest import make_interview


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def attrs(team):
    p = team.project
    services.create_attribute_definition(
        project=p,
        key="nationality",
        label="Nationality",
        kind="categorical",
        choices=["Iraqi", "Syrian", "Yemeni"],
    )
    services.create_attribute_definition(
        project=p,
        key="languages",
        label="Languages",
        kind="categorical",
        choices=["Arabic", "Kurmanji", "Sorani"],
        multiple=True,
    )
    services.create_attribute_definition(project=p, key="attempts", label="Crossing attempts", kind="integer")
    services.create_attribute_definition(project=p, key="first_crossing", label="First crossing", kind="date")
    services.create_attribute_definition(project=p, key="pushed_back", label="Pushed back", kind="boolean")
    services.create_attribute_definition(project=p, key="notes", label="Notes", kind="text")
    services.update_participant(
        participant=team.participant,
        attributes={"nationality": "Syrian", "attempts": 3, "languages": ["Arabic", "Kurmanji"]},
    )
    services.create_participant(
        project=p, pseudonym="LV-02", attributes={"nationality": "Iraqi", "attempts": 7, "pushed_back": True}
    )
    services.create_participant(project=p, pseudonym="LV-11", participant_type="ngo_staff")
    return p


def url(team, **query):
    base = reverse("participant-list", args=[team.project.pk])
    if query:
        from urllib.parse import urlencode

        base += "?" + urlencode(query)
    return base


def pseudonyms(response):
    return [participant.pseudonym for participant, _ in response.context["rows"]]


def test_member_sees_participants_with_attribute_columns(team, attrs):
    response = client_for(team.viewer).get(url(team))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Crossing attempts" in body
    assert "Arabic, Kurmanji" in body
    assert pseudonyms(response) == ["LV-02", "LV-07", "LV-11"]
    assert "Add a participant" not in body


def test_outsider_gets_404_on_participants(team):
    assert client_for(team.outsider).get(url(team)).status_code == 404


def test_anonymous_is_sent_to_login_from_participants(team):
    response = Client().get(url(team))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_participants_sort_by_numeric_attribute_with_missing_values_last(team, attrs):
    client = client_for(team.viewer)
    assert pseudonyms(client.get(url(team, sort="attr:attempts"))) == ["LV-07", "LV-02", "LV-11"]
    assert pseudonyms(client.get(url(team, sort="-attr:attempts"))) == ["LV-02", "LV-07", "LV-11"]
    assert pseudonyms(client.get(url(team, sort="-pseudonym"))) == ["LV-11", "LV-07", "LV-02"]
    assert pseudonyms(client.get(url(team, sort="-type")))[0] == "LV-11"


def test_unknown_sort_key_falls_back_to_pseudonym(team, attrs):
    response = client_for(team.viewer).get(url(team, sort="attr:password); DROP"))
    assert response.status_code == 200
    assert response.context["sort"] == "pseudonym"
    assert pseudonyms(response) == ["LV-02", "LV-07", "LV-11"]


def test_participants_filter_by_type_and_attribute_value(team, attrs):
    client = client_for(team.viewer)
    assert pseudonyms(client.get(url(team, type="ngo_staff"))) == ["LV-11"]
    assert pseudonyms(client.get(url(team, attr="nationality", value="Iraqi"))) == ["LV-02"]
    assert pseudonyms(client.get(url(team, attr="languages", value="Kurmanji"))) == ["LV-07"]
    assert pseudonyms(client.get(url(team, attr="pushed_back", value="true"))) == ["LV-02"]
    assert pseudonyms(client.get(url(team, attr="attempts", value="many"))) == []


def test_participant_list_query_count_is_fixed(team, attrs, django_assert_num_queries):
    client = client_for(team.viewer)
    client.get(url(team))
    with django_assert_num_queries(8):
        client.get(url(team, sort="attr:attempts"))
    for n in range(10):
        services.create_participant(project=team.project, pseudonym=f"X-{n}", attributes={"attempts": n})
    with django_assert_num_queries(8):
        response = client.get(url(team, sort="attr:attempts"))
    assert len(response.context["rows"]) == 13


def test_supervisor_creates_a_participant_with_typed_attributes(team, attrs):
    response = client_for(team.supervisor).post(
        url(team),
        {
            "pseudonym": "LV-20",
            "participant_type": "border_crosser",
            "attr_nationality": "Yemeni",
            "attr_languages": ["Arabic", "Sorani"],
            "attr_attempts": "2",
            "attr_first_crossing": "2021-11-08",
            "attr_pushed_back": "true",
            "attr_notes": "Met at the <shelter>",
        },
    )
    assert response.status_code == 302
    participant = selectors.participants_with_attributes(team.project).get(pseudonym="LV-20")
    assert selectors.attributes_of(participant) == {
        "nationality": "Yemeni",
        "languages": ["Arabic", "Sorani"],
        "attempts": 2,
        "first_crossing": "2021-11-08",
        "pushed_back": True,
        "notes": "Met at the <shelter>",
    }


def test_form_renders_typed_inputs_per_attribute_kind(team, attrs):
    body = client_for(team.supervisor).get(url(team)).content.decode()
    assert '<select name="attr_nationality"' in body
    assert '<select name="attr_languages"' in body and "multiple" in body
    assert 'type="number" name="attr_attempts"' in body
    assert 'type="date" name="attr_first_crossing"' in body
    assert '<select name="attr_pushed_back"' in body
    assert '<label for="id_attr_notes">Notes</label>' in body


def test_bad_participant_input_shows_message_and_writes_nothing(team, attrs):
    before = Participant.objects.count()
    client = client_for(team.supervisor)
    response = client.post(url(team), {"pseudonym": "LV-07", "participant_type": "border_crosser"})
    assert response.status_code == 400
    assert "already called LV-07" in response.content.decode()
    response = client.post(
        url(team), {"pseudonym": "LV-30", "participant_type": "border_crosser", "attr_attempts": "three"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["attr_attempts"]
    assert Participant.objects.count() == before


@pytest.mark.parametrize("role", ["coder", "viewer"])
def test_coders_and_viewers_cannot_create_or_edit_participants(team, attrs, role):
    client = client_for(team.member(role))
    before = Participant.objects.count()
    response = client.post(url(team), {"pseudonym": "LV-40", "participant_type": "border_crosser"})
    assert response.status_code == 403
    detail = reverse("participant-detail", args=[team.project.pk, team.participant.pk])
    response = client.post(detail, {"pseudonym": "Renamed", "participant_type": "border_crosser"})
    assert response.status_code == 403
    assert Participant.objects.count() == before
    team.participant.refresh_from_db()
    assert team.participant.pseudonym == "LV-07"


def test_supervisor_edits_a_participant_and_clears_an_attribute(team, attrs):
    detail = reverse("participant-detail", args=[team.project.pk, team.participant.pk])
    client = client_for(team.supervisor)
    form = client.get(detail).context["form"]
    assert form.initial["attr_attempts"] == 3
    response = client.post(
        detail,
        {
            "version": form.initial["version"],
            "pseudonym": "LV-07b",
            "participant_type": "border_crosser",
            "attr_nationality": "Syrian",
            "attr_languages": ["Arabic"],
            "attr_attempts": "",
            "attr_first_crossing": "2022-01-02",
            "attr_pushed_back": "unknown",
        },
    )
    assert response.status_code == 302
    participant = selectors.participants_with_attributes(team.project).get(pk=team.participant.pk)
    assert participant.pseudonym == "LV-07b"
    assert selectors.attributes_of(participant) == {
        "nationality": "Syrian",
        "languages": ["Arabic"],
        "first_crossing": dt.date(2022, 1, 2).isoformat(),
    }


def test_bad_edit_keeps_stored_values(team, attrs):
    detail = reverse("participant-detail", args=[team.project.pk, team.participant.pk])
    response = client_for(team.supervisor).post(
        detail,
        {"pseudonym": "LV-07", "participant_type": "border_crosser", "attr_first_crossing": "31/12/2021"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["attr_first_crossing"]
    assert AttributeValue.objects.filter(participant=team.participant, definition__key="attempts").exists()


def test_participant_page_shows_interviews_and_coded_profile(team, attrs, django_assert_num_queries):
    second = make_interview(team.participant, by=team.owner, title="Second talk")
    for interview, code, start in [
        (team.interview, team.code, 0),
        (team.interview, team.code, 10),
        (second, team.code, 0),
        (second, team.code2, 0),
    ]:
        coding_services.create_coding(
            interview=interview, code=code, coder=team.coder, start=start, end=start + 5
        )
    detail = reverse("participant-detail", args=[team.project.pk, team.participant.pk])
    client = client_for(team.viewer)
    client.get(detail)
    with django_assert_num_queries(10):
        response = client.get(detail)
    assert response.status_code == 200
    profile = {row["code__name"]: (row["codings"], row["interviews"]) for row in response.context["profile"]}
    assert profile == {"Belarusian tourist visa": (3, 2), "Prior pushback": (1, 1)}
    body = response.content.decode()
    assert "Second talk" in body
    assert reverse("coding-view", args=[team.project.pk, second.pk]) in body


def test_outsider_gets_404_on_participant_page_and_foreign_participant_is_404(team):
    detail = reverse("participant-detail", args=[team.project.pk, team.participant.pk])
    assert client_for(team.outsider).get(detail).status_code == 404
    other = team.other_project.participants.get()
    foreign = reverse("participant-detail", args=[team.project.pk, other.pk])
    assert client_for(team.owner).get(foreign).status_code == 404


def test_attribute_values_with_markup_are_escaped(team, attrs):
    services.update_participant(
        participant=team.participant, attributes={"notes": "<script>alert(1)</script>"}
    )
    for path in (url(team), reverse("participant-detail", args=[team.project.pk, team.participant.pk])):
        body = client_for(team.supervisor).get(path).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
