"""Invariants the database itself keeps, and the cross-row rules the services keep."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from coding import services as coding_services
from coding.models import Code, Coding, Memo, MemoKind
from interviews import services
from interviews.models import (
    AttributeDefinition,
    Interview,
    Membership,
    Participant,
    SpeakerTurn,
)


def refused_by_database(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def coding_row(team, **overrides):
    values = {
        "project": team.project,
        "interview": team.interview,
        "code": team.code,
        "coder": team.coder,
        "start": 0,
        "end": 5,
    }
    return Coding.objects.create(**{**values, **overrides})


# ---------------------------------------------------------------- database constraints


@pytest.mark.parametrize(("start", "end"), [(5, 5), (6, 5), (-1, 3)])
def test_database_refuses_a_coding_with_a_bad_range(team, start, end):
    refused_by_database(lambda: coding_row(team, start=start, end=end))


def test_database_refuses_the_same_passage_twice(team):
    coding_row(team)
    refused_by_database(lambda: coding_row(team))
    coding_row(team, coder=team.coder2)  # another coder may code it


def test_database_refuses_sibling_codes_with_the_same_name_ignoring_case(team):
    refused_by_database(
        lambda: Code.objects.create(
            project=team.project, parent=team.code_group, name="BELARUSIAN TOURIST VISA"
        )
    )
    refused_by_database(lambda: Code.objects.create(project=team.project, name="prior pushback"))
    refused_by_database(lambda: Code.objects.create(project=team.project, name=""))
    Code.objects.create(project=team.other_project, name="Prior pushback")


def test_database_refuses_a_second_membership_and_unknown_roles(team):
    refused_by_database(
        lambda: Membership.objects.create(project=team.project, user=team.coder, role="viewer")
    )
    refused_by_database(
        lambda: Membership.objects.create(project=team.other_project, user=team.coder, role="boss")
    )


def test_database_refuses_duplicate_pseudonym_in_a_project(team):
    refused_by_database(lambda: Participant.objects.create(project=team.project, pseudonym="LV-07"))
    Participant.objects.create(project=team.other_project, pseudonym="LV-07")


def test_database_refuses_multiple_values_on_a_non_categorical_attribute(team):
    refused_by_database(
        lambda: AttributeDefinition.objects.create(
            project=team.project, key="n", label="n", kind="integer", multiple=True
        )
    )


@pytest.mark.parametrize(
    ("kind", "targets"),
    [
        (MemoKind.PROJECT, {"code": "code"}),
        (MemoKind.CODE, {}),
        (MemoKind.CODE, {"interview": "interview"}),
        (MemoKind.INTERVIEW, {"interview": "interview", "participant": "participant"}),
    ],
)
def test_database_refuses_a_memo_whose_target_does_not_match_its_kind(team, kind, targets):
    values = {name: getattr(team, attr) for name, attr in targets.items()}
    refused_by_database(
        lambda: Memo.objects.create(project=team.project, kind=kind, author=team.coder, text="x", **values)
    )


def test_database_refuses_an_empty_or_reversed_turn_and_a_reused_index(team):
    iv = team.interview
    refused_by_database(
        lambda: SpeakerTurn.objects.create(interview=iv, index=99, start=4, end=4, role="other")
    )
    refused_by_database(
        lambda: SpeakerTurn.objects.create(interview=iv, index=99, start=5, end=4, role="other")
    )
    refused_by_database(
        lambda: SpeakerTurn.objects.create(interview=iv, index=0, start=0, end=4, role="other")
    )
    refused_by_database(
        lambda: SpeakerTurn.objects.create(interview=iv, index=99, start=0, end=4, role="judge")
    )


def test_database_refuses_an_unknown_interview_status(team):
    refused_by_database(lambda: Interview.objects.filter(pk=team.interview.pk).update(status="published"))


def test_a_code_in_use_cannot_be_deleted_behind_the_services_back(team):
    coding_row(team)
    with pytest.raises(ProtectedError), transaction.atomic():
        team.code.delete()


def test_codings_have_indexes_for_the_analytics_queries():
    indexed = {tuple(index.fields) for index in Coding._meta.indexes}
    assert {("interview", "start"), ("code", "interview"), ("coder", "interview")} <= indexed


# ---------------------------------------------------------------- what the services keep


def test_stored_transcript_has_its_hash_length_and_version(team):
    text = "Cafe\u0301 🌲\r\nSecond line"
    interview = services.create_interview(participant=team.participant, title="Hash", text=text)
    stored = "Café 🌲\nSecond line"
    assert interview.text == stored
    assert interview.text_length == len(stored) == 18
    assert interview.text_sha256 == hashlib.sha256(stored.encode()).hexdigest()
    assert interview.text_version == 1 and not interview.is_codable


def test_service_refuses_a_code_of_another_project_on_an_interview(team):
    with pytest.raises(ValidationError) as refused:
        coding_services.create_coding(
            interview=team.interview, code=team.other_code, coder=team.coder, start=0, end=5
        )
    assert "another project" in refused.value.message_dict["code"][0]
    assert not Coding.objects.exists()


def test_service_refuses_an_outsider_as_coder(team):
    with pytest.raises(ValidationError) as refused:
        coding_services.create_coding(
            interview=team.interview, code=team.code, coder=team.outsider, start=0, end=5
        )
    assert "coder" in refused.value.message_dict


def test_service_refuses_to_change_the_transcript_outside_a_revision(team):
    with pytest.raises(ValidationError) as refused:
        services.update_interview(interview=team.interview, text="new")
    assert "text" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.create_interview(participant=team.participant, title="x", text="y", text_sha256="0")


def test_service_refuses_a_memo_on_something_of_another_project(team):
    with pytest.raises(ValidationError):
        coding_services.create_memo(project=team.project, author=team.coder, text="x", target=team.other_code)
    assert not Memo.objects.exists()


def test_service_refuses_a_parent_code_of_another_project(team):
    with pytest.raises(ValidationError) as refused:
        coding_services.create_code(project=team.project, name="Sneaky", parent=team.other_code)
    assert "parent" in refused.value.message_dict


def test_service_rules_for_code_names_hold_case_and_whitespace(team):
    code = coding_services.create_code(project=team.project, name="  Russian visa  ", parent=team.code_group)
    assert code.name == "Russian visa"
    for clash in ("russian VISA", " Russian visa"):
        with pytest.raises(ValidationError):
            coding_services.create_code(project=team.project, name=clash, parent=team.code_group)
    with pytest.raises(ValidationError):
        coding_services.update_code(code=code, name="belarusian tourist visa")


def test_deleting_a_project_removes_everything_in_it(team):
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder, start=0, end=5)
    coding_services.create_memo(project=team.project, author=team.coder, text="x", target=team.code)
    services.delete_project(project=team.project)
    assert not Code.objects.filter(project_id=team.project.pk).exists()
    assert not Interview.objects.filter(project_id=team.project.pk).exists()
    assert Code.objects.filter(project=team.other_project).exists()
