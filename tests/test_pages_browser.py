"""The codebook and participants pages in a real browser (headless Chromium through Playwright)."""

import pytest

from coding import services as coding_services
from coding.models import Code, Coding
from interviews import services
from tests.browser import log_in, screenshot
from tests.conftest import make_interview

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVIL = "<img src=x onerror=alert(1)>"


def test_supervisor_creates_moves_and_merges_a_code(team, page):
    coding = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder, start=0, end=11
    )
    codebook = f"/projects/{team.project.pk}/codebook/"
    log_in(page, "sam_supervisor", next_path=codebook)

    # Create a top-level code, using the keyboard for the form.
    page.fill("#id_new-name", "Forest crossing")
    page.fill("#id_new-definition", "Crossing through the Białowieża forest")
    page.focus("#new-code button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    created = Code.objects.get(project=team.project, name="Forest crossing")
    assert created.parent_id is None
    node = page.locator(f"#code-{created.pk}")
    assert node.locator(".code-name").first.inner_text() == "Forest crossing"

    # Move it under the "Visa route" folder with the "Move to" control.
    summary = node.locator("summary").first
    summary.focus()
    page.keyboard.press("Enter")
    page.select_option(f"select[name='c{created.pk}-move-parent']", str(team.code_group.pk))
    with page.expect_navigation():
        node.locator(".move-form button").first.click()
    created.refresh_from_db()
    assert created.parent_id == team.code_group.pk
    assert page.locator(f"#code-{team.code_group.pk} #code-{created.pk}").count() == 1

    # Merge "Prior pushback" (which has a coding) into it: the coding is kept.
    other = page.locator(f"#code-{team.code2.pk}")
    other.locator("summary").first.click()
    page.select_option(f"select[name='c{team.code2.pk}-merge-target']", str(created.pk))
    with page.expect_navigation():
        other.locator(".merge-form button").first.click()
    assert not Code.objects.filter(pk=team.code2.pk).exists()
    assert Coding.objects.get(pk=coding.pk).code_id == created.pk
    assert page.locator(f"#code-{team.code2.pk}").count() == 0
    assert "merged into" in page.locator(".messages").inner_text()
    screenshot(page, "codebook-after-merge")
    assert page.guard.dialogs == []
    assert page.guard.errors == []
    assert page.guard.foreign_requests == []


def test_markup_in_code_names_and_attribute_values_renders_as_text(team, page):
    evil_code = coding_services.create_code(project=team.project, name=EVIL, definition=EVIL)
    services.create_attribute_definition(project=team.project, key="notes", label=EVIL, kind="text")
    services.update_participant(participant=team.participant, attributes={"notes": f"met at {EVIL}"})
    interview = make_interview(team.participant, by=team.owner, title=EVIL)
    coding_services.create_coding(interview=interview, code=evil_code, coder=team.coder, start=0, end=11)
    coding_services.create_memo(project=team.project, author=team.coder, text=EVIL, title=EVIL)
    log_in(page, "sam_supervisor")
    pk = team.project.pk
    for path, name in [
        (f"/projects/{pk}/codebook/", "codebook-xss"),
        (f"/projects/{pk}/participants/", "participants-xss"),
        (f"/projects/{pk}/participants/{team.participant.pk}/", "participant-xss"),
        (f"/projects/{pk}/retrieve/?code={evil_code.pk}", "retrieve-xss"),
        (f"/projects/{pk}/memos/", "memos-xss"),
        (f"/projects/{pk}/", "home-xss"),
    ]:
        page.goto(path)
        assert EVIL in page.locator("main").inner_text(), path
        assert page.locator("main img").count() == 0, path
        screenshot(page, name)
    assert page.guard.dialogs == []
    assert page.guard.errors == []
    assert page.guard.foreign_requests == []
