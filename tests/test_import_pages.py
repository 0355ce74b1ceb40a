"""The import and review pages: who may open them, and that they carry no inline script or text."""

import pytest
from django.test import Client

from interviews import import_services
from interviews.models import ImportBatch, ImportFile, ImportFileStatus


@pytest.fixture
def ready_file(team, settings, tmp_path):
    settings.IMPORT_STAGING_DIR = tmp_path
    batch = ImportBatch.objects.create(project=team.project, created_by=team.owner, file_count=1)
    import_file = ImportFile.objects.create(
        batch=batch, project=team.project, name="LV-07.txt", extension=".txt"
    )
    import_services._write_private(
        import_services._staging_path(import_file, "upload"), b"Interviewer: hi\nP07: I met Dilovan.\n"
    )
    import_services.process_import_file(file_id=import_file.pk)
    import_file.refresh_from_db()
    assert import_file.status == ImportFileStatus.READY
    return import_file


def _get(user, url):
    client = Client()
    client.force_login(user)
    return client.get(url)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 200), ("supervisor", 200), ("coder", 403), ("viewer", 403), ("outsider", 404)],
)
def test_upload_page_is_for_supervisors_of_the_project(team, role, expected):
    assert _get(team.member(role), f"/projects/{team.project.pk}/import/").status_code == expected


@pytest.mark.parametrize(("role", "expected"), [("supervisor", 200), ("coder", 403), ("outsider", 404)])
def test_review_page_access(team, ready_file, role, expected):
    url = f"/projects/{team.project.pk}/import/{ready_file.pk}/review/"
    assert _get(team.member(role), url).status_code == expected


def test_review_page_of_another_projects_file_is_404(team, ready_file):
    url = f"/projects/{team.other_project.pk}/import/{ready_file.pk}/review/"
    assert _get(team.outsider, url).status_code == 404


def test_pages_hold_no_transcript_text_and_no_inline_script(team, ready_file):
    review = _get(team.owner, f"/projects/{team.project.pk}/import/{ready_file.pk}/review/")
    upload = _get(team.owner, f"/projects/{team.project.pk}/import/")
    for response in (review, upload):
        html = response.content.decode()
        assert "Dilovan" not in html  # the text comes from the no-store API, not the page
        assert "<script>" not in html and "onclick" not in html and 'style="' not in html
        assert 'type="module"' in html
        assert "no-store" in response["Cache-Control"]
    assert "LV-07.txt" in upload.content.decode()  # waiting for review


def test_post_to_the_upload_page_is_405(team):
    client = Client()
    client.force_login(team.owner)
    assert client.post(f"/projects/{team.project.pk}/import/").status_code == 405
