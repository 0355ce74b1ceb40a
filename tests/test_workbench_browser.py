"""The transcript coding view in a real browser (headless Chromium through Playwright).

Passages are selected the way a person's mouse would leave them: a DOM Range
over the page's own text nodes, found by searching the rendered text (UTF-16,
as the browser sees it). What the server stores is then checked against the
expected string with Python's code point slicing: ``text[start:end]``.
"""

import pytest

from coding import services as coding_services
from coding.models import Coding
from tests.browser import log_in, screenshot
from tests.conftest import make_interview

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_LINE = " ".join(["The guards drove us back to the forest again and again."] * 30)
TEXT = (
    "Interviewer: Where did you cross the border?\n"
    "Participant: Near the river 🌲 with my brother. قال لي: لا تخف يا أخي.\n"
    "Participant: Kurmanji: Em ji Şengalê hatin. Sorani: ئێمە لە شەنگالەوە هاتین.\n"
    "المترجم: عبرنا النهر في الليل، وكان الجو باردًا جدًا.\n"
    "Interviewer: And your family? 👨‍👩‍👧\n"
    "Participant: The mark q\u0307 stays two code points; مُحَمَّد has its vowel marks. 🌲🌲 twice.\n"
    f"Participant: {LONG_LINE}\n"
)
EVIL = "<img src=x onerror=alert(1)>"

SELECT_JS = """
([startNeedle, endNeedle]) => {
  // The rendered text nodes, concatenated as the eye reads them; a passage may span several.
  const walker = document.createTreeWalker(document.getElementById("wb-text"), NodeFilter.SHOW_TEXT);
  const nodes = [];
  let full = "";
  while (walker.nextNode()) {
    nodes.push([walker.currentNode, full.length]);
    full += walker.currentNode.data;
  }
  const at = (position, isEnd) => {
    for (const [node, offset] of nodes) {
      const local = position - offset;
      if (local >= 0 && (isEnd ? local <= node.data.length : local < node.data.length)) return [node, local];
    }
    throw new Error("position outside the text");
  };
  const start = full.indexOf(startNeedle);
  if (start < 0) throw new Error("not in the rendered text: " + startNeedle);
  const endAt = full.indexOf(endNeedle, start);
  if (endAt < 0) throw new Error("not in the rendered text: " + endNeedle);
  const range = document.createRange();
  range.setStart(...at(start, false));
  range.setEnd(...at(endAt + endNeedle.length, true));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}
"""

# The characters each highlight covers, read from the rendered segments.
HIGHLIGHT_JS = """
(codingId) => Array.from(document.querySelectorAll("#wb-text .wb-coded"))
  .filter((seg) => seg.dataset.codings.split(",").includes(String(codingId)))
  .map((seg) => seg.textContent).join("")
"""


@pytest.fixture
def setting(team):
    interview = make_interview(team.participant, text=TEXT, title="Crossing in winter", by=team.owner)
    coding_services.update_code(code=team.code2, shortcut="p")
    return interview


def coding_url(team, interview):
    return f"/projects/{team.project.pk}/interviews/{interview.pk}/code/"


def open_view(page, team, interview, username):
    log_in(page, username, next_path=coding_url(team, interview))
    page.wait_for_selector("body[data-workbench=ready]")


def select(page, start_needle, end_needle=None):
    page.evaluate(SELECT_JS, [start_needle, end_needle or start_needle])
    page.wait_for_function("() => window.workbench.pending() !== null")


def wait_for_codings(page, interview, count):
    page.wait_for_function(
        "(n) => document.querySelectorAll('#wb-stripes .wb-stripe').length === n", arg=count
    )
    assert Coding.objects.filter(interview=interview).count() == count


def only_coding(interview, **filters):
    return Coding.objects.get(interview=interview, **filters)


