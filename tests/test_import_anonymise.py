"""The identifier detector on a labelled synthetic set, and placeholder assignment.

Patterned identifiers and sensitive-list terms must all be found; the name
heuristic's recall and precision are measured and printed (see the closing
note of issue 4) and held above a floor.
"""

import pytest

from interviews.anonymise import (
    Finding,
    TermIndex,
    assign_placeholders,
    detect,
    term_digest,
    term_tokens,
    used_numbers,
)

from .anonymiser_corpus import make_labelled_set

PATTERN_KINDS = {"PHONE", "EMAIL", "DOB", "DOCUMENT", "GPS"}
TERMS = [
    ("Camp Bruzgi", "CAMP"),
    ("Kuźnica Białostocka", "VILLAGE"),
    ("Al-Hol", "CAMP"),
    ("Narach", "VILLAGE"),
]


def _index(terms=TERMS) -> TermIndex:
    index = TermIndex(key=b"test-key" * 4)
    for n, (term, kind) in enumerate(terms, 1):
        tokens = term_tokens(term)
        index.add(
            digest=term_digest(index.key, tokens),
            first_digest=term_digest(index.key, tokens[:1]),
            word_count=len(tokens),
            category=kind,
            placeholder=f"[{kind}-{n}]",
        )
    return index


def _covered(span, findings, *, accepted_only):
    start, end, _ = span
    return any(f.start <= start and end <= f.end and (f.accepted or not accepted_only) for f in findings)


@pytest.fixture(scope="module")
def labelled():
    corpus = make_labelled_set(n=60, seed=7, terms=TERMS)
    index = _index()
    return [(doc, detect(doc.text, terms=index)) for doc in corpus]


def test_every_patterned_identifier_is_proposed_and_accepted(labelled):
    missed = [
        (kind, doc.text[s:e])
        for doc, findings in labelled
        for (s, e, kind) in doc.spans
        if kind in PATTERN_KINDS and not _covered((s, e, kind), findings, accepted_only=True)
    ]
    total = sum(1 for doc, _ in labelled for sp in doc.spans if sp[2] in PATTERN_KINDS)
    assert total > 100
    assert missed == []


def test_every_sensitive_term_is_replaced_with_its_placeholder(labelled):
    planted = [
        (doc, s, e) for doc, _ in labelled for (s, e, kind) in doc.spans if kind in ("CAMP", "VILLAGE")
    ]
    assert len(planted) > 20
    for doc, findings in labelled:
        for s, e, kind in doc.spans:
            if kind in ("CAMP", "VILLAGE"):
                hits = [f for f in findings if f.start == s and f.end == e]
                assert hits and hits[0].source == "term" and hits[0].placeholder.startswith(f"[{kind}-")


def test_name_heuristic_recall_and_precision(labelled, capsys):
    planted = found = 0
    flagged = true_flags = 0
    for doc, findings in labelled:
        names = [sp for sp in doc.spans if sp[2] == "NAME"]
        planted += len(names)
        found += sum(1 for sp in names if _covered(sp, findings, accepted_only=False))
        guesses = [f for f in findings if f.source == "name"]
        flagged += len(guesses)
        true_flags += sum(1 for f in guesses if any(f.start < e and s < f.end for s, e, k in names))
    recall, precision = found / planted, true_flags / flagged
    with capsys.disabled():
        print(f"\nname heuristic on {planted} planted names: recall {recall:.3f}, precision {precision:.3f}")
    assert all(not f.accepted for _, findings in labelled for f in findings if f.source == "name")
    assert recall >= 0.95  # SECURITY.md DP2
    # The set plants place and organisation names (Terespol, Grupa Granica, …) and
    # words like "Interior" as distractors; flagging a village is wanted, but here
    # it counts against precision. Project allow-lists remove such repeats.
    assert precision >= 0.70


