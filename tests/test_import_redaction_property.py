"""Property: redaction of a coded transcript keeps untouched codings exact, flags touched ones, drops none."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding import services as coding_services
from coding.models import Coding
from interviews import import_services, services
from interviews.text import normalise_text

# Code points that matter: RTL letters, combining marks (after a base), emoji outside the BMP, newlines.
ALPHABET = ["a", "b", " ", "\n", "ق", "ل", "é", "Ş", "🌲", "👨", "\u200d", "ئ", "."]


@st.composite
def coded_transcripts(draw):
    text = draw(st.lists(st.sampled_from(ALPHABET), min_size=30, max_size=160).map("".join))
    text = "x" + normalise_text(text) + "x"
    n = len(text)

    def ranges(max_count):
        return st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(1, 12)).map(lambda p: (p[0], min(n, p[0] + p[1]))),
            max_size=max_count,
        )

    codings = draw(ranges(6))
    raw = sorted(draw(ranges(4)))
    redactions, last_end = [], -1
    for start, end in raw:  # keep them apart: redactions must not overlap or touch
        if start > last_end:
            redactions.append((start, end))
            last_end = end
    if not redactions:
        redactions = [(0, 1)]
    return text, codings, redactions


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=coded_transcripts())
def test_redaction_re_anchors_every_coding(team, case):
    text, ranges, redactions = case
    interview = services.create_interview(
        participant=team.participant, title="property", text=text, anonymised_by=team.owner
    )
    codes = [coding_services.create_code(project=team.project, name=f"p{interview.pk}-{i}") for i in range(6)]
    before = []
    for i, (start, end) in enumerate(ranges):
        coding = coding_services.create_coding(
            interview=interview, code=codes[i], coder=team.coder, start=start, end=end
        )
        before.append((coding.pk, text[start:end], any(s < end and start < e for s, e in redactions)))

    import_services.redact_interview(
        interview=interview,
        redactions=[{"start": s, "end": e, "category": "NAME"} for s, e in redactions],
        by=team.supervisor,
    )
    interview.refresh_from_db()
    after = {c.pk: c for c in Coding.objects.filter(interview=interview)}
    assert set(after) == {pk for pk, _, _ in before}  # none dropped
    for pk, quote, touched in before:
        coding = after[pk]
        assert 0 <= coding.start < coding.end <= len(interview.text)
        if touched:
            assert coding.needs_review
        else:
            assert interview.text[coding.start : coding.end] == quote
            assert not coding.needs_review
    for log in interview.redactions.all():
        assert interview.text[log.start : log.end] == log.placeholder