def test_coder_codes_arabic_and_emoji_passages_exactly(page, team, setting):
    text = setting.text
    open_view(page, team, setting, "cora_coder")
    assert page.guard.errors == []

    # An Arabic passage, applied by clicking the code in the codebook.
    select(page, "لا تخف يا أخي")
    page.click(f"button.wb-code[data-code='{team.code.pk}']")
    wait_for_codings(page, setting, 1)
    arabic = only_coding(setting, code=team.code)
    assert text[arabic.start : arabic.end] == "لا تخف يا أخي"
    assert arabic.coder == team.coder

    # A passage containing emoji (astral characters), applied by the code's shortcut key.
    select(page, "river 🌲 with")
    page.keyboard.press("p")
    wait_for_codings(page, setting, 2)
    emoji = only_coding(setting, code=team.code2)
    assert text[emoji.start : emoji.end] == "river 🌲 with"

    # A passage after emoji and combining marks, across the boundary of two turns.
    select(page, "vowel marks. 🌲🌲", "The guards")
    page.click(f"button.wb-code[data-code='{team.code.pk}']")
    wait_for_codings(page, setting, 3)
    across = Coding.objects.filter(interview=setting).order_by("-id").first()
    assert text[across.start : across.end] == "vowel marks. 🌲🌲 twice.\nParticipant: The guards"

    # After a reload the highlights cover exactly the same characters.
    page.reload()
    page.wait_for_selector("body[data-workbench=ready]")
    assert page.evaluate(HIGHLIGHT_JS, arabic.pk) == "لا تخف يا أخي"
    assert page.evaluate(HIGHLIGHT_JS, emoji.pk) == "river 🌲 with"
    # The turn boundary ("\n" between turns) is not drawn; everything else is.
    assert page.evaluate(HIGHLIGHT_JS, across.pk) == "vowel marks. 🌲🌲 twice.Participant: The guards"
    assert page.locator("#wb-text .wb-turn-text[dir=auto]").count() == 7
    # A turn in Arabic script reads right to left, the others left to right.
    directions = page.eval_on_selector_all(
        "#wb-text .wb-turn-text", "els => els.map(e => getComputedStyle(e).direction)"
    )
    assert directions == ["ltr", "ltr", "ltr", "rtl", "ltr", "ltr", "ltr"]
    assert page.locator("#wb-text .wb-role-interviewer").count() == 2
    screenshot(page, "workbench-coder-arabic-emoji")
    assert not [e for e in page.guard.console_errors if "Content Security Policy" in e]
    assert page.guard.foreign_requests == []
    assert page.guard.dialogs == []


def test_overlapping_codings_show_two_stripes_and_undo_redo_delete(page, team, setting):
    text = setting.text
    open_view(page, team, setting, "cora_coder")
    select(page, "Em ji Şengalê hatin. Sorani")
    page.click(f"button.wb-code[data-code='{team.code.pk}']")
    wait_for_codings(page, setting, 1)

    # Overlapping: starts inside the first passage and runs on into the Sorani text.
    select(page, "hatin. Sorani: ئێمە لە")
    page.keyboard.press("p")
    wait_for_codings(page, setting, 2)
    overlap = only_coding(setting, code=team.code2)
    assert text[overlap.start : overlap.end] == "hatin. Sorani: ئێمە لە"
    lanes = page.eval_on_selector_all("#wb-stripes .wb-stripe", "els => els.map(e => e.dataset.lane)")
    assert sorted(lanes) == ["0", "1"]
    labels = page.eval_on_selector_all("#wb-stripes .wb-stripe", "els => els.map(e => e.textContent)")
    assert sorted(labels) == ["Belarusian tourist visa", "Prior pushback"]
    screenshot(page, "workbench-overlapping-stripes")

    # Undo removes the last coding through the API; redo brings it back on the same characters.
    page.locator("#wb-text").focus()
    page.keyboard.press("Control+z")
    wait_for_codings(page, setting, 1)
    assert not Coding.objects.filter(interview=setting, code=team.code2).exists()
    page.keyboard.press("Control+Shift+z")
    wait_for_codings(page, setting, 2)
    redone = only_coding(setting, code=team.code2)
    assert (redone.start, redone.end) == (overlap.start, overlap.end)

    # Click the stripe to edit: comment, then shrink the range numerically.
    page.click(f"#wb-stripes .wb-stripe[data-coding='{redone.pk}']")
    page.wait_for_selector("#wb-editor:not([hidden])")
    page.fill("#wb-editor-comment", "Overlaps the route.")
    page.fill("#wb-editor-end", str(redone.end - 3))
    page.click("#wb-editor-save")
    page.wait_for_function("() => document.getElementById('wb-status').textContent === 'Coding saved.'")
    redone.refresh_from_db()
    assert redone.comment == "Overlaps the route."
    assert text[redone.start : redone.end] == "hatin. Sorani: ئێمە"
    # Undo the edit: the range and comment come back.
    page.locator("#wb-text").focus()
    page.keyboard.press("Control+z")
    page.wait_for_function("() => document.getElementById('wb-status').textContent.startsWith('Undone')")
    redone.refresh_from_db()
    assert (redone.start, redone.end, redone.comment) == (overlap.start, overlap.end, "")

    # Delete through the editor.
    page.click(f"#wb-stripes .wb-stripe[data-coding='{redone.pk}']")
    page.click("#wb-editor-delete")
    wait_for_codings(page, setting, 1)
    assert not Coding.objects.filter(pk=redone.pk).exists()
    assert page.guard.errors == []
    assert page.guard.foreign_requests == []


