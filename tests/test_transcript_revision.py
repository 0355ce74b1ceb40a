"""Transcript revisions: codings and turns follow the text; nothing is silently moved or dropped.

The property test drives ``services.revise_transcript`` with random texts
(astral characters, right-to-left scripts, newlines), random codings and
random non-overlapping edits, and checks the rule ARCHITECTURE.md documents.
"""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from coding import services as coding_services
from coding.models import Coding
from interviews import services
from interviews.models import Interview, SpeakerTurn, TranscriptRevision
from interviews.text import TextEdit

from .db_state import row_values

# Characters that NFC leaves alone whatever their neighbours are (no combining
# marks, no Hangul jamo), so random concatenations stay in normal form.
ALPHABET = (
    list("abcdefghij XYZ.,\n")
    + list("قاللتخفعبرنا")
    + list("ێڕۆەشنگ")
    + list("ŞşÊêÎîÛûÇç")
    + [
        "🌲",
        "👨",
        "\u200d",
        "👍",
        "𝔸",
        "😀",
    ]
)
text_st = st.text(alphabet=ALPHABET, min_size=1, max_size=60).filter(lambda t: t.strip())


def touches(edit, start, end):
    """Whether an edit changes text inside [start, end) (an insertion must fall strictly inside)."""
    a, b, _ = edit
    return (a < end and b > start) if a < b else start < a < end


def apply(text, edits):
    out, cursor = [], 0
    for a, b, r in edits:
        out.append(text[cursor:a] + r)
        cursor = b
    return "".join(out) + text[cursor:]


def replacement_range(edits, index):
    a, _, r = edits[index]
    shift = sum(len(rr) - (bb - aa) for aa, bb, rr in edits[:index])
    return a + shift, a + shift + len(r)


@st.composite
def scenario(draw):
    text = draw(text_st)
    n = len(text)
    codings = []
    for _ in range(draw(st.integers(0, 10))):
        start = draw(st.integers(0, n - 1))
        end = draw(st.integers(start + 1, min(n, start + 1 + draw(st.sampled_from([1, 3, 8, n])))))
        codings.append((start, end, draw(st.integers(0, 1)), draw(st.integers(0, 1))))
    cuts = sorted(draw(st.sets(st.integers(0, n), max_size=6)))
    replacement_st = st.one_of(st.just(""), st.text(alphabet=ALPHABET, min_size=1, max_size=5))
    edits = []
    for i in range(0, len(cuts) - 1, 2):
        start, end = cuts[i], cuts[i + 1]
        if draw(st.booleans()):
            end = start  # an insertion
        edits.append((start, end, draw(replacement_st)))
    if not edits:
        pos = draw(st.integers(0, n))
        edits = [(pos, pos, draw(st.text(alphabet=ALPHABET, min_size=1, max_size=5)))]
    turn_cuts = sorted({0, n, *draw(st.sets(st.integers(1, max(1, n - 1)), max_size=4))})
    turns = [(s, e) for s, e in zip(turn_cuts, turn_cuts[1:], strict=False) if s < e]
    return text, codings, edits, turns


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=scenario())
def test_revision_keeps_untouched_passages_and_flags_touched_ones(team, case):
    text, coding_specs, edits, turn_specs = case
    with transaction.atomic():
        check_one_revision(team, text, coding_specs, edits, turn_specs)
        transaction.set_rollback(True)


