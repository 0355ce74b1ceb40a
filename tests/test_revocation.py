"""AC6 (revocation takes effect on the next request) and AC7 (files only through authorised views).

Complements tests/test_access_matrix.py (a deactivated account's session and token),
tests/test_api_members.py (a removed member through the API) and tests/test_exports.py
(an export started before removal).
"""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.views.static import serve
from rest_framework.test import APIClient

from coding import exports
from interviews.models import Membership

from .browser import PASSWORD
from .test_access_matrix import (
    API_POLICY,
    body_text,
    concrete,
    page_request,
    page_url,
    project_page_operations,
    walk_patterns,
    world,  # noqa: F401 - the matrix's objects of every kind, as a fixture
)


def signed_in(user) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def with_token(user) -> APIClient:
    response = APIClient().post(
        "/api/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


# ---------------------------------------------------------------- AC6


def test_removed_member_is_refused_on_the_next_request_by_session_and_token(team):
    session, token = signed_in(team.coder), with_token(team.coder)
    home = f"/projects/{team.project.pk}/"
    api = f"/api/projects/{team.project.pk}/interviews/{team.interview.pk}/"
    assert session.get(home).status_code == 200
    assert session.get(api).status_code == 200
    assert token.get(api).status_code == 200

    member = Membership.objects.get(project=team.project, user=team.coder)
    owner = Client()
    owner.force_login(team.owner)
    assert owner.post(reverse("member-remove", args=[team.project.pk, member.pk])).status_code == 302

    assert session.get(home).status_code == 404
    assert session.get(api).status_code == 404
    assert token.get(api).status_code == 404
    assert token.get(f"/api/projects/{team.project.pk}/codings/").status_code == 404


def test_password_change_ends_every_other_session_and_token(team):
    first, second, token = signed_in(team.coder), signed_in(team.coder), with_token(team.coder)
    assert first.get("/").status_code == 200 and token.get("/api/projects/").status_code == 200

    team.coder.set_password("a new long password 2")
    team.coder.save()

    for client in (first, second):
        response = client.get(f"/projects/{team.project.pk}/")
        assert response.status_code == 302 and reverse("login") in response["Location"]
        assert SESSION_KEY not in client.session
    response = token.get("/api/projects/")
    assert response.status_code in (401, 403)
    assert "password changed" in response.json()["detail"]
    # A new token with the new password works.
    fresh = APIClient().post(
        "/api/auth/token/",
        {"username": team.coder.username, "password": "a new long password 2"},
        format="json",
    )
    assert fresh.status_code == 200


# ---------------------------------------------------------------- AC7


@pytest.fixture
def downloads_world(world, settings, tmp_path, django_capture_on_commit_callbacks):  # noqa: F811
    settings.EXPORT_DIR = tmp_path / "exports"
    team, ids, other_ids = world
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.start_export(project=team.project, by=team.owner, kind="codings.csv")
    ids = {**ids, "exports": job.pk}
    return team, ids


def is_download(response) -> bool:
    kind = response.get("Content-Type", "")
    return "Content-Disposition" in response or not (
        kind.startswith("text/html") or kind.startswith("application/json")
    )


def test_every_download_is_an_attachment_with_nosniff_and_no_store(downloads_world):
    """Every response of a project that carries a file, found by calling every GET route as
    the owner: attachment disposition, nosniff, never cached."""
    team, ids = downloads_world
    client = APIClient()
    client.force_login(team.owner)
    responses = {}
    for (path, method), _needed in sorted(API_POLICY.items()):
        if method == "get" and "{project_pk}" in path:
            responses[path] = client.get(concrete(path, team.project.pk, ids))
    for pattern, method, _needed in project_page_operations():
        if method == "GET":
            responses[pattern.name] = page_request(client, "GET", page_url(pattern, team, ids))
    responses["retrieve as CSV"] = client.get(
        reverse("retrieve", args=[team.project.pk]), {"code": team.code.pk, "format": "csv"}
    )

    downloads = {name: r for name, r in responses.items() if r.status_code == 200 and is_download(r)}
    expected = {
        "/api/projects/{project_pk}/exports/{id}/download/",
        "/api/projects/{project_pk}/export/qdpx/",
        "/api/projects/{project_pk}/export/qdc/",
        "/api/projects/{project_pk}/export/codings.csv",
        "/api/projects/{project_pk}/export/profiles.xlsx",
        "analytics-download",
        "retrieve as CSV",
    }
    assert expected <= set(downloads), sorted(expected - set(downloads))
    failures = []
    for name, response in sorted(downloads.items()):
        if not response.get("Content-Disposition", "").startswith("attachment"):
            failures.append(f"{name}: Content-Disposition {response.get('Content-Disposition')!r}")
        if response.get("X-Content-Type-Options") != "nosniff":
            failures.append(f"{name}: no nosniff")
        if "no-store" not in response.get("Cache-Control", ""):
            failures.append(f"{name}: Cache-Control {response.get('Cache-Control')!r}")
    assert not failures, "\n".join(failures)


def test_stored_files_have_no_public_address(team, settings, tmp_path, client):
    """Export files and staged uploads live in private folders that no URL maps to."""
    settings.EXPORT_DIR = tmp_path / "exports"
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    canary = "CANARY-FILE-5d1c"
    for folder in (settings.EXPORT_DIR, settings.IMPORT_STAGING_DIR):
        folder.mkdir(parents=True)
        (folder / "probe.export").write_text(canary)
    client.force_login(team.owner)
    for url in (
        "/media/probe.export",
        "/static/probe.export",
        "/var/exports/probe.export",
        "/exports/probe.export",
        "/static/../var/exports/probe.export",
        "/var/import-staging/probe.export",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert canary not in body_text(response), url
    # No route serves a folder of files (django.views.static.serve); WhiteNoise serves only static/.
    assert not [route for route, pattern in walk_patterns() if pattern.callback is serve]
