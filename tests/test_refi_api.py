"""Exchange endpoints: who may export and import, headers of every download, uploads end to end."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from coding.models import Code
from coding.refi import export
from coding.refi.schema import schema_errors
from interviews.models import Project

from .test_refi_import import HOSTILE_XML, build_qdpx

DOWNLOADS = [
    "export/qdpx/",
    "export/qdpx/report/",
    "export/qdc/",
    "export/codings.csv",
    "export/codings.xlsx",
    "export/profiles.csv",
    "export/profiles.xlsx",
    "export/codebook.csv",
    "export/codebook.xlsx",
]
UPLOADS = ["import/qdc/", "import/codebook-csv/"]


def url(project, tail):
    return f"/api/projects/{project.pk}/{tail}"


def qdc_upload():
    return SimpleUploadedFile(
        "book.qdc",
        b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        b'<Code guid="8F2F6B3C-1111-4A5B-9C3D-000000000001" name="Outcome" isCodable="true"/>'
        b"</Codes></CodeBook>",
        content_type="application/xml",
    )


@pytest.mark.parametrize("tail", DOWNLOADS)
@pytest.mark.parametrize("role", ["owner", "supervisor"])
def test_supervisors_and_owners_download_with_safe_headers(team, api, role, tail):
    response = api.as_user(team.member(role)).get(url(team.project, tail))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    if not tail.endswith("report/"):
        assert response["Content-Disposition"].startswith("attachment; filename=")
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("tail", DOWNLOADS)
@pytest.mark.parametrize("role", ["coder", "viewer"])
def test_coders_and_viewers_get_403_on_exports(team, api, role, tail):
    assert api.as_user(team.member(role)).get(url(team.project, tail)).status_code == 403


@pytest.mark.parametrize("tail", DOWNLOADS + UPLOADS)
def test_outsider_gets_404_on_every_project_exchange_endpoint(team, api, tail):
    client = api.as_user(team.outsider)
    if tail in UPLOADS:
        response = client.post(url(team.project, tail), {"file": qdc_upload()}, format="multipart")
    else:
        response = client.get(url(team.project, tail))
    assert response.status_code == 404
    assert b"Belarus" not in response.content and b"LV-07" not in response.content


@pytest.mark.parametrize("tail", DOWNLOADS)
def test_anonymous_is_refused(team, api, tail):
    assert api.get(url(team.project, tail)).status_code in (401, 403)


def test_qdpx_download_is_a_valid_archive(team, api):
    response = api.as_user(team.supervisor).get(url(team.project, "export/qdpx/"))
    assert response["Content-Type"] == "application/zip"
    assert schema_errors(export.project_qde(response.content)) == []
    assert f"sources/{team.interview.guid}.txt" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()


def test_qdpx_report_lists_what_is_not_carried(team, api):
    data = api.as_user(team.owner).get(url(team.project, "export/qdpx/report/")).json()
    assert any("Speaker turns" in line for line in data["not_carried"])


def test_codings_csv_streams_text(team, api):
    response = api.as_user(team.owner).get(url(team.project, "export/codings.csv"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.startswith("project,interview,participant")
    assert response["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize(
    "role,status", [("supervisor", 200), ("owner", 200), ("coder", 403), ("viewer", 403)]
)
def test_qdc_upload_needs_a_supervisor(team, api, role, status):
    response = api.as_user(team.member(role)).post(
        url(team.project, "import/qdc/"), {"file": qdc_upload()}, format="multipart"
    )
    assert response.status_code == status
    assert Code.objects.filter(project=team.project, name="Outcome").exists() == (status == 200)
    if status == 200:
        assert response.json()["imported"]["codes"] == 1


def test_codebook_csv_upload_merges(team, api):
    upload = SimpleUploadedFile("codebook.csv", b"path\nOutcome > Assisted return\n", content_type="text/csv")
    response = api.as_user(team.supervisor).post(
        url(team.project, "import/codebook-csv/"), {"file": upload}, format="multipart"
    )
    assert response.status_code == 200
    assert Code.objects.get(project=team.project, name="Assisted return").parent.name == "Outcome"


def test_any_signed_in_user_can_create_a_project_from_qdpx(team, api):
    data = export.export_qdpx(team.project).data
    response = api.as_user(team.outsider).post(
        "/api/projects/import/qdpx/",
        {"file": SimpleUploadedFile("p.qdpx", data), "already_anonymised": "true", "name": "Copy of A"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    project = Project.objects.get(pk=response.json()["project"])
    assert project.name == "Copy of A"
    assert project.memberships.get(user=team.outsider).role == "owner"
    assert project.interviews.get().is_codable
    assert response.json()["imported"]["sources"] == 1


def test_hostile_qdpx_upload_is_400_and_writes_nothing(team, api):
    before = Project.objects.count()
    response = api.as_user(team.outsider).post(
        "/api/projects/import/qdpx/",
        {"file": SimpleUploadedFile("p.qdpx", build_qdpx(HOSTILE_XML["billion_laughs"]))},
        format="multipart",
    )
    assert response.status_code == 400
    assert "DTD or entities" in str(response.json())
    assert Project.objects.count() == before


def test_anonymous_cannot_import_a_project(db, api):
    response = api.post(
        "/api/projects/import/qdpx/", {"file": SimpleUploadedFile("p.qdpx", b"x")}, format="multipart"
    )
    assert response.status_code in (401, 403)


def test_upload_with_unknown_field_is_refused(team, api):
    response = api.as_user(team.supervisor).post(
        url(team.project, "import/qdc/"), {"file": qdc_upload(), "project": "7"}, format="multipart"
    )
    assert response.status_code == 400