def check_one_revision(team, text, coding_specs, edits, turn_specs):
    interview = services.create_interview(
        participant=team.participant,
        title="Property",
        text=text,
        anonymised_by=team.owner,
        turns=[{"start": s, "end": e, "role": "participant"} for s, e in turn_specs],
    )
    assert interview.text == text
    codes, coders = [team.code, team.code2], [team.coder, team.coder2]
    originals = {}
    for start, end, code_i, coder_i in coding_specs:
        try:
            c = coding_services.create_coding(
                interview=interview, code=codes[code_i], coder=coders[coder_i], start=start, end=end
            )
        except ValidationError:
            continue  # the same passage twice: refused as a duplicate
        originals[c.pk] = (c.start, c.end, c.code_id, c.coder_id)
    turns_before = list(interview.turns.values_list("start", "end"))
    coding_rows, turn_rows = row_values(Coding), row_values(SpeakerTurn)
    revisions = TranscriptRevision.objects.count()

    new_text = apply(text, edits)
    try:
        with transaction.atomic():
            revision = services.revise_transcript(
                interview=interview,
                edits=[TextEdit(*e) for e in edits],
                by=team.supervisor,
                reason="redaction",
            )
    except ValidationError as refused:
        message = " ".join(refused.message_dict["edits"])
        event(f"refused: {message.split(';')[0][:30]}")
        emptied = any(r == "" and a <= s and e <= b for s, e, *_ in originals.values() for a, b, r in edits)
        if "coded passage" in message:
            assert emptied, message
        else:
            assert "turn" in message or "empty transcript" in message, message
            if "empty" in message:
                assert not new_text.strip()
        interview.refresh_from_db()
        assert interview.text == text and interview.text_version == 1
        assert row_values(Coding) == coding_rows and row_values(SpeakerTurn) == turn_rows
        assert TranscriptRevision.objects.count() == revisions
        return

    interview.refresh_from_db()
    assert interview.text == new_text
    assert interview.text_length == len(new_text)
    assert interview.text_sha256 == hashlib.sha256(new_text.encode()).hexdigest()
    assert interview.text_version == 2
    assert (revision.version, revision.text_sha256, revision.created_by) == (
        2,
        interview.text_sha256,
        team.supervisor,
    )
    assert TranscriptRevision.objects.count() == revisions + 1
    for value in TranscriptRevision.objects.filter(pk=revision.pk).values().get().values():
        if len(text) >= 8 and isinstance(value, str):
            assert text not in value

    after = {c.pk: c for c in Coding.objects.filter(interview=interview)}
    for pk, (start, end, code_id, coder_id) in originals.items():
        touching = [i for i, e in enumerate(edits) if touches(e, start, end)]
        if pk not in after:
            # Only a touched coding may be folded into a twin (same code and coder, same new range).
            event("codings folded together")
            assert touching
            assert any(c.code_id == code_id and c.coder_id == coder_id for c in after.values())
            continue
        c = after[pk]
        assert 0 <= c.start < c.end <= len(new_text)
        event("a coding untouched" if not touching else "a coding touched")
        if not touching:
            assert new_text[c.start : c.end] == text[start:end]
            assert (c.start, c.end) == (new_position(edits, start), new_position_end(edits, end))
            assert not c.needs_review
        else:
            assert c.needs_review
            for i in touching:
                r_start, r_end = replacement_range(edits, i)
                assert c.start <= r_start and r_end <= c.end
    # No coding lost except exact duplicates folded together.
    assert len(after) == len({(c.code_id, c.coder_id, c.start, c.end) for c in after.values()})
    assert len(originals) - len(after) == sum(1 for pk in originals if pk not in after)

    turns_after = list(interview.turns.order_by("index").values_list("start", "end"))
    assert len(turns_after) == len(turns_before)
    previous_end = 0
    for (start, end), (new_start, new_end) in zip(turns_before, turns_after, strict=True):
        assert previous_end <= new_start < new_end <= len(new_text)
        previous_end = new_end
        if not any(touches(e, start, end) for e in edits):
            assert new_text[new_start:new_end] == text[start:end]


def new_position_end(edits, pos):
    """Where an untouched end lands: an insertion exactly at the end goes after the passage."""
    return pos + sum(len(r) - (b - a) for a, b, r in edits if b < pos or (b == pos and a < b))


def new_position(edits, pos):
    """Where an untouched start lands: an insertion exactly at the start goes before the passage."""
    return pos + sum(len(r) - (b - a) for a, b, r in edits if b <= pos)


# ---------------------------------------------------------------- the rule, case by case


@pytest.fixture
def interview(team):
    text = "Interviewer: Where did you cross?\nParticipant: Near the river, my friend Ahmed said go.\n"
    return services.create_interview(
        participant=team.participant,
        title="Rules",
        text=text,
        anonymised_by=team.owner,
        turns=[
            {"start": 0, "end": text.index("\n"), "role": "interviewer"},
            {"start": text.index("Participant"), "end": len(text) - 1, "role": "participant"},
        ],
    )


def code(team, interview, word, coder=None, code=None):
    start = interview.text.index(word)
    return coding_services.create_coding(
        interview=interview,
        code=code or team.code,
        coder=coder or team.coder,
        start=start,
        end=start + len(word),
    )


