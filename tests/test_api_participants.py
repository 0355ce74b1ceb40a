"""Participants and typed attributes through the API: values fit their definition or nothing is stored."""

import pytest

from interviews import services
from interviews.models import AttributeDefinition, AttributeValue, Participant

from .db_state import row_counts, row_values
from .factories import versioned


def url(project, pk=None):
    base = f"/api/projects/{project.pk}/participants/"
    return f"{base}{pk}/" if pk is not None else base


def attr_url(project, pk=None):
    base = f"/api/projects/{project.pk}/attributes/"
    return f"{base}{pk}/" if pk is not None else base


def assert_refused(response, field, fragment=None, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert field in body, body
    message = " ".join(body[field]) if isinstance(body[field], list) else str(body[field])
    assert message.strip()
    if fragment:
        assert fragment in message, message
    return message


@pytest.fixture
def attributes(team):
    p = team.project
    make = services.create_attribute_definition
    return {
        "nationality": make(
            project=p,
            key="nationality",
            label="Nationality",
            kind="categorical",
            choices=["Iraq", "Syria", "Afghanistan"],
        ),
        "languages": make(
            project=p,
            key="languages",
            label="Languages",
            kind="categorical",
            choices=["Arabic", "Kurmanji", "Sorani", "English"],
            multiple=True,
        ),
        "crossing_attempts": make(
            project=p, key="crossing_attempts", label="Crossing attempts", kind="integer"
        ),
        "days_at_border": make(project=p, key="days_at_border", label="Days at the border", kind="decimal"),
        "arrived": make(project=p, key="arrived", label="Arrived", kind="date"),
        "has_lawyer": make(project=p, key="has_lawyer", label="Has a lawyer", kind="boolean"),
        "note": make(project=p, key="note", label="Note", kind="text"),
    }


GOOD = {
    "nationality": "Iraq",
    "languages": ["Sorani", "Arabic"],
    "crossing_attempts": 4,
    "days_at_border": 12.5,
    "arrived": "2021-11-03",
    "has_lawyer": False,
    "note": "Came with family.",
}


def test_supervisor_creates_participant_with_typed_attributes(team, api, attributes):
    response = api.as_user(team.supervisor).post(
        url(team.project), {"pseudonym": "LV-12", "participant_type": "border_crosser", "attributes": GOOD}
    )
    assert response.status_code == 201, response.json()
    got = response.json()["attributes"]
    assert got == {**GOOD, "languages": ["Arabic", "Sorani"]}
    again = api.as_user(team.viewer).get(url(team.project, response.json()["id"])).json()["attributes"]
    assert again == got
    stored = AttributeValue.objects.filter(participant_id=response.json()["id"])
    assert stored.filter(definition=attributes["languages"]).count() == 2


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("nationality", "Narnia", "not one of the allowed values"),
        ("nationality", "iraq", "not one of the allowed values"),
        ("nationality", ["Iraq"], "not one of the allowed values"),
        ("nationality", 3, "not one of the allowed values"),
        ("languages", "Arabic", "Give a list"),
        ("languages", ["Arabic", "Klingon"], "not one of the allowed values"),
        ("languages", ["Arabic", "Arabic"], "given twice"),
        ("crossing_attempts", "abc", "whole number"),
        ("crossing_attempts", 1.5, "whole number"),
        ("crossing_attempts", "1.5", "whole number"),
        ("crossing_attempts", True, "whole number"),
        ("crossing_attempts", [4], "whole number"),
        ("crossing_attempts", 10**25, "at most 14 digits"),
        ("days_at_border", "twelve", "Give a number"),
        ("days_at_border", True, "Give a number"),
        ("days_at_border", "NaN", "finite"),
        ("days_at_border", "Infinity", "finite"),
        ("days_at_border", "1e20", "below 10^14"),
        ("days_at_border", "99999999999999.9999999", "below 10^14"),
        ("arrived", "03/11/2021", "YYYY-MM-DD"),
        ("arrived", "2021-13-01", "YYYY-MM-DD"),
        ("arrived", 20211103, "YYYY-MM-DD"),
        ("arrived", "yesterday", "YYYY-MM-DD"),
        ("has_lawyer", "yes", "true or false"),
        ("has_lawyer", 1, "true or false"),
        ("has_lawyer", "true", "true or false"),
        ("note", 42, "piece of text"),
        ("note", ["a"], "piece of text"),
    ],
)
def test_attribute_value_that_does_not_fit_is_refused_and_nothing_is_stored(
    team, api, attributes, key, value, fragment
):
    before = row_counts()
    response = api.as_user(team.supervisor).post(
        url(team.project), {"pseudonym": "LV-13", "attributes": {"note": "kept?", key: value}}
    )
    message = assert_refused(response, f"attributes.{key}", fragment)
    assert row_counts() == before
    # Updating an existing participant is refused the same way, and its values stay.
    services.set_participant_attributes(participant=team.participant, values={"note": "before"})
    values_before = row_values(AttributeValue)
    response = versioned(
        api.as_user(team.supervisor),
        "patch",
        url(team.project, team.participant.pk),
        {"pseudonym": "LV-99", "attributes": {key: value}},
    )
    assert assert_refused(response, f"attributes.{key}", fragment) == message
    assert row_values(AttributeValue) == values_before
    team.participant.refresh_from_db()
    assert team.participant.pseudonym == "LV-07"


