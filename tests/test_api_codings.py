"""Codings through the API: bad input is a 400 naming the field (a duplicate, 409) and
writes nothing; roles hold."""

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from coding import services as coding_services
from coding.models import Coding
from interviews import services

from .conftest import make_interview
from .db_state import row_counts, row_values
from .factories import versioned


def url(project, pk=None):
    base = f"/api/projects/{project.pk}/codings/"
    return f"{base}{pk}/" if pk is not None else base


def a_coding(team, coder=None, start=0, end=5, code=None):
    return coding_services.create_coding(
        interview=team.interview, code=code or team.code, coder=coder or team.coder, start=start, end=end
    )


def assert_refused(response, field, *, status=400, fragment=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert field in body, body
    message = " ".join(body[field]) if isinstance(body[field], list) else str(body[field])
    assert message.strip()
    if fragment:
        assert fragment in message, message
    return message


# ---------------------------------------------------------------- creating


def test_coder_creates_coding_and_gets_the_quote(team, api):
    text = team.interview.text
    start, end = text.index("Near"), text.index("brother") + len("brother")
    response = api.as_user(team.coder).post(
        url(team.project),
        {"interview": team.interview.pk, "code": team.code.pk, "start": start, "end": end, "comment": "c"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["quote"] == text[start:end]
    assert body["coder"] == team.coder.pk
    coding = Coding.objects.get(pk=body["id"])
    assert (coding.start, coding.end, coding.coder, coding.project) == (start, end, team.coder, team.project)


@pytest.mark.parametrize(
    ("start", "end", "field", "fragment"),
    [
        ("len", "len+1", "end", "past the end of the text"),
        (0, "len+50", "end", "past the end of the text"),
        (-1, 5, "start", "cannot start before the text"),
        (-10, -2, "start", "cannot start before the text"),
        (10, 5, "end", "must end after it starts"),
        (7, 7, "end", "must end after it starts"),
        ("abc", 5, "start", "valid integer"),
        (1.5, 5, "start", "valid integer"),
        (0, "5.5", "end", "valid integer"),
        (True, 5, "start", "valid integer"),
        (None, 5, "start", None),
        (0, [5], "end", "valid integer"),
    ],
)
def test_bad_offsets_answer_400_naming_the_field_and_write_nothing(team, api, start, end, field, fragment):
    length = team.interview.text_length
    resolve = {"len": length, "len+1": length + 1, "len+50": length + 50}
    start = resolve[start] if isinstance(start, str) and start in resolve else start
    end = resolve[end] if isinstance(end, str) and end in resolve else end
    before = row_counts()
    response = api.as_user(team.coder).post(
        url(team.project), {"interview": team.interview.pk, "code": team.code.pk, "start": start, "end": end}
    )
    assert_refused(response, field, fragment=fragment)
    assert row_counts() == before


def test_missing_offsets_are_named(team, api):
    response = api.as_user(team.coder).post(url(team.project), {"interview": team.interview.pk})
    assert response.status_code == 400
    assert {"code", "start", "end"} <= set(response.json())


def test_code_of_another_project_is_not_found_and_nothing_is_written(team, api):
    before = row_counts()
    response = api.as_user(team.coder).post(
        url(team.project), {"interview": team.interview.pk, "code": team.other_code.pk, "start": 0, "end": 5}
    )
    message = assert_refused(response, "code", fragment="No such code in this project")
    assert "Secret code" not in message
    assert row_counts() == before


def test_interview_of_another_project_is_not_found_and_nothing_is_written(team, api):
    before = row_counts()
    response = api.as_user(team.coder).post(
        url(team.project), {"interview": team.other_interview.pk, "code": team.code.pk, "start": 0, "end": 5}
    )
    assert_refused(response, "interview", fragment="No such interview in this project")
    assert row_counts() == before


def test_id_that_exists_nowhere_is_not_found(team, api):
    response = api.as_user(team.coder).post(
        url(team.project), {"interview": team.interview.pk, "code": 987654, "start": 0, "end": 5}
    )
    assert_refused(response, "code", fragment="No such code in this project (id 987654)")


def test_folder_code_cannot_be_applied(team, api):
    before = row_counts()
    response = api.as_user(team.coder).post(
        url(team.project), {"interview": team.interview.pk, "code": team.code_group.pk, "start": 0, "end": 5}
    )
    assert_refused(response, "code", fragment="is a folder")
    assert row_counts() == before


def test_interview_not_yet_anonymised_cannot_be_coded(team, api):
    draft = make_interview(team.participant, title="Draft transcript")
    assert not draft.is_codable
    before = row_counts()
    response = api.as_user(team.coder).post(
        url(team.project), {"interview": draft.pk, "code": team.code.pk, "start": 0, "end": 5}
    )
    assert_refused(response, "interview", fragment="anonymised")
    assert row_counts() == before


def test_duplicate_coding_is_refused(team, api):
    a_coding(team, start=0, end=5)
    before = row_counts()
    response = api.as_user(team.coder).post(
        url(team.project), {"interview": team.interview.pk, "code": team.code.pk, "start": 0, "end": 5}
    )
    assert_refused(response, "code", status=409, fragment="already coded this passage")
    assert row_counts() == before


def test_same_passage_by_another_coder_is_not_a_duplicate(team, api):
    a_coding(team, start=0, end=5)
    response = api.as_user(team.coder2).post(
        url(team.project), {"interview": team.interview.pk, "code": team.code.pk, "start": 0, "end": 5}
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "extra",
    [
        {"coder": "coder2"},
        {"project": "other"},
        {"needs_review": True},
        {"quote": "anything"},
        {"id": 1},
        {"guid": "6f1c2e0a-0000-4000-8000-000000000000"},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"is_staff": True},
    ],
)
def test_unknown_or_read_only_fields_are_refused_on_create(team, api, extra):
    value = {"coder2": team.coder2.pk, "other": team.other_project.pk}
    extra = {k: value.get(v, v) if isinstance(v, str) else v for k, v in extra.items()}
    before = row_counts()
    response = api.as_user(team.coder).post(
        url(team.project),
        {"interview": team.interview.pk, "code": team.code.pk, "start": 0, "end": 5, **extra},
    )
    (field,) = extra
    assert_refused(response, field, fragment="cannot be set")
    assert row_counts() == before


# ---------------------------------------------------------------- changing


@pytest.mark.parametrize(
    "extra",
    [{"coder": "coder2"}, {"interview": "other_interview"}, {"project": "other"}, {"quote": "x"}],
)
def test_unknown_or_read_only_fields_are_refused_on_update(team, api, extra):
    coding = a_coding(team)
    value = {"coder2": team.coder2.pk, "other": team.other_project.pk, "other_interview": team.interview.pk}
    extra = {k: value.get(v, v) for k, v in extra.items()}
    before = row_values(Coding)
    response = versioned(api.as_user(team.coder), "patch", url(team.project, coding.pk), extra)
    (field,) = extra
    assert_refused(response, field, fragment="cannot be set")
    assert row_values(Coding) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": 10**6}, "end"),
        ({"start": -3}, "start"),
        ({"start": 9}, "end"),
        ({"start": 3, "end": 3}, "end"),
        ({"code": "other_code"}, "code"),
        ({"code": "code_group"}, "code"),
        ({"start": "x"}, "start"),
    ],
)
def test_bad_update_is_refused_and_leaves_the_coding_as_it_was(team, api, change, field):
    coding = a_coding(team, start=2, end=8)
    change = {
        k: getattr(team, v).pk if isinstance(v, str) and hasattr(team, v) else v for k, v in change.items()
    }
    before = row_values(Coding)
    response = versioned(api.as_user(team.coder), "patch", url(team.project, coding.pk), change)
    assert_refused(response, field)
    assert row_values(Coding) == before


