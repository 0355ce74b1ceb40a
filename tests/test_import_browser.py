"""Upload → review redactions → confirm → the coding view, in headless Chromium."""

import pytest

from interviews.models import Interview, RedactionLog
from tests.browser import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRANSCRIPT = (
    "Interviewer: Who helped you at the border?\n"
    "P07: A man called Dilovan helped us near the river 🌲. قال لي: لا تخف.\n"
    "Interviewer: Did you keep his number?\n"
    "P07: Yes, +375 29 555 12 34, but the guards took my phone.\n"
)

SELECT_JS = """
(needle) => {
  const container = document.getElementById("review-text");
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const at = node.data.indexOf(needle);
    if (at >= 0) {
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + needle.length);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      return true;
    }
  }
  throw new Error("not found: " + needle);
}
"""


def test_upload_review_confirm_and_open_for_coding(team, page, settings, tmp_path):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    log_in(page, team.owner.username, next_path=f"/projects/{team.project.pk}/import/")
    page.set_input_files(
        "#import-files",
        files=[{"name": "LV-07 second talk.txt", "mimeType": "text/plain", "buffer": TRANSCRIPT.encode()}],
    )
    mapping = page.locator("#import-mapping input")
    assert mapping.input_value() == "LV-07"  # the file name names a known participant
    page.click("#import-start")
    link = page.get_by_role("link", name="Review redactions")
    link.wait_for()
    assert page.locator("#import-progress").evaluate("bar => bar.value") == 1
    screenshot(page, "import-upload-done")
    link.click()

    page.locator("#review-text mark").first.wait_for()
    marks = page.locator("#review-text mark").all_text_contents()
    assert "+375 29 555 12 34" in marks and "Dilovan" in marks
    # The flagged name starts unticked; the researcher ticks it and adds "river" by selection.
    flagged = page.locator("#review-findings tr", has_text="possible name").locator("input[type=checkbox]")
    assert not flagged.is_checked()
    flagged.check()
    page.evaluate(SELECT_JS, "river")
    page.click("#review-add")
    assert "river" in page.locator("#review-text mark").all_text_contents()
    page.fill("#review-title", "LV-07 second interview")
    assert page.locator("#review-participant option:checked").inner_text() == "LV-07"
    screenshot(page, "import-review")
    with page.expect_download() as download_info:
        page.click("#review-confirm")
    key = download_info.value.path().read_text(encoding="utf-8")
    assert '"Dilovan","[NAME-1]","NAME"' in key and "+375 29 555 12 34" in key and '"river"' in key

    page.locator("#review-done").wait_for()
    interview = Interview.objects.get(title="LV-07 second interview")
    assert interview.participant == team.participant and interview.is_codable
    assert (
        "Dilovan" not in interview.text
        and "555 12 34" not in interview.text
        and "river" not in interview.text
    )
    assert "🌲" in interview.text and "لا تخف" in interview.text
    assert RedactionLog.objects.filter(interview=interview).count() == 3
    assert page.guard.errors == [] and page.guard.foreign_requests == []
    page.click("#review-code-link")
    page.wait_for_url(f"**/projects/{team.project.pk}/interviews/{interview.pk}/code/")
    screenshot(page, "import-then-coding-view")
    assert "[NAME-1]" in page.content()