def test_unknown_attribute_key_is_refused(team, api, attributes):
    before = row_counts()
    response = api.as_user(team.supervisor).post(
        url(team.project), {"pseudonym": "LV-14", "attributes": {"nationality": "Iraq", "religion": "x"}}
    )
    assert_refused(response, "attributes", "Unknown attribute(s): religion")
    assert row_counts() == before


def test_attribute_of_another_project_is_unknown_here(team, api, attributes):
    services.create_attribute_definition(
        project=team.other_project, key="secret_key_attr", label="S", kind="text"
    )
    response = versioned(
        api.as_user(team.supervisor),
        "patch",
        url(team.project, team.participant.pk),
        {"attributes": {"secret_key_attr": "x"}},
    )
    assert_refused(response, "attributes", "Unknown attribute")


def test_attributes_must_be_an_object(team, api, attributes):
    response = versioned(
        api.as_user(team.supervisor),
        "patch",
        url(team.project, team.participant.pk),
        {"attributes": ["Iraq"]},
    )
    assert_refused(response, "attributes")


def test_null_clears_an_attribute_and_others_stay(team, api, attributes):
    services.set_participant_attributes(participant=team.participant, values=GOOD)
    response = versioned(
        api.as_user(team.supervisor),
        "patch",
        url(team.project, team.participant.pk),
        {"attributes": {"nationality": None, "languages": []}},
    )
    assert response.status_code == 200, response.json()
    got = response.json()["attributes"]
    assert "nationality" not in got and "languages" not in got
    assert got["crossing_attempts"] == 4


def test_zero_and_false_are_values_not_blanks(team, api, attributes):
    response = versioned(
        api.as_user(team.supervisor),
        "patch",
        url(team.project, team.participant.pk),
        {"attributes": {"crossing_attempts": 0, "has_lawyer": False, "days_at_border": "0.25"}},
    )
    assert response.status_code == 200
    assert response.json()["attributes"] == {
        "crossing_attempts": 0,
        "has_lawyer": False,
        "days_at_border": 0.25,
    }


def test_duplicate_pseudonym_is_refused(team, api):
    before = row_counts()
    response = api.as_user(team.supervisor).post(url(team.project), {"pseudonym": "LV-07"})
    assert_refused(response, "pseudonym", "already called LV-07", status=409)
    other = services.create_participant(project=team.project, pseudonym="LV-08")
    response = versioned(
        api.as_user(team.supervisor), "patch", url(team.project, other.pk), {"pseudonym": " LV-07 "}
    )
    assert_refused(response, "pseudonym", "already called LV-07", status=409)
    assert row_counts() == before | {"interviews.Participant": before["interviews.Participant"] + 1}
    other.refresh_from_db()
    assert other.pseudonym == "LV-08"


