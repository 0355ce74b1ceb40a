"""Answers the schema fuzzing (BI9) found wrong, pinned here so they stay right: OPTIONS never fails,
every answer under /api/ is JSON, creating a project takes every field its input documents."""

from django.urls import reverse


def test_options_on_an_api_view_without_a_serializer_answers_200(team, api):
    client = api.as_user(team.owner)
    for path in (
        f"/api/projects/{team.project.pk}/import/qdc/",
        f"/api/projects/{team.project.pk}/codings/",
        "/api/projects/",
    ):
        response = client.options(path)
        assert response.status_code == 200, path
        assert "actions" not in response.json()


def test_a_path_that_matches_no_api_route_answers_json_404(team, api):
    response = api.as_user(team.owner).get(f"/api/projects/{team.project.pk}/codings/not-a-number/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_pages_keep_html_404(team, client):
    client.force_login(team.owner)
    response = client.get("/projects/not-a-number/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_creating_a_project_with_a_minimum_cell_size_keeps_it(db, api, team):
    response = api.as_user(team.owner).post(
        reverse("api:project-list"), {"name": "Small cells", "min_cell_size": 5}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["min_cell_size"] == 5


def test_a_yes_no_filter_refuses_anything_but_true_or_false(team, api):
    client = api.as_user(team.owner)
    url = f"/api/projects/{team.project.pk}/codes/"
    assert client.get(url, {"is_codable": "true"}).status_code == 200
    response = client.get(url, {"is_codable": "-1.5"})
    assert response.status_code == 400
    assert "is_codable" in response.json()


def test_a_malformed_page_size_is_refused(team, api):
    response = api.as_user(team.owner).get(f"/api/projects/{team.project.pk}/codes/", {"page_size": "null"})
    assert response.status_code == 400
    assert "page_size" in response.json()


def test_a_number_for_a_text_field_is_refused(db, api, team):
    response = api.as_user(team.owner).post("/api/projects/", {"name": "P", "description": 0}, format="json")
    assert response.status_code == 400
    assert "description" in response.json()