def test_no_false_patterns_in_plain_filler():
    text = (
        "I paid 1500 dollars and waited 23 days. In 2021 we were 8 people. The 2021-2022 winter was hard. "
        "Call me at 10:30 tomorrow. We walked 12.5 km on day 3 of 7."
    )
    assert [f for f in detect(text) if f.source == "pattern"] == []


def test_phone_numbers_in_many_formats():
    phones = [
        "+375 29 123 45 67",
        "+44 (0)20 7946 0958",
        "0044 20 7946 0958",
        "+964-750-123-4567",
        "0791 234 5678",
        "+48 601 234 567",
        "(029) 123-45-67",
    ]
    for phone in phones:
        found = detect(f"Call {phone} now")
        assert [("PHONE", phone)] == [(f.category, f"Call {phone} now"[f.start : f.end]) for f in found], (
            phone
        )


def test_urls_and_exact_dates():
    text = "See www.example.org/page, then on 3 November 2021 we crossed."
    found = [(f.category, text[f.start : f.end], f.accepted) for f in detect(text)]
    assert ("URL", "www.example.org/page", True) in found
    assert ("DATE", "3 November 2021", False) in found  # an exact date is flagged, not auto-redacted


def test_allow_list_and_common_words_are_not_flagged():
    text = "We reached Kuźnica with Dilovan, then Minsk, in December, on WhatsApp."
    assert [text[f.start : f.end] for f in detect(text, allowed={"Kuźnica"})] == ["Dilovan"]


def test_capitals_after_the_are_things_unless_a_family():
    text = "We crossed the Bug river and met the Karimi family, then Soran."
    assert [text[f.start : f.end] for f in detect(text)] == ["Karimi", "Soran"]


def test_adjacent_capitalised_words_form_one_name_and_labels_are_skipped():
    text = "Interviewer: who?\nP07: It was Hevin Barzani and later Soran."
    findings = detect(text, skip=[(0, 11), (18, 21)])
    assert [text[f.start : f.end] for f in findings] == ["Hevin Barzani", "Soran"]


def test_rtl_text_does_not_confuse_the_detector():
    text = "P07: قال لي أحمد: اتصل على +964 750 123 4567 أو ahmad@example.org 🌲"
    found = {(f.category, text[f.start : f.end]) for f in detect(text)}
    assert found == {("PHONE", "+964 750 123 4567"), ("EMAIL", "ahmad@example.org")}


def test_same_original_same_placeholder_and_numbering_continues():
    text = "Soran met soran and Dilan; Soran again."
    findings = [
        Finding(0, 5, "NAME", "review", True),
        Finding(10, 15, "NAME", "review", True),
        Finding(20, 25, "NAME", "review", True),
        Finding(27, 32, "NAME", "review", True),
    ]
    planned = assign_placeholders(text, findings, taken={"NAME": 3})
    assert [r.placeholder for r in planned] == ["[NAME-4]", "[NAME-4]", "[NAME-5]", "[NAME-4]"]


def test_phone_identity_ignores_formatting():
    text = "+375 29 123 45 67 or +375291234567"
    findings = [f for f in detect(text) if f.category == "PHONE"]
    assert {r.placeholder for r in assign_placeholders(text, findings)} == {"[PHONE-1]"}


def test_used_numbers_reads_placeholders():
    assert used_numbers(["[NAME-2]", "[NAME-10]", "[CAMP]", "[VILLAGE-1]", "junk"]) == {
        "NAME": 10,
        "VILLAGE": 1,
    }


def test_terms_match_case_and_punctuation_insensitively_but_not_inside_words():
    index = _index()
    text = "From CAMP BRUZGI to al hol, then Al-Hol's gate; Narachy is another place."
    hits = [(text[f.start : f.end], f.placeholder) for f in detect(text, terms=index) if f.source == "term"]
    assert hits == [("CAMP BRUZGI", "[CAMP-1]"), ("al hol", "[CAMP-3]"), ("Al-Hol", "[CAMP-3]")]