def test_same_pseudonym_in_another_project_is_allowed(team, api):
    response = api.as_user(team.outsider).post(url(team.other_project), {"pseudonym": "LV-07"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"pseudonym": ""}, "pseudonym"),
        ({"pseudonym": "   "}, "pseudonym"),
        ({"pseudonym": "x" * 41}, "pseudonym"),
        ({"pseudonym": "LV-20", "participant_type": "smuggler"}, "participant_type"),
        ({"pseudonym": "LV-20", "project": 2}, "project"),
        ({"pseudonym": "LV-20", "interview_count": 2}, "interview_count"),
        ({"pseudonym": "LV-20", "guid": "x"}, "guid"),
        ({"pseudonym": "LV-20", "real_name": "x"}, "real_name"),
    ],
)
def test_bad_participant_input_is_refused(team, api, payload, field):
    before = row_counts()
    assert_refused(api.as_user(team.supervisor).post(url(team.project), payload), field)
    assert row_counts() == before


def test_participant_with_interviews_cannot_be_deleted(team, api):
    before = row_counts()
    response = versioned(api.as_user(team.supervisor), "delete", url(team.project, team.participant.pk))
    assert_refused(response, "participant", "still has interviews")
    assert row_counts() == before


def test_filter_participants_by_attribute(team, api, attributes):
    services.set_participant_attributes(participant=team.participant, values=GOOD)
    services.create_participant(project=team.project, pseudonym="LV-30", attributes={"nationality": "Syria"})
    client = api.as_user(team.viewer)
    names = lambda q: [r["pseudonym"] for r in client.get(url(team.project), q).json()["results"]]  # noqa: E731
    assert names({"attribute": "nationality:Iraq"}) == ["LV-07"]
    assert names({"attribute": "crossing_attempts:4"}) == ["LV-07"]
    assert names({"attribute": "languages:Sorani"}) == ["LV-07"]
    assert names({"attribute": "has_lawyer:false"}) == ["LV-07"]
    assert names({"attribute": "nope:1"}) == []
    assert names({"attribute": "crossing_attempts:many"}) == []


# ---------------------------------------------------------------- attribute definitions


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"key": "gender", "kind": "categorical"}, "choices"),
        ({"key": "gender", "kind": "categorical", "choices": []}, "choices"),
        ({"key": "gender", "kind": "categorical", "choices": ["F", "f"]}, "choices"),
        ({"key": "gender", "kind": "categorical", "choices": ["F", " "]}, "choices"),
        ({"key": "age", "kind": "integer", "choices": ["1"]}, "choices"),
        ({"key": "age", "kind": "integer", "multiple": True}, "multiple"),
        ({"key": "age", "kind": "colour"}, "kind"),
        ({"key": "not a slug", "kind": "text"}, "key"),
        ({"key": "nationality", "kind": "text"}, "key"),  # taken: 409
        ({"key": "age", "kind": "text", "project": 2}, "project"),
    ],
)
def test_bad_attribute_definition_is_refused(team, api, attributes, payload, field):
    before = row_counts()
    status = 409 if payload["key"] == "nationality" else 400
    assert_refused(api.as_user(team.supervisor).post(attr_url(team.project), payload), field, status=status)
    assert row_counts() == before


