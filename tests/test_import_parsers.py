"""Every supported format, built by the test itself, parses to stored-form text with speaker turns."""

import codecs

import pytest

from interviews.importing import ImportRejected, parse_upload
from interviews.importing.document import ParsedDocument
from interviews.importing.turns import find_turns, propose_roles
from interviews.text import normalise_text

from .import_helpers import (
    make_docx,
    make_odt,
    make_pdf,
    make_rtf,
    make_srt,
    make_vtt,
    plain_text,
)

RTL_EMOJI = plain_text()  # Arabic, Kurmanji with Ş, an emoji outside the BMP


def _speakers(document):
    return [t.speaker for t in find_turns(document)]


def _assert_stored_form(text):
    assert normalise_text(text) == text
    assert "\r" not in text and "\ufeff" not in text


@pytest.mark.parametrize(
    "encoded",
    [
        RTL_EMOJI.encode("utf-8"),
        codecs.BOM_UTF8 + RTL_EMOJI.encode("utf-8"),
        RTL_EMOJI.encode("utf-16"),  # with BOM
        RTL_EMOJI.encode("utf-16-le"),  # without BOM
        RTL_EMOJI.replace("\n", "\r\n").encode("utf-8"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16le-no-bom", "crlf"],
)
def test_unicode_plain_text_in_any_unicode_encoding_reads_the_same(encoded):
    document = parse_upload("t.txt", encoded)
    _assert_stored_form(document.text)
    assert document.text.rstrip("\n") == RTL_EMOJI.rstrip("\n")
    assert _speakers(document) == ["Interviewer", "P07", "Interviewer", "P07"]


def test_cp1252_text_is_recognised():
    text = "Interviewer: Did you go to the café?\nP07: Yes – with my naïve friend, we paid 300 €.\n"
    assert parse_upload("t.txt", text.encode("cp1252")).text.rstrip() == text.rstrip()


def test_cp1256_arabic_text_is_recognised():
    text = (
        "Interviewer: متى عبرت الحدود؟\n"
        "P07: عبرنا الحدود في الشتاء مع أخي، وكان الجو باردا جدا في الغابة.\n"
        "Interviewer: كم مرة أعادوكم؟\n"
        "P07: سبع مرات، وفي كل مرة كانوا يأخذون هواتفنا.\n"
    )
    assert parse_upload("t.txt", text.encode("cp1256")).text.rstrip() == text.rstrip()


def test_decomposed_accents_are_stored_composed():
    document = parse_upload("t.md", "Interviewer: cafe\u0301\n".encode())
    assert document.text.rstrip() == "Interviewer: café"


def test_markdown_bold_labels_are_turns():
    document = parse_upload("t.md", b"# Interview\n\n**Interviewer:** hello\n\n**Ahmed:** hi\n")
    assert _speakers(document) == ["Interviewer", "Ahmed"]
    assert propose_roles(["Interviewer", "Ahmed"]) == {"Interviewer": "interviewer", "Ahmed": "participant"}


@pytest.mark.parametrize("bold", [False, True], ids=["colon-labels", "bold-names"])
def test_docx_paragraphs_and_speakers(bold):
    document = parse_upload("t.docx", make_docx(bold_names=bold))
    _assert_stored_form(document.text)
    assert "قال لي: لا تخف" in document.text and "🌲" in document.text and "Şengalê" in document.text
    turns = find_turns(document)
    assert [t.speaker for t in turns] == ["Interviewer", "P07", "Interviewer", "P07"]
    assert document.text[turns[1].start : turns[1].end].startswith("P07")


@pytest.mark.parametrize("bold", [False, True], ids=["colon-labels", "bold-names"])
def test_odt_paragraphs_and_speakers(bold):
    document = parse_upload("t.odt", make_odt(bold_names=bold))
    _assert_stored_form(document.text)
    assert "🌲" in document.text and "لا تخف" in document.text
    assert _speakers(document) == ["Interviewer", "P07", "Interviewer", "P07"]


def test_rtf_with_unicode_escapes():
    document = parse_upload("t.rtf", make_rtf())
    _assert_stored_form(document.text)
    assert "قال لي: لا تخف" in document.text and "Şengalê" in document.text and "🌲" in document.text
    assert _speakers(document) == ["Interviewer", "P07", "Interviewer", "P07"]


def test_pdf_text_layer():
    document = parse_upload("t.pdf", make_pdf())
    assert "Near the river, with my brother." in document.text
    assert _speakers(document) == ["Interviewer", "P07"]


def test_vtt_cues_keep_times_and_voices_and_merge_one_speaker():
    document = parse_upload("t.vtt", make_vtt())
    turns = find_turns(document)
    assert [(t.speaker, t.time_start, t.time_end) for t in turns] == [
        ("Interviewer", 1.0, 4.5),
        ("P07", 5.0, 12.0),
    ]
    assert document.text[turns[1].start : turns[1].end] == "Near the river.\nWith my brother 🌲."


def test_srt_cues_keep_times_and_labels():
    document = parse_upload("t.srt", make_srt())
    turns = find_turns(document)
    assert [(t.speaker, t.time_start, t.time_end) for t in turns] == [
        ("Interviewer", 1.0, 4.5),
        ("P07", 5.0, 9.25),
        ("P07", 9.5, 62.0),
    ]


@pytest.mark.parametrize(
    ("text", "speakers"),
    [
        ("Interviewer: a\nInterviewee: b\n", ["Interviewer", "Interviewee"]),
        ("I: a\nR: b\nI: c\n", ["I", "R", "I"]),
        ("Q: a\nA: b\n", ["Q", "A"]),
        ("P07: a\nLV-12: b\n", ["P07", "LV-12"]),
        ("[Interviewer] a\n[Dilan] b\n[laughs] yes\n", ["Interviewer", "Dilan"]),
        ("{Interpreter}: a\n{Dilan}: b\n", ["Interpreter", "Dilan"]),
        ("[00:01:02] Interviewer: a\n[00:01:09] P1: b\n", ["Interviewer", "P1"]),
        ("Karwan: a\nInterviewer: b\nKarwan: c\n", ["Karwan", "Interviewer", "Karwan"]),
        ("Note: one line only\nThe river: cold\n", []),
        (
            "المحاور: سؤال\nالمشارك: جواب\nالمحاور: سؤال\nالمشارك: جواب\n",
            ["المحاور", "المشارك", "المحاور", "المشارك"],
        ),
    ],
)
def test_speaker_label_conventions(text, speakers):
    assert _speakers(ParsedDocument(text=text)) == speakers


def test_timestamped_lines_keep_their_start_time():
    turns = find_turns(ParsedDocument(text="[00:01:02] Interviewer: a\n(01:05.5) P1: b\n"))
    assert [t.time_start for t in turns] == [62.0, 65.5]


def test_turns_cover_the_text_between_labels_without_trailing_space():
    text = "Title\n\nInterviewer: one\ntwo\n\nP07: three  \n"
    turns = find_turns(ParsedDocument(text=text))
    assert [text[t.start : t.end] for t in turns] == ["Interviewer: one\ntwo", "P07: three"]


def test_proposed_roles():
    roles = propose_roles(["Interviewer", "P07", "Translator", "Q", "A", "Someone", "Other Person"])
    assert roles == {
        "Interviewer": "interviewer",
        "P07": "participant",
        "Translator": "interpreter",
        "Q": "interviewer",
        "A": "participant",
        "Someone": "other",
        "Other Person": "other",
    }


def test_unsupported_extension_is_refused():
    with pytest.raises(ImportRejected, match="cannot be imported"):
        parse_upload("t.exe", b"MZ...")


def test_documents_parse_in_process_the_same_as_in_the_sandbox():
    data = make_docx(bold_names=True)
    assert parse_upload("t.docx", data).text == parse_upload("t.docx", data, sandbox=False).text
