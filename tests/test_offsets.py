"""Offsets are code points of the stored NFC text: quote == text[start:end] in Python and in SQL.

The API's list endpoint cuts quotes with SQL SUBSTR, so these tests also show
that SQLite and PostgreSQL count code points the way Python does.
"""

import re
import unicodedata

import pytest
from django.db.models import F
from django.db.models.functions import Length, Substr

from coding import services as coding_services
from coding.models import Coding
from interviews import services
from interviews.models import Interview

TEXTS = {
    "arabic": "المحاور: من أين عبرت؟\nالمشارك: عبرنا الغابة ليلاً، قال لي: لا تخف.",
    "sorani": "پرسیار: لە کوێوە هاتن؟\nبەشداربوو: ئێمە لە شەنگالەوە هاتین، ڕێگاکە زۆر سەخت بوو.",
    "kurmanji": "Pirs: Hûn ji ku hatin?\nBeşdar: Em ji Şengalê hatin; rê pir dijwar bû, çêtir e.",
    "emoji": "We waited 🌲🌲 in the forest. 👨\u200d👩\u200d👧 one family, 👍🏽 ok, 🇱🇻 flag, 𝔸 math.",
    "combining": "The cafe\u0301 by the border; q\u0301 stays two; Ṩ and a\u0323\u0307 compose.",
    "mixed_rtl_ltr": "Participant: Near the river 🌲 with my brother. قال لي: لا تخف. Em ji Şengalê hatin.",
}


def url(project):
    return f"/api/projects/{project.pk}/codings/"


def upload(api, team, text, title="Offsets"):
    response = api.as_user(team.supervisor).post(
        f"/api/projects/{team.project.pk}/interviews/",
        {"participant": team.participant.pk, "title": title, "text": text, "already_anonymised": True},
    )
    assert response.status_code == 201, response.json()
    return Interview.objects.get(pk=response.json()["id"])


def passages(text):
    """Every word, the first and last code point and the whole text."""
    found = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    return sorted({*found, (0, 1), (len(text) - 1, len(text)), (0, len(text))})


def all_quotes(api, team, interview):
    rows = (
        api.as_user(team.viewer).get(url(team.project), {"interview": interview.pk, "page_size": 500}).json()
    )
    assert rows["count"] <= 500
    return {(r["start"], r["end"]): r["quote"] for r in rows["results"]}


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_quote_is_exactly_the_passage_in_every_script(team, api, name):
    interview = upload(api, team, TEXTS[name], title=name)
    text = interview.text
    assert text == unicodedata.normalize("NFC", TEXTS[name])
    client = api.as_user(team.coder)
    for start, end in passages(text):
        response = client.post(
            url(team.project), {"interview": interview.pk, "code": team.code.pk, "start": start, "end": end}
        )
        assert response.status_code == 201, (start, end, response.json())
        assert response.json()["quote"] == text[start:end]
    listed = all_quotes(api, team, interview)
    assert listed == {(s, e): text[s:e] for s, e in passages(text)}


def test_codings_at_every_code_point_boundary_quote_exactly(team, api):
    interview = upload(api, team, TEXTS["emoji"] + "\n" + TEXTS["combining"] + "\n" + TEXTS["sorani"])
    text = interview.text
    expected = {}
    for i in range(len(text)):
        coding_services.create_coding(
            interview=interview, code=team.code, coder=team.coder, start=i, end=i + 1
        )
        expected[(i, i + 1)] = text[i]
    for j in range(1, len(text) + 1, 7):
        coding_services.create_coding(interview=interview, code=team.code2, coder=team.coder, start=0, end=j)
        expected[(0, j)] = text[:j]
    quotes = {}
    page = 1
    while True:
        body = (
            api.as_user(team.viewer)
            .get(url(team.project), {"interview": interview.pk, "page_size": 500, "page": page})
            .json()
        )
        for row in body["results"]:
            assert (row["start"], row["end"]) not in quotes or row["quote"] == quotes[
                (row["start"], row["end"])
            ]
            quotes[(row["start"], row["end"])] = row["quote"]
        if not body["next"]:
            break
        page += 1
    assert quotes == expected


