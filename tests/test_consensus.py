"""Disagreement review and the consensus layer: grouping, settling, undoing, access."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from coding import consensus
from coding import services as coding_services
from coding.agreement import project_agreement
from coding.analytics import code_frequencies, make_scope
from coding.models import Coding
from interviews.models import AuditEvent

from .conftest import MIXED_TEXT


def code(team, start, end, *, coder=None, code=None):
    return coding_services.create_coding(
        interview=team.interview, code=code or team.code, coder=coder or team.coder, start=start, end=end
    )


def groups_of(team, codes=None):
    return consensus.disagreements(team.interview, [team.coder, team.coder2], codes).groups


def layer(team):
    return coding_services.consensus_coder(team.project)


def url(team, what):
    return f"/api/projects/{team.project.pk}/interviews/{team.interview.pk}/{what}/"


# ---------------------------------------------------------------- disagreement groups


def test_identical_ranges_of_every_coder_are_agreed(team):
    code(team, 3, 12)
    code(team, 3, 12, coder=team.coder2)
    [group] = groups_of(team)
    assert group.kind == consensus.AGREED
    assert (group.start, group.end) == (3, 12)
    assert not group.is_disagreement


def test_a_code_applied_by_one_coder_only_is_a_disagreement(team):
    code(team, 40, 60)
    [group] = groups_of(team)
    assert group.kind == consensus.APPLIED_BY_SOME
    assert group.coders_with == [team.coder.pk]
    assert group.coders_without == [team.coder2.pk]


def test_overlapping_ranges_chain_into_one_group_with_different_ranges(team):
    a1 = code(team, 0, 10)
    b = code(team, 5, 20, coder=team.coder2)
    a2 = code(team, 18, 30)
    [group] = groups_of(team)
    assert group.kind == consensus.DIFFERENT_RANGES
    assert (group.start, group.end) == (0, 30)
    assert {p.id for p in group.codings} == {a1.pk, b.pk, a2.pk}


def test_touching_ranges_do_not_overlap_and_make_separate_groups(team):
    code(team, 0, 10)
    code(team, 10, 20, coder=team.coder2)
    assert [(g.start, g.end, g.kind) for g in groups_of(team)] == [
        (0, 10, consensus.APPLIED_BY_SOME),
        (10, 20, consensus.APPLIED_BY_SOME),
    ]


def test_groups_are_formed_per_code(team):
    code(team, 0, 10)
    code(team, 0, 10, coder=team.coder2, code=team.code2)
    groups = groups_of(team)
    assert sorted(g.code_id for g in groups) == sorted([team.code.pk, team.code2.pk])
    assert all(g.kind == consensus.APPLIED_BY_SOME for g in groups)
    assert [g.code_id for g in groups_of(team, codes=[team.code2])] == [team.code2.pk]


def test_a_coder_who_splits_the_same_characters_in_two_codings_still_agrees(team):
    code(team, 0, 10)
    code(team, 8, 20)
    code(team, 0, 20, coder=team.coder2)
    [group] = groups_of(team)
    assert group.kind == consensus.AGREED


def test_quotes_are_the_texts_code_points_in_arabic_kurdish_and_emoji(team):
    text = team.interview.text
    arabic = text.index("قال")
    emoji = text.index("🌲")
    sorani = text.index("ئێمە")
    code(team, emoji, arabic + 7)
    code(team, sorani, sorani + 4, coder=team.coder2)
    quotes = {p.start: p.quote for g in groups_of(team) for p in g.codings}
    assert quotes[emoji] == MIXED_TEXT[emoji : arabic + 7]
    assert quotes[emoji].startswith("🌲") and quotes[emoji].endswith("قال لي:")
    assert quotes[sorani] == "ئێمە"


def test_grouping_reads_the_codings_and_the_text_once(team, django_assert_num_queries):
    code(team, 0, 10)
    code(team, 5, 12, coder=team.coder2)
    code(team, 30, 40, coder=team.coder2, code=team.code2)
    layer(team)
    with django_assert_num_queries(2):
        groups = groups_of(team)
    assert len(groups) == 2


def test_other_interviews_and_other_coders_do_not_count(team):
    from .conftest import make_interview

    other = make_interview(team.participant, title="Second interview", by=team.owner)
    coding_services.create_coding(interview=other, code=team.code, coder=team.coder, start=0, end=5)
    code(team, 0, 5, coder=team.supervisor)
    assert groups_of(team) == []


# ---------------------------------------------------------------- settling


def test_accept_copies_one_coders_range_into_the_consensus_layer(team):
    a = code(team, 0, 10)
    code(team, 4, 16, coder=team.coder2)
    settled = consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[a], by=team.supervisor
    )
    assert (settled.start, settled.end, settled.coder_id, settled.code_id) == (
        0,
        10,
        layer(team).pk,
        team.code.pk,
    )
    [group] = groups_of(team)
    assert [p.id for p in group.consensus] == [settled.pk]
    assert group.settled


@pytest.mark.parametrize(
    "method, expected",
    [("union", (0, 16)), ("intersection", (4, 10))],
)
def test_union_and_intersection_take_the_range_arithmetic_of_the_group(team, method, expected):
    a = code(team, 0, 10)
    b = code(team, 4, 16, coder=team.coder2)
    settled = consensus.settle(
        interview=team.interview, code=team.code, method=method, codings=[a, b], by=team.supervisor
    )
    assert (settled.start, settled.end) == expected


def test_union_of_a_chained_group_spans_it_and_intersection_of_a_chain_is_refused(team):
    a1, b, a2 = code(team, 0, 10), code(team, 5, 20, coder=team.coder2), code(team, 18, 30)
    settled = consensus.settle(
        interview=team.interview, code=team.code, method="union", codings=[a1, b, a2], by=team.supervisor
    )
    assert (settled.start, settled.end) == (0, 30)
    with pytest.raises(ValidationError) as error:
        consensus.settle(
            interview=team.interview,
            code=team.code,
            method="intersection",
            codings=[a1, b, a2],
            by=team.supervisor,
        )
    assert "codings" in error.value.message_dict


def test_union_of_codings_that_do_not_overlap_is_refused(team):
    a, b = code(team, 0, 5), code(team, 10, 15, coder=team.coder2)
    with pytest.raises(ValidationError) as error:
        consensus.settle(
            interview=team.interview, code=team.code, method="union", codings=[a, b], by=team.supervisor
        )
    assert "codings" in error.value.message_dict


def test_new_range_is_written_as_given_and_validated_like_any_coding(team):
    a = code(team, 0, 10)
    settled = consensus.settle(
        interview=team.interview,
        code=team.code,
        method="new",
        codings=[a],
        start=2,
        end=8,
        by=team.supervisor,
    )
    assert (settled.start, settled.end) == (2, 8)
    for start, end, field in ((2, None, "end"), (None, 8, "start"), (8, 2, "end"), (0, 10**6, "end")):
        with pytest.raises(ValidationError) as error:
            consensus.settle(
                interview=team.interview,
                code=team.code,
                method="new",
                start=start,
                end=end,
                by=team.supervisor,
            )
        assert field in error.value.message_dict


def test_settling_replaces_the_consensus_codings_of_that_code_over_the_group_only(team):
    a = code(team, 0, 10)
    b = code(team, 4, 16, coder=team.coder2)
    far = code(team, 50, 60)
    first = consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[a], by=team.supervisor
    )
    elsewhere = consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[far], by=team.supervisor
    )
    other_code = consensus.settle(
        interview=team.interview, code=team.code2, method="new", start=0, end=10, by=team.supervisor
    )
    second = consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[b], by=team.supervisor
    )
    remaining = set(Coding.objects.filter(coder=layer(team)).values_list("pk", flat=True))
    assert remaining == {elsewhere.pk, other_code.pk, second.pk}
    assert first.pk not in remaining


def test_accepting_one_coding_replaces_a_settlement_elsewhere_in_the_same_group(team):
    a = code(team, 0, 10)
    b = code(team, 8, 30, coder=team.coder2)
    consensus.settle(
        interview=team.interview,
        code=team.code,
        method="new",
        codings=[b],
        start=25,
        end=30,
        by=team.supervisor,
    )
    consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[a], by=team.supervisor
    )
    assert list(Coding.objects.filter(coder=layer(team)).values_list("start", "end")) == [(0, 10)]


def test_settling_leaves_an_audit_record_with_before_and_after(team):
    a = code(team, 0, 10)
    first = consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[a], by=team.supervisor
    )
    second = consensus.settle(
        interview=team.interview,
        code=team.code,
        method="new",
        codings=[a],
        start=1,
        end=9,
        by=team.supervisor,
    )
    event = AuditEvent.objects.filter(action="consensus.settled").order_by("-id").first()
    assert event.actor == team.supervisor
    assert event.target_id == second.pk and event.interview_id == team.interview.pk
    assert event.before == {"replaced": [{"id": first.pk, "start": 0, "end": 10}]}
    assert event.after["method"] == "new" and (event.after["start"], event.after["end"]) == (1, 9)
    assert MIXED_TEXT[1:9] not in str(event.after)


def test_settling_from_the_consensus_layer_or_another_code_is_refused(team):
    a = code(team, 0, 10)
    settled = consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[a], by=team.supervisor
    )
    for codings, code_ in (([settled], team.code), ([a], team.code2)):
        with pytest.raises(ValidationError) as error:
            consensus.settle(
                interview=team.interview, code=code_, method="accept", codings=codings, by=team.supervisor
            )
        assert "codings" in error.value.message_dict


def test_accept_needs_exactly_one_coding_and_unknown_methods_are_refused(team):
    a, b = code(team, 0, 10), code(team, 0, 12, coder=team.coder2)
    with pytest.raises(ValidationError) as error:
        consensus.settle(
            interview=team.interview, code=team.code, method="accept", codings=[a, b], by=team.supervisor
        )
    assert "codings" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        consensus.settle(
            interview=team.interview, code=team.code, method="vote", codings=[a], by=team.supervisor
        )
    assert "method" in error.value.message_dict


@pytest.mark.parametrize("who", ["coder", "viewer"])
def test_only_supervisors_and_owners_settle(team, who):
    a = code(team, 0, 10)
    with pytest.raises(PermissionDenied):
        consensus.settle(
            interview=team.interview, code=team.code, method="accept", codings=[a], by=team.member(who)
        )
    consensus.settle(interview=team.interview, code=team.code, method="accept", codings=[a], by=team.owner)
    assert Coding.objects.filter(coder=layer(team)).count() == 1


# ---------------------------------------------------------------- undo


def test_undo_removes_the_settlement_and_puts_back_what_it_replaced(team):
    a, b = code(team, 0, 10), code(team, 4, 16, coder=team.coder2)
    first = consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[a], by=team.supervisor
    )
    second = consensus.settle(
        interview=team.interview, code=team.code, method="union", codings=[a, b], by=team.supervisor
    )
    restored = consensus.undo_settlement(coding=second, by=team.supervisor)
    assert [(c.start, c.end) for c in restored] == [(first.start, first.end)]
    assert list(Coding.objects.filter(coder=layer(team)).values_list("start", "end")) == [(0, 10)]
    event = AuditEvent.objects.get(action="consensus.undone")
    assert event.before["coding"] == second.pk and event.after["restored"][0]["start"] == 0


def test_undo_of_a_first_settlement_leaves_the_group_unsettled(team):
    a = code(team, 0, 10)
    settled = consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[a], by=team.supervisor
    )
    assert consensus.undo_settlement(coding=settled, by=team.supervisor) == []
    [group] = groups_of(team)
    assert not group.settled


def test_undo_refuses_a_coders_coding_and_non_supervisors(team):
    a = code(team, 0, 10)
    with pytest.raises(ValidationError):
        consensus.undo_settlement(coding=a, by=team.supervisor)
    settled = consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[a], by=team.supervisor
    )
    with pytest.raises(PermissionDenied):
        consensus.undo_settlement(coding=settled, by=team.coder)
    assert Coding.objects.filter(pk=settled.pk).exists()


# ---------------------------------------------------------------- API


def test_api_lists_groups_with_kinds_quotes_and_settlements(team, api):
    a = code(team, 0, 11)
    code(team, 0, 11, coder=team.coder2)
    b = code(team, 13, 30, coder=team.coder2, code=team.code2)
    settled = consensus.settle(
        interview=team.interview, code=team.code2, method="accept", codings=[b], by=team.supervisor
    )
    response = api.as_user(team.supervisor).get(url(team, "disagreements"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["coders"] == sorted([team.coder.pk, team.coder2.pk])
    assert body["open"] == 0
    agreed, applied = body["groups"]
    assert agreed["kind"] == "agreed" and agreed["codings"][0]["id"] == a.pk
    assert agreed["codings"][0]["quote"] == MIXED_TEXT[0:11]
    assert applied["kind"] == "applied_by_some" and applied["consensus"][0]["id"] == settled.pk


def test_api_settles_and_undoes(team, api):
    a, b = code(team, 0, 10), code(team, 4, 16, coder=team.coder2)
    client = api.as_user(team.supervisor)
    response = client.post(
        url(team, "consensus"),
        {"code": team.code.pk, "method": "intersection", "codings": [a.pk, b.pk]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["start"], response.json()["end"], response.json()["quote"]) == (
        4,
        10,
        MIXED_TEXT[4:10],
    )
    assert response.json()["coder"] == layer(team).pk
    listed = client.get(url(team, "consensus")).json()
    assert [c["id"] for c in listed] == [response.json()["id"]]
    # The settlement's version came with it (ETag): taking it back names that version.
    gone = client.delete(url(team, "consensus") + f"{response.json()['id']}/", HTTP_IF_MATCH=response["ETag"])
    assert gone.status_code == 200 and gone.json() == {"restored": []}
    assert not Coding.objects.filter(coder=layer(team)).exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"method": "intersection"}, "codings"),  # filled in with codings that do not intersect
        ({"method": "new", "start": 5}, "end"),
        ({"method": "accept", "start": 5}, "start"),
        ({"method": "guess"}, "method"),
        ({"method": "accept", "codings": [987654]}, "codings"),
    ],
)
def test_api_answers_400_naming_the_field_and_writes_nothing(team, api, body, field):
    a, b = code(team, 0, 5), code(team, 10, 15, coder=team.coder2)
    if body == {"method": "intersection"}:
        body = {**body, "codings": [a.pk, b.pk]}
    response = api.as_user(team.supervisor).post(
        url(team, "consensus"), {"code": team.code.pk, **body}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Coding.objects.filter(coder=layer(team)).exists()
    assert not AuditEvent.objects.filter(action="consensus.settled").exists()


def test_api_refuses_coders_and_hides_the_interview_from_outsiders(team, api):
    a = code(team, 0, 10)
    body = {"code": team.code.pk, "method": "accept", "codings": [a.pk]}
    assert api.as_user(team.coder).post(url(team, "consensus"), body, format="json").status_code == 403
    assert api.as_user(team.coder).get(url(team, "disagreements")).status_code == 403
    assert api.as_user(team.outsider).get(url(team, "disagreements")).status_code == 404
    other = f"/api/projects/{team.project.pk}/interviews/{team.other_interview.pk}/disagreements/"
    assert api.as_user(team.supervisor).get(other).status_code == 404


def test_api_coder_filter_needs_two_coders_of_the_project(team, api):
    client = api.as_user(team.supervisor)
    assert client.get(url(team, "disagreements"), {"coder": [team.coder.pk]}).status_code == 400
    response = client.get(url(team, "disagreements"), {"coder": [team.coder.pk, team.outsider.pk]})
    assert response.status_code == 400 and "coder" in response.json()
    ok = client.get(url(team, "disagreements"), {"coder": [team.coder.pk, team.coder2.pk]})
    assert ok.status_code == 200


# ---------------------------------------------------------------- the layer elsewhere


def test_analytics_of_the_consensus_layer_count_its_codings_only(team):
    a, b = code(team, 0, 10), code(team, 4, 16, coder=team.coder2)
    code(team, 40, 50, coder=team.coder2, code=team.code2)
    consensus.settle(
        interview=team.interview, code=team.code, method="union", codings=[a, b], by=team.supervisor
    )
    scope = make_scope(team.project, unit="codings", coder_id=layer(team).pk, include_interviewer=True)
    rows = {r["code_id"]: r["count"] for r in code_frequencies(scope)["rows"]}
    assert rows[team.code.pk] == 1
    assert rows.get(team.code2.pk, 0) == 0
    everyone = {
        r["code_id"]: r["count"]
        for r in code_frequencies(make_scope(team.project, unit="codings", include_interviewer=True))["rows"]
    }
    assert everyone[team.code.pk] == 2  # the coders' codings; the consensus layer is not counted twice


def test_agreement_leaves_the_consensus_layer_out_unless_asked_for(team):
    a = code(team, 0, 10)
    code(team, 0, 10, coder=team.coder2)
    consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[a], by=team.supervisor
    )
    assert layer(team).pk not in project_agreement(team.project).coders
    with_layer = project_agreement(team.project, coder_ids=[team.coder.pk, layer(team).pk])
    assert layer(team).pk in with_layer.coders
    assert (
        with_layer.per_code[team.code.pk].alpha is None
        or with_layer.per_code[team.code.pk].percent_agreement == 1
    )


def test_analytics_and_agreement_apis_take_the_consensus_layer_as_a_coder(team, api):
    a = code(team, 40, 60)
    consensus.settle(
        interview=team.interview, code=team.code, method="accept", codings=[a], by=team.supervisor
    )
    client = api.as_user(team.supervisor)
    base = f"/api/projects/{team.project.pk}"
    response = client.get(f"{base}/analytics/frequencies/", {"coder": layer(team).pk, "unit": "codings"})
    assert response.status_code == 200, response.content
    counts = {r["code_id"]: r["count"] for r in response.json()["rows"]}
    assert counts[team.code.pk] == 1
    assert client.get(f"{base}/analytics/frequencies/", {"coder": team.outsider.pk}).status_code == 400
    agreement = client.get(f"{base}/agreement/", {"coder": [team.coder.pk, layer(team).pk]})
    assert agreement.status_code == 200 and layer(team).pk in agreement.json()["coders"]