def test_update_onto_an_existing_passage_is_a_duplicate(team, api):
    a_coding(team, start=0, end=5)
    coding = a_coding(team, start=0, end=6)
    response = versioned(api.as_user(team.coder), "patch", url(team.project, coding.pk), {"end": 5})
    assert_refused(response, "code", status=409, fragment="already coded")
    coding.refresh_from_db()
    assert coding.end == 6


def test_coder_changes_own_coding_and_redrawing_clears_the_review_flag(team, api):
    coding = a_coding(team, start=0, end=5)
    Coding.objects.filter(pk=coding.pk).update(needs_review=True)
    response = versioned(
        api.as_user(team.coder), "patch", url(team.project, coding.pk), {"end": 9, "comment": "wider"}
    )
    assert response.status_code == 200, response.json()
    coding.refresh_from_db()
    assert (coding.end, coding.comment, coding.needs_review) == (9, "wider", False)
    assert response.json()["quote"] == team.interview.text[0:9]


# ---------------------------------------------------------------- roles


def test_viewer_reads_codings_but_cannot_code(team, api):
    coding = a_coding(team)
    client = api.as_user(team.viewer)
    assert client.get(url(team.project)).status_code == 200
    read = client.get(url(team.project, coding.pk))
    assert read.status_code == 200
    before = row_counts()
    response = client.post(
        url(team.project), {"interview": team.interview.pk, "code": team.code.pk, "start": 0, "end": 3}
    )
    assert response.status_code == 403
    assert "viewer" in response.json()["detail"]
    version = {"HTTP_IF_MATCH": read["ETag"]}
    assert client.patch(url(team.project, coding.pk), {"comment": "x"}, **version).status_code == 403
    assert client.delete(url(team.project, coding.pk), **version).status_code == 403
    assert row_counts() == before