def test_keyboard_only_selection_and_filter_box(page, team, setting):
    open_view(page, team, setting, "cora_coder")
    page.locator("#wb-text").focus()
    page.keyboard.press("ArrowDown")  # to the start of the second turn
    for _ in range(len("Participant: Near")):
        page.keyboard.press("Shift+ArrowRight")
    page.locator("#wb-code-search").focus()
    page.keyboard.type("pushb")
    page.keyboard.press("Enter")
    wait_for_codings(page, setting, 1)
    coding = only_coding(setting)
    assert coding.code == team.code2
    assert setting.text[coding.start : coding.end] == "Participant: Near"


def test_viewer_sees_codings_but_no_coding_controls(page, team, setting):
    coding_services.create_coding(interview=setting, code=team.code, coder=team.coder, start=13, end=20)
    open_view(page, team, setting, "vera_viewer")
    assert page.locator("#wb-stripes .wb-stripe").count() == 1
    for control in ("#wb-apply", "#wb-undo", "button.wb-code", "#wb-memo-form"):
        assert page.locator(control).count() == 0, control
    select(page, "river 🌲 with")
    page.keyboard.press("p")
    page.wait_for_timeout(300)
    assert Coding.objects.filter(interview=setting).count() == 1
    screenshot(page, "workbench-viewer")


def test_malicious_code_name_renders_as_text(page, team, setting):
    evil = coding_services.create_code(project=team.project, name=EVIL, colour="#222222")
    coding_services.create_coding(interview=setting, code=evil, coder=team.coder2, start=13, end=40)
    open_view(page, team, setting, "cora_coder")
    assert page.locator(f"button.wb-code[data-code='{evil.pk}'] .wb-name").text_content() == EVIL
    assert page.locator("#wb-stripes .wb-stripe").text_content() == EVIL
    assert page.locator("#workbench img").count() == 0
    page.hover("#wb-text .wb-coded")
    assert EVIL in page.locator("#wb-here-list").text_content()
    assert page.guard.dialogs == []
    assert page.guard.foreign_requests == []
    screenshot(page, "workbench-malicious-name")


def test_another_coders_coding_appears_without_reload(page, team, setting):
    open_view(page, team, setting, "cora_coder")
    assert page.locator("#wb-stripes .wb-stripe").count() == 0
    coding_services.create_coding(interview=setting, code=team.code2, coder=team.coder2, start=13, end=20)
    page.wait_for_function(
        "() => document.querySelectorAll('#wb-stripes .wb-stripe').length === 1", timeout=8000
    )
    coding_services.delete_coding(coding=Coding.objects.get(interview=setting))
    page.wait_for_function(
        "() => document.querySelectorAll('#wb-stripes .wb-stripe').length === 0", timeout=8000
    )


def test_offsets_module_converts_utf16_and_code_points(page, team, setting):
    open_view(page, team, setting, "cora_coder")
    result = page.evaluate(
        """async () => {
          const { TextIndex, cpLength } = await import("/static/js/offsets.js");
          const text = "a🌲b\\u0645\\u064fq\\u0307👨‍👩‍👧";
          const index = new TextIndex(text);
          return {
            length: index.length, cpLength: cpLength(text), units: text.length,
            bAt: index.toUtf16(2), cpOfB: index.toCp(3),
            midPairDown: index.toCp(2), midPairUp: index.toCp(2, true),
            slice: index.slice(1, 3),
          };
        }"""
    )
    assert result == {
        "length": len("a🌲b\u0645\u064fq\u0307👨‍👩‍👧"),
        "cpLength": 12,
        "units": len("a🌲b\u0645\u064fq\u0307👨‍👩‍👧".encode("utf-16-le")) // 2,
        "bAt": 3,
        "cpOfB": 2,
        "midPairDown": 1,
        "midPairUp": 2,
        "slice": "🌲b",
    }


