"""The analytics dashboard in a real browser: no script errors or CSP violations; sorting, auto-submit."""

import pytest

from .analytics_data import build_study
from .browser import log_in, screenshot


@pytest.mark.browser
def test_supervisor_reads_the_dashboard_and_drills_down(page, transactional_db, team):
    study = build_study(team)
    project = team.project.pk
    failed = []
    page.on(
        "response", lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None
    )
    log_in(page, team.supervisor.username, next_path=f"/projects/{project}/analytics/")
    page.goto(f"/projects/{project}/analytics/?q=%22Belarusian+tourist+visa%22")
    assert "3 of 6 participants match" in page.inner_text("#query-result")
    assert page.locator("#heterogeneity svg.chart").count() == 2
    # Choosing another crosstab attribute submits the form by itself.
    with page.expect_navigation():
        page.select_option("#crosstab select[name=attribute]", "nationality")
    assert "attribute=nationality" in page.url
    page.locator("#crosstab details summary").click()
    assert "Iraq (n=3)" in page.inner_text("#table-crosstab")
    # Sorting the frequency table by its count column, descending, puts "Visa route" (4) first.
    page.locator("#frequencies details summary").click()
    header = page.locator("#table-frequencies thead th").nth(1)
    header.click()
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    assert page.locator("#table-frequencies tbody tr").first.inner_text().startswith("Visa route")
    link = page.locator("#frequencies svg a").first.get_attribute("href")
    assert link.startswith(f"/projects/{project}/retrieve/?code=")
    screenshot(page, "analytics-dashboard")
    assert page.guard.errors == []
    assert failed == []
    # The only console errors allowed are failed loads, all of them the favicon (checked above).
    assert [e for e in page.guard.console_errors if not e.startswith("Failed to load resource")] == []
    assert page.guard.foreign_requests == []
    assert study.codes["BTV"].pk