def test_coder_cannot_change_or_delete_another_coders_coding(team, api):
    coding = a_coding(team, coder=team.coder2)
    before = row_values(Coding)
    client = api.as_user(team.coder)
    assert (
        versioned(client, "patch", url(team.project, coding.pk), {"comment": "mine now"}).status_code == 403
    )
    assert versioned(client, "patch", url(team.project, coding.pk), {"end": 9}).status_code == 403
    assert versioned(client, "delete", url(team.project, coding.pk)).status_code == 403
    assert row_values(Coding) == before


@pytest.mark.parametrize("role", ["supervisor", "owner"])
def test_supervisor_and_owner_change_and_delete_a_coders_coding(team, api, role):
    coding = a_coding(team, coder=team.coder)
    client = api.as_user(team.member(role))
    response = versioned(
        client, "patch", url(team.project, coding.pk), {"comment": "checked", "code": team.code2.pk}
    )
    assert response.status_code == 200, response.json()
    coding.refresh_from_db()
    assert (coding.comment, coding.code, coding.coder) == ("checked", team.code2, team.coder)
    assert versioned(client, "delete", url(team.project, coding.pk)).status_code == 204
    assert not Coding.objects.filter(pk=coding.pk).exists()


def test_coder_deletes_own_coding(team, api):
    coding = a_coding(team)
    assert versioned(api.as_user(team.coder), "delete", url(team.project, coding.pk)).status_code == 204
    assert not Coding.objects.filter(pk=coding.pk).exists()


def test_anonymous_is_refused(team, api):
    assert api.get(url(team.project)).status_code in (401, 403)


# ---------------------------------------------------------------- outsiders


def test_outsider_gets_404_on_everything_of_the_project(team, api):
    coding = a_coding(team)
    client = api.as_user(team.outsider)
    before = row_values(Coding)
    assert client.get(url(team.project)).status_code == 404
    assert client.get(url(team.project, coding.pk)).status_code == 404
    assert client.patch(url(team.project, coding.pk), {"comment": "x"}).status_code == 404
    assert client.delete(url(team.project, coding.pk)).status_code == 404
    response = client.post(
        url(team.project), {"interview": team.interview.pk, "code": team.code.pk, "start": 0, "end": 3}
    )
    assert response.status_code == 404
    assert row_values(Coding) == before


def test_outsider_cannot_reach_a_coding_through_their_own_project(team, api):
    coding = a_coding(team)
    client = api.as_user(team.outsider)
    before = row_values(Coding)
    other = team.other_project
    assert client.get(url(other, coding.pk)).status_code == 404
    assert client.patch(url(other, coding.pk), {"comment": "x"}).status_code == 404
    assert client.delete(url(other, coding.pk)).status_code == 404
    assert client.get(url(other)).json()["count"] == 0
    assert row_values(Coding) == before