def test_search_highlights_hits(page, team, setting):
    open_view(page, team, setting, "cora_coder")
    page.fill("#wb-search", "🌲")
    page.wait_for_function("() => document.getElementById('wb-search-count').textContent === '1 of 3'")
    assert page.locator("#wb-text .wb-hit").count() == 3
    page.keyboard.press("Enter")
    assert page.locator("#wb-search-count").text_content() == "2 of 3"


def test_memo_on_the_interview(page, team, setting):
    open_view(page, team, setting, "cora_coder")
    page.fill("#wb-memo-title", "Route")
    page.fill("#wb-memo-text", "Crossed near the river; see turn 2.")
    page.click("#wb-memo-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('wb-status').textContent === 'Memo added.'")
    memo = setting.memos.get()
    assert (memo.title, memo.text, memo.author) == (
        "Route",
        "Crossed near the river; see turn 2.",
        team.coder,
    )
    assert "Crossed near the river" in page.locator("#wb-memo-list").text_content()


def test_supervisor_codes_in_vivo_and_creates_a_code_on_the_fly(page, team, setting):
    open_view(page, team, setting, "sam_supervisor")
    select(page, "عبرنا النهر")
    page.click("#wb-invivo")
    wait_for_codings(page, setting, 1)
    in_vivo = only_coding(setting)
    assert in_vivo.code.name == "عبرنا النهر"
    assert setting.text[in_vivo.start : in_vivo.end] == "عبرنا النهر"

    select(page, "Em ji Şengalê hatin")
    page.fill("#wb-code-search", "Came from Shingal")
    page.keyboard.press("Enter")
    wait_for_codings(page, setting, 2)
    fresh = only_coding(setting, code__name="Came from Shingal")
    assert setting.text[fresh.start : fresh.end] == "Em ji Şengalê hatin"
    assert page.locator(f"button.wb-code[data-code='{fresh.code_id}']").count() == 1


def test_coder_cannot_create_codes(page, team, setting):
    open_view(page, team, setting, "cora_coder")
    assert page.locator("#wb-invivo").count() == 0
    select(page, "Em ji Şengalê hatin")
    page.fill("#wb-code-search", "No such code here")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('wb-status').textContent.includes('ask a supervisor')"
    )
    assert Coding.objects.filter(interview=setting).count() == 0


def test_selection_from_a_turn_header_snaps_to_the_turn_text(page, team, setting):
    """A drag that starts on the speaker label (an element boundary, not a text node) starts the passage
    at the turn's first character."""
    open_view(page, team, setting, "cora_coder")
    page.evaluate(
        """() => {
          const turn = document.querySelectorAll("#wb-text .wb-turn")[2];
          const text = turn.querySelector(".wb-seg").firstChild;
          const range = document.createRange();
          range.setStart(turn, 0);
          range.setEnd(text, text.data.indexOf("Kurmanji") + "Kurmanji".length);
          getSelection().removeAllRanges();
          getSelection().addRange(range);
        }"""
    )
    page.wait_for_function("() => window.workbench.pending() !== null")
    page.keyboard.press("p")
    wait_for_codings(page, setting, 1)
    coding = only_coding(setting)
    assert setting.text[coding.start : coding.end] == "Participant: Kurmanji"


def test_two_codes_on_one_passage_that_ends_a_turn(page, team, setting):
    """The selection survives the redraw after the first code, to the same last character."""
    open_view(page, team, setting, "cora_coder")
    select(page, "Em ji Şengalê", "شەنگالەوە هاتین.")
    page.click(f"button.wb-code[data-code='{team.code.pk}']")
    wait_for_codings(page, setting, 1)
    page.keyboard.press("p")
    wait_for_codings(page, setting, 2)
    first, second = Coding.objects.filter(interview=setting).order_by("id")
    assert (first.start, first.end) == (second.start, second.end)
    assert setting.text[first.start : first.end] == "Em ji Şengalê hatin. Sorani: ئێمە لە شەنگالەوە هاتین."


def test_a_link_to_a_coding_opens_it_in_the_editor(page, team, setting, live_server):
    start = setting.text.index("🌲")
    coding = coding_services.create_coding(
        interview=setting, code=team.code2, coder=team.coder, start=start, end=start + 3
    )
    open_view(page, team, setting, "cora_coder")
    assert page.locator("#wb-editor").is_hidden()
    page.goto(f"{live_server.url}{coding_url(team, setting)}?at={start}#c{coding.pk}")
    page.wait_for_selector("body[data-workbench=ready]")
    page.wait_for_selector("#wb-editor:not([hidden])")
    assert "Prior pushback" in page.locator("#wb-editor").inner_text()