def revise(api, team, interview, edits, user=None):
    return api.as_user(user or team.supervisor).post(
        f"/api/projects/{team.project.pk}/interviews/{interview.pk}/revise/",
        {"edits": [{"start": a, "end": b, "replacement": r} for a, b, r in edits], "reason": "redact a name"},
    )


def test_redaction_through_the_api_keeps_other_codings_and_stores_no_old_text(team, api, interview):
    river = code(team, interview, "Near the river")
    said = code(team, interview, "Ahmed said go")
    at = interview.text.index("Ahmed")
    response = revise(api, team, interview, [(at, at + 5, "[NAME]")])
    assert response.status_code == 200, response.json()
    assert "Ahmed" not in response.json()["text"] and response.json()["text_version"] == 2
    river.refresh_from_db()
    said.refresh_from_db()
    new = Interview.objects.get(pk=interview.pk).text
    assert new[river.start : river.end] == "Near the river" and not river.needs_review
    assert new[said.start : said.end] == "[NAME] said go" and said.needs_review
    revision = TranscriptRevision.objects.get(interview=interview)
    assert (revision.chars_inserted, revision.chars_deleted, revision.codings_flagged) == (6, 5, 1)
    assert revision.reason == "redact a name"
    assert not any("Ahmed" in str(v) for v in TranscriptRevision.objects.values().get().values())


def test_insertion_at_the_edges_of_a_passage_does_not_touch_it(team, api, interview):
    river = code(team, interview, "river")
    response = revise(
        api, team, interview, [(river.start, river.start, "big "), (river.end, river.end, " bank")]
    )
    assert response.status_code == 200, response.json()
    river.refresh_from_db()
    text = Interview.objects.get(pk=interview.pk).text
    assert text[river.start : river.end] == "river" and not river.needs_review
    assert "big river bank" in text


def test_edit_that_removes_a_whole_coded_passage_is_refused_and_nothing_changes(team, api, interview):
    said = code(team, interview, "Ahmed")
    before = row_values(Interview), row_values(Coding), row_values(SpeakerTurn)
    response = revise(api, team, interview, [(said.start - 1, said.end, "")])
    assert response.status_code == 400
    assert "whole coded passage" in " ".join(response.json()["edits"])
    assert (row_values(Interview), row_values(Coding), row_values(SpeakerTurn)) == before
    assert not TranscriptRevision.objects.exists()


@pytest.mark.parametrize(
    ("edits", "fragment"),
    [
        ([(5, 3, "x")], "outside the text"),
        ([(0, 10_000, "x")], "outside the text"),
        ([(0, 5, "x"), (3, 8, "y")], "overlaps"),
        ([(4, 4, "x"), (4, 4, "y")], "overlaps"),
        ([(0, 10_000_000, "")], "outside the text"),
    ],
)
def test_bad_edits_are_refused_and_nothing_changes(team, api, interview, edits, fragment):
    code(team, interview, "river")
    before = row_values(Interview), row_values(Coding)
    response = revise(api, team, interview, edits)
    assert response.status_code == 400, response.json()
    assert fragment in " ".join(response.json()["edits"])
    assert (row_values(Interview), row_values(Coding)) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"edits": []}, "edits"),
        ({"edits": [{"start": 0, "end": 1}]}, "edits"),
        ({"edits": [{"start": -1, "end": 1, "replacement": ""}]}, "edits"),
        ({"edits": [{"start": 0, "end": 1, "replacement": "", "text": "x"}]}, "edits"),
        ({"edits": [{"start": 0, "end": 1, "replacement": "x"}], "text": "whole new"}, "text"),
    ],
)
def test_malformed_revision_requests_are_refused(team, api, interview, payload, field):
    before = row_values(Interview)
    response = api.as_user(team.supervisor).post(
        f"/api/projects/{team.project.pk}/interviews/{interview.pk}/revise/", payload
    )
    assert response.status_code == 400 and field in response.json(), response.json()
    assert row_values(Interview) == before


def test_edits_leaving_an_empty_transcript_or_broken_normal_form_are_refused(team, api, interview):
    n = interview.text_length
    assert "empty transcript" in " ".join(revise(api, team, interview, [(0, n, "  \n")]).json()["edits"])
    at = interview.text.index("Near") + 1  # after "N": a combining mark would compose
    response = revise(api, team, interview, [(at + 1, at + 1, "\u0303")])
    assert response.status_code == 400, response.json()
    assert Interview.objects.get(pk=interview.pk).text_version == 1