@pytest.mark.parametrize(
    ("interview", "code", "field"), [("own", "theirs", "code"), ("theirs", "own", "interview")]
)
def test_outsider_cannot_write_project_a_ids_through_project_b(team, api, interview, code, field):
    ids = {
        "interview": {"own": team.other_interview.pk, "theirs": team.interview.pk},
        "code": {"own": team.other_code.pk, "theirs": team.code.pk},
    }
    before = row_counts()
    response = api.as_user(team.outsider).post(
        url(team.other_project),
        {"interview": ids["interview"][interview], "code": ids["code"][code], "start": 0, "end": 5},
    )
    assert_refused(response, field, fragment="No such")
    assert row_counts() == before


def test_outsider_cannot_move_their_coding_onto_a_code_of_project_a(team, api):
    theirs = coding_services.create_coding(
        interview=team.other_interview, code=team.other_code, coder=team.outsider, start=0, end=4
    )
    response = versioned(
        api.as_user(team.outsider), "patch", url(team.other_project, theirs.pk), {"code": team.code.pk}
    )
    assert_refused(response, "code", fragment="No such code in this project")
    theirs.refresh_from_db()
    assert theirs.code == team.other_code


# ---------------------------------------------------------------- reading


def test_the_codings_answer_is_what_the_generic_serializer_gives(team, api):
    """CodingOutput writes its fields directly for speed; it must equal DRF's field-by-field output."""
    from rest_framework import serializers as drf

    from coding.serializers import CodingOutput

    a_coding(team, start=0, end=5)
    a_coding(team, coder=team.supervisor, start=3, end=9).comment = "ignored"
    answer = api.as_user(team.supervisor).get(url(team.project), {"interview": team.interview.pk}).json()
    assert len(answer["results"]) == 2
    for row in answer["results"]:
        coding = Coding.objects.select_related("code", "coder").get(pk=row["id"])
        coding.quote = team.interview.text[coding.start : coding.end]
        generic = drf.ModelSerializer.to_representation(CodingOutput(), coding)
        assert row == dict(generic)
        assert row["quote"] and row["created_at"].endswith("Z")
        # Also where a time zone other than UTC is current (+03:00).
        with timezone.override(ZoneInfo("Europe/Minsk")):
            generic = dict(drf.ModelSerializer.to_representation(CodingOutput(), coding))
            assert CodingOutput().to_representation(coding) == generic
            assert generic["created_at"].endswith("+03:00")


def test_list_filters_by_code_tree_interview_and_coder(team, api):
    a_coding(team, start=0, end=5)
    a_coding(team, coder=team.coder2, start=1, end=5)
    a_coding(team, code=team.code2, start=2, end=6)
    client = api.as_user(team.viewer)
    by_tree = client.get(url(team.project), {"code_tree": team.code_group.pk}).json()
    assert by_tree["count"] == 2
    by_coder = client.get(url(team.project), {"coder": team.coder2.pk}).json()
    assert [r["start"] for r in by_coder["results"]] == [1]
    assert client.get(url(team.project), {"code_tree": team.other_code.pk}).json()["count"] == 0
    assert client.get(url(team.project), {"interview": team.interview.pk}).json()["count"] == 3


def test_viewer_cannot_code_even_through_the_service(team):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        coding_services.create_coding(
            interview=team.interview, code=team.code, coder=team.viewer, start=0, end=4
        )
    assert "coder" in caught.value.message_dict


def test_interview_deleted_takes_its_codings(team):
    a_coding(team)
    services.delete_interview(interview=team.interview)
    assert not Coding.objects.filter(project=team.project).exists()


def test_supervisor_corrects_a_coding_of_someone_who_left_the_project(team, api):
    from interviews.models import Membership

    coding = a_coding(team, coder=team.coder2)
    services.remove_member(membership=Membership.objects.get(project=team.project, user=team.coder2))
    response = versioned(
        api.as_user(team.supervisor),
        "patch",
        url(team.project, coding.pk),
        {"comment": "checked after they left", "needs_review": False},
    )
    assert response.status_code == 200, response.json()
    coding.refresh_from_db()
    assert (coding.comment, coding.coder) == ("checked after they left", team.coder2)