def test_attribute_definition_in_use_keeps_its_kind_and_used_choices(team, api, attributes):
    services.set_participant_attributes(participant=team.participant, values=GOOD)
    client = api.as_user(team.supervisor)
    before = row_values(AttributeDefinition)
    assert_refused(client.patch(attr_url(team.project, attributes["note"].pk), {"kind": "integer"}), "kind")
    response = client.patch(attr_url(team.project, attributes["nationality"].pk), {"choices": ["Syria"]})
    assert_refused(response, "choices", "still in use cannot be removed: Iraq")
    response = client.patch(attr_url(team.project, attributes["languages"].pk), {"multiple": False})
    assert_refused(response, "multiple")
    assert row_values(AttributeDefinition) == before
    ok = client.patch(attr_url(team.project, attributes["nationality"].pk), {"choices": ["Iraq", "Iran"]})
    assert ok.status_code == 200, ok.json()


# ---------------------------------------------------------------- roles


@pytest.mark.parametrize("role", ["coder", "viewer"])
def test_coder_and_viewer_read_but_do_not_edit_participants(team, api, attributes, role):
    client = api.as_user(team.member(role))
    before = row_counts(), row_values(Participant)
    assert client.get(url(team.project)).status_code == 200
    assert client.get(url(team.project, team.participant.pk)).status_code == 200
    assert client.get(attr_url(team.project)).status_code == 200
    assert client.post(url(team.project), {"pseudonym": "LV-50"}).status_code == 403
    assert (
        versioned(client, "patch", url(team.project, team.participant.pk), {"pseudonym": "LV-51"}).status_code
        == 403
    )
    assert versioned(client, "delete", url(team.project, team.participant.pk)).status_code == 403
    assert client.post(attr_url(team.project), {"key": "x", "kind": "text"}).status_code == 403
    assert (
        versioned(client, "patch", attr_url(team.project, attributes["note"].pk), {"label": "y"}).status_code
        == 403
    )
    assert versioned(client, "delete", attr_url(team.project, attributes["note"].pk)).status_code == 403
    assert (row_counts(), row_values(Participant)) == before


def test_outsider_gets_404_on_participants_and_attributes(team, api, attributes):
    client = api.as_user(team.outsider)
    before = row_counts()
    for path in (
        url(team.project),
        url(team.project, team.participant.pk),
        attr_url(team.project),
        attr_url(team.project, attributes["note"].pk),
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(url(team.project), {"pseudonym": "X"}).status_code == 404
    assert (
        versioned(client, "patch", url(team.project, team.participant.pk), {"pseudonym": "X"}).status_code
        == 404
    )
    assert versioned(client, "delete", url(team.project, team.participant.pk)).status_code == 404
    assert client.get(url(team.other_project, team.participant.pk)).status_code == 404
    assert (
        versioned(
            client, "patch", url(team.other_project, team.participant.pk), {"pseudonym": "X"}
        ).status_code
        == 404
    )
    assert (
        versioned(
            client, "patch", attr_url(team.other_project, attributes["note"].pk), {"label": "X"}
        ).status_code
        == 404
    )
    assert row_counts() == before


@pytest.mark.parametrize(
    "query",
    [
        "arrived:notadate",
        "arrived:2021-02-30",
        "crossing_attempts:1e400",
        "crossing_attempts:nan",
        "crossing_attempts:inf",
        "crossing_attempts:1e30",
        "has_lawyer:maybe",
        ":",
        "crossing_attempts",
    ],
)
def test_attribute_filter_with_a_value_of_the_wrong_type_matches_nobody(team, api, attributes, query):
    services.set_participant_attributes(participant=team.participant, values=GOOD)
    response = api.as_user(team.viewer).get(url(team.project), {"attribute": query})
    assert response.status_code == 200, response.json()
    assert response.json()["count"] == 0


def test_attribute_filter_matches_decimals_and_dates_exactly(team, api, attributes):
    services.set_participant_attributes(participant=team.participant, values=GOOD)
    client = api.as_user(team.viewer)
    for query in ("days_at_border:12.5", "days_at_border:12.50", "arrived:2021-11-03"):
        assert client.get(url(team.project), {"attribute": query}).json()["count"] == 1, query
    assert client.get(url(team.project), {"attribute": "days_at_border:12.4"}).json()["count"] == 0