def test_two_codings_mapped_onto_one_passage_are_folded_keeping_comments(team, interview):
    text = interview.text
    s = text.index("river")
    first = coding_services.create_coding(
        interview=interview, code=team.code, coder=team.coder, start=s, end=s + 5, comment="one"
    )
    second = coding_services.create_coding(
        interview=interview, code=team.code, coder=team.coder, start=s, end=s + 7, comment="two"
    )
    services.revise_transcript(interview=interview, edits=[TextEdit(s + 5, s + 7, "")], by=team.supervisor)
    (survivor,) = Coding.objects.filter(pk__in=[first.pk, second.pk])
    # The untouched coding stays, unflagged: its passage did not change.
    assert survivor.pk == first.pk and not survivor.needs_review
    assert survivor.comment == "one\ntwo"
    assert Interview.objects.get(pk=interview.pk).text[survivor.start : survivor.end] == "river"


def test_untouched_coding_survives_a_fold_even_when_the_touched_one_starts_first(team, interview):
    s = interview.text.index("river")
    untouched = coding_services.create_coding(
        interview=interview, code=team.code, coder=team.coder, start=s + 2, end=s + 5
    )
    touched = coding_services.create_coding(
        interview=interview, code=team.code, coder=team.coder, start=s, end=s + 5, comment="wider"
    )
    services.revise_transcript(interview=interview, edits=[TextEdit(s, s + 2, "")], by=team.supervisor)
    (survivor,) = Coding.objects.filter(pk__in=[untouched.pk, touched.pk])
    assert survivor.pk == untouched.pk and not survivor.needs_review
    assert survivor.comment == "wider"
    assert Interview.objects.get(pk=interview.pk).text[survivor.start : survivor.end] == "ver"


def test_replacement_across_a_turn_boundary_goes_to_the_earlier_turn(team, interview):
    first, second = interview.turns.order_by("index")
    edit = TextEdit(first.end - 3, second.start + 5, "REDACTED")
    services.revise_transcript(interview=interview, edits=[edit], by=team.supervisor)
    first, second = interview.turns.order_by("index")
    text = Interview.objects.get(pk=interview.pk).text
    assert first.end <= second.start
    assert text[first.start : first.end].endswith("REDACTED")
    assert not text[second.start : second.end].startswith("RED")


def test_edit_removing_a_whole_turn_is_refused(team, interview):
    first, _ = interview.turns.order_by("index")
    with pytest.raises(ValidationError) as refused:
        services.revise_transcript(
            interview=interview, edits=[TextEdit(0, first.end, "")], by=team.supervisor
        )
    assert "turn 1" in " ".join(refused.value.message_dict["edits"])


@pytest.mark.parametrize("role", ["coder", "viewer"])
def test_only_supervisors_and_owners_revise(team, api, interview, role):
    response = revise(api, team, interview, [(0, 1, "X")], user=team.member(role))
    assert response.status_code == 403
    assert Interview.objects.get(pk=interview.pk).text_version == 1


def test_outsider_cannot_revise(team, api, interview):
    assert revise(api, team, interview, [(0, 1, "X")], user=team.outsider).status_code == 404
    response = api.as_user(team.outsider).post(
        f"/api/projects/{team.other_project.pk}/interviews/{interview.pk}/revise/",
        {"edits": [{"start": 0, "end": 1, "replacement": "X"}]},
    )
    assert response.status_code == 404
    assert Interview.objects.get(pk=interview.pk).text_version == 1


def test_a_revision_moves_the_redaction_log_with_the_text(team):
    from interviews.models import RedactionLog
    from interviews.services import revise_transcript
    from interviews.text import TextEdit

    interview = team.interview
    start = interview.text.index("brother")
    log = RedactionLog.objects.create(
        interview=interview, category="name", start=start, end=start + 7, placeholder="[NAME-1]"
    )
    revise_transcript(interview=interview, edits=[TextEdit(0, 0, "Recorded in Riga. ")], by=team.owner)
    log.refresh_from_db()
    interview.refresh_from_db()
    assert (log.start, log.end) == (start + 18, start + 25)
    assert interview.text[log.start : log.end] == "brother"