def test_sql_substr_and_length_count_code_points(team, api):
    interview = upload(api, team, "".join(TEXTS.values()))
    text = interview.text
    row = Interview.objects.annotate(n=Length("text")).get(pk=interview.pk)
    assert row.n == len(text) == interview.text_length
    for start in (0, text.index("🌲"), text.index("👨"), text.index("𝔸"), text.index("é"), len(text) - 3):
        cut = (
            Interview.objects.annotate(part=Substr("text", start + 1, 3))
            .values_list("part", flat=True)
            .get(pk=interview.pk)
        )
        assert cut == text[start : start + 3], start


def test_combining_mark_is_composed_and_offsets_count_the_composed_text(team, api):
    interview = upload(api, team, "cafe\u0301 au lait")
    assert interview.text == "café au lait"
    assert interview.text_length == 12
    start = interview.text.index("au")
    assert start == 5
    response = api.as_user(team.coder).post(
        url(team.project), {"interview": interview.pk, "code": team.code.pk, "start": 0, "end": 4}
    )
    assert response.json()["quote"] == "café"


def test_mark_without_a_precomposed_form_stays_two_code_points(team, api):
    interview = upload(api, team, "x q\u0301 y")
    assert interview.text == "x q\u0301 y"
    response = api.as_user(team.coder).post(
        url(team.project), {"interview": interview.pk, "code": team.code.pk, "start": 2, "end": 4}
    )
    assert response.json()["quote"] == "q\u0301"


def test_crlf_and_lone_cr_become_newlines_and_bom_is_removed(team, api):
    interview = upload(api, team, "\ufeffLine one\r\nLine two\rLine\ufeff three\n")
    assert interview.text == "Line one\nLine two\nLine three\n"
    start = interview.text.index("two")
    response = api.as_user(team.coder).post(
        url(team.project), {"interview": interview.pk, "code": team.code.pk, "start": start, "end": start + 3}
    )
    assert response.json()["quote"] == "two"


def test_long_single_line_with_astral_characters_at_the_end(team, api):
    text = ("عبرنا الغابة " * 8000) + "🌲 end 👨\u200d👩\u200d👧"
    interview = upload(api, team, text)
    assert interview.text_length == len(text) > 100_000
    for start, end in [(len(text) - 8, len(text)), (len(text) - 3, len(text) - 1), (0, 5), (50_001, 50_013)]:
        response = api.as_user(team.coder).post(
            url(team.project), {"interview": interview.pk, "code": team.code.pk, "start": start, "end": end}
        )
        assert response.status_code == 201, response.json()
        assert response.json()["quote"] == text[start:end]
    assert all_quotes(api, team, interview)[(len(text) - 8, len(text))] == "🌲 end 👨\u200d👩\u200d👧"[-8:]


def test_turns_use_the_same_offsets(team, api):
    text = TEXTS["mixed_rtl_ltr"]
    interview = services.create_interview(
        participant=team.participant,
        title="Turns",
        text=text,
        turns=[
            {"start": 0, "end": text.index("قال"), "role": "participant"},
            {"start": text.index("قال"), "end": len(text), "role": "participant"},
        ],
    )
    first, second = interview.turns.order_by("index")
    assert text[second.start : second.end].startswith("قال لي")
    assert first.end == second.start


def test_quote_after_transcript_revision_is_still_exact(team, api):
    interview = team.interview
    text = interview.text
    start = text.index("لا تخف")
    coding = coding_services.create_coding(
        interview=interview, code=team.code, coder=team.coder, start=start, end=start + len("لا تخف")
    )
    from interviews.text import TextEdit

    services.revise_transcript(
        interview=interview, edits=[TextEdit(0, 0, "🌲👨\u200d👩\u200d👧 ")], by=team.owner
    )
    quote = Coding.objects.annotate(q=Substr("interview__text", F("start") + 1, F("end") - F("start"))).get(
        pk=coding.pk
    )
    assert quote.q == "لا تخف"
    assert all_quotes(api, team, interview)[(quote.start, quote.end)] == "لا تخف"
