"""The OpenAPI schema and its docs page: served to signed-in users, generated without warnings."""

import subprocess
import sys
from pathlib import Path

from .factories import UserFactory

BASE = Path(__file__).resolve().parent.parent


def test_schema_is_served_to_a_signed_in_user(db, api):
    response = api.as_user(UserFactory()).get("/api/schema/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "openapi: 3" in body
    assert "/api/projects/{project_pk}/codings/" in body


def test_schema_and_docs_need_a_signed_in_user(db, client):
    assert client.get("/api/schema/").status_code in (401, 403)


def test_docs_page_renders(db, client):
    client.force_login(UserFactory())
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_schema_generation_has_no_warnings(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--file",
            str(tmp_path / "schema.yml"),
            "--validate",
            "--fail-on-warn",
        ],
        cwd=BASE,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Warning" not in result.stderr
    assert (tmp_path / "schema.yml").stat().st_size > 1000
