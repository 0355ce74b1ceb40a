"""The "Export and import" page in headless Chromium: a QDPX export job and a codebook import."""

import io
import zipfile

import pytest

from coding import exports
from coding.models import Code, ExportJob
from tests.browser import log_in, screenshot

from .test_exports import QDC

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"


def test_supervisor_exports_qdpx_follows_progress_and_downloads_the_archive(team, page, tmp_path):
    log_in(page, team.supervisor.username, next_path=f"/projects/{team.project.pk}/exchange/")
    assert page.locator("#not-carried li", has_text="Speaker turns").count() == 1
    page.get_by_role("button", name="Export REFI-QDA project (QDPX)").click()
    link = page.locator("#export-download")
    link.wait_for()
    assert page.locator("#export-progress").evaluate("bar => bar.value") == 100
    assert "Done" in page.locator("#export-progress-label").text_content()
    screenshot(page, "exchange-qdpx-done")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".qdpx")
    saved = tmp_path / "download.qdpx"
    download.save_as(saved)
    with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as archive:
        assert "project.qde" in archive.namelist()
        assert b"Belarusian tourist visa" in archive.read("project.qde")
    job = ExportJob.objects.get()
    assert (job.kind, job.status, job.requested_by) == ("qdpx", "done", team.supervisor)
    assert page.guard.errors == [] and page.guard.foreign_requests == []


def test_importing_a_qdc_on_the_page_shows_the_merge_report(team, page, tmp_path):
    log_in(page, team.owner.username, next_path=f"/projects/{team.project.pk}/exchange/")
    page.set_input_files(
        "#id_file", files=[{"name": "book.qdc", "mimeType": "application/xml", "buffer": QDC}]
    )
    page.get_by_role("button", name="Import codebook").click()
    report = page.locator("#import-report")
    report.wait_for()
    assert "Codebook import report" in report.text_content()
    assert report.locator("li", has_text="2 codes").count() == 1
    screenshot(page, "exchange-qdc-imported")
    assert Code.objects.filter(project=team.project, name="Reached Germany").exists()
    assert page.guard.errors == []


def test_reopening_the_page_follows_an_export_still_running(team, page, settings):
    job = ExportJob.objects.create(project=team.project, requested_by=team.owner, kind="codebook.csv")
    ExportJob.objects.filter(pk=job.pk).update(status="running", progress=42)
    log_in(page, team.owner.username, next_path=f"/projects/{team.project.pk}/exchange/")
    label = page.locator("#export-progress-label")
    label.wait_for()
    assert "42%" in label.text_content()
    assert page.get_by_role("button", name="Export Codebook (CSV)").is_disabled()
    ExportJob.objects.filter(pk=job.pk).update(status="queued")
    exports.run_export(job_id=job.pk)  # the worker finishes it while the page is open
    page.locator("#export-download").wait_for()
    assert page.locator("#export-progress").evaluate("bar => bar.value") == 100
    assert page.get_by_role("button", name="Export Codebook (CSV)").is_enabled()
