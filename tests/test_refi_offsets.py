"""Position conversion for REFI-QDA imports: each tool's unit -> our code points of the stored text."""

from hypothesis import given, settings
from hypothesis import strategies as st

from coding.refi import offsets
from interviews.text import normalise_text

TOKENS = [
    "word",
    "Grodno",
    " ",
    "🌲",
    "👨‍👩‍👧",
    "قال",
    "لا تخف",
    "cafe\u0301",
    "e\u0301",
    "\r\n",
    "\n",
    "Şengalê",
    "\ufeff",
]


def _positions(raw: str, convention: str, index: int) -> int:
    if convention == offsets.UTF16:
        return offsets.utf16_offset(raw, index)
    if convention == offsets.CRLF_AS_ONE:
        return index - raw[:index].count("\r\n")
    return index


@settings(max_examples=300, deadline=None)
@given(
    tokens=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=40),
    data=st.data(),
    convention=st.sampled_from([offsets.UTF16, offsets.CRLF_AS_ONE, offsets.CODE_POINTS]),
)
def test_any_token_range_maps_onto_the_same_text_in_the_stored_form(tokens, data, convention):
    raw = "".join(tokens)
    i = data.draw(st.integers(0, len(tokens) - 1))
    j = data.draw(st.integers(i + 1, len(tokens)))
    start = len("".join(tokens[:i]))
    end = len("".join(tokens[:j]))
    expected = normalise_text(raw[start:end])
    stored = offsets.NormalisedText.build(raw)
    assert stored.text == normalise_text(raw)
    mapped = offsets.map_selection(
        offsets.PositionMap(raw, convention),
        stored,
        _positions(raw, convention, start),
        _positions(raw, convention, end),
    )
    if expected == "":
        assert mapped is None
    else:
        assert stored.text[mapped.start : mapped.end] == expected
        assert not mapped.clamped


def test_nvivo_counts_an_emoji_as_two_units():
    raw = "a😀b"
    stored = offsets.NormalisedText.build(raw)
    mapped = offsets.map_selection(offsets.PositionMap(raw, offsets.UTF16), stored, 3, 4)
    assert stored.text[mapped.start : mapped.end] == "b"


def test_a_position_inside_a_surrogate_pair_rounds_outwards():
    raw = "a😀b"
    stored = offsets.NormalisedText.build(raw)
    mapped = offsets.map_selection(offsets.PositionMap(raw, offsets.UTF16), stored, 2, 2)
    assert mapped is not None and stored.text[mapped.start : mapped.end] == "😀"


def test_atlas_counts_crlf_once():
    raw = "one\r\ntwo"
    stored = offsets.NormalisedText.build(raw)
    mapped = offsets.map_selection(offsets.PositionMap(raw, offsets.CRLF_AS_ONE), stored, 4, 7)
    assert stored.text[mapped.start : mapped.end] == "two"


def test_combining_accent_is_composed_and_positions_follow():
    raw = "cafe\u0301 bar"
    stored = offsets.NormalisedText.build(raw)
    assert stored.text == "café bar"
    mapped = offsets.map_selection(offsets.PositionMap(raw, offsets.CODE_POINTS), stored, 6, 9)
    assert stored.text[mapped.start : mapped.end] == "bar"


def test_past_the_end_is_clamped_and_flagged():
    raw = "short text"
    stored = offsets.NormalisedText.build(raw)
    mapped = offsets.map_selection(offsets.PositionMap(raw, offsets.CODE_POINTS), stored, 6, 500)
    assert (stored.text[mapped.start : mapped.end], mapped.clamped) == ("text", True)


def test_origin_names_choose_the_convention():
    assert offsets.convention_for_origin("NVivo 12.6 (Windows)") == offsets.UTF16
    assert offsets.convention_for_origin("ATLAS.ti Windows 23.2.3") == offsets.CRLF_AS_ONE
    assert offsets.convention_for_origin("MAXQDA 2022") == offsets.CODE_POINTS
    assert offsets.convention_for_origin(None) == offsets.CODE_POINTS
