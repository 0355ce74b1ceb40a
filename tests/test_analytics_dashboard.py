"""The analytics dashboard page and its CSV/XLSX downloads."""

import csv
import io

import pytest
from openpyxl import load_workbook

from interviews import services

from .analytics_data import build_study


@pytest.fixture
def study(team):
    return build_study(team)


def page(study):
    return f"/projects/{study.team.project.pk}/analytics/"


def download(study, table, fmt):
    return f"/projects/{study.team.project.pk}/analytics/download/{table}.{fmt}"


def test_outsider_gets_404_on_dashboard_and_downloads(study, client):
    client.force_login(study.team.outsider)
    assert client.get(page(study)).status_code == 404
    assert client.get(download(study, "frequencies", "csv")).status_code == 404
    assert client.get(download(study, "frequencies", "xlsx")).status_code == 404


def test_anonymous_is_sent_to_login(study, client):
    response = client.get(page(study))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ["viewer", "supervisor"])
def test_members_see_every_section_with_links_to_passages(study, client, role):
    client.force_login(study.team.member(role))
    response = client.get(page(study), {"q": '"Belarusian tourist visa" AND "Prior pushback"'})
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("frequencies", "heterogeneity", "crosstab", "query", "profiles", "cooccurrence", "matrix",
                    "saturation", "events"):  # fmt: skip
        assert f'id="{section}"' in html, section
    assert "1 of 6 participants match" in html
    assert f"/projects/{study.team.project.pk}/retrieve/?code={study.codes['BTV'].pk}" in html
    assert "style=" not in html  # the CSP forbids inline styles
    assert "<script>" not in html


def test_bad_population_filter_shows_its_reason(study, client):
    client.force_login(study.team.viewer)
    response = client.get(page(study), {"where": 'nationality = "Atlantis"'})
    assert response.status_code == 400
    assert "not a value of nationality" in response.content.decode()


def test_text_that_looks_like_html_or_a_formula_is_neutralised(study, client):
    team = study.team
    evil = services.create_participant(project=team.project, pseudonym="=HYPERLINK(1)")
    from coding import services as coding_services

    from .conftest import make_interview

    interview = make_interview(evil, text="Participant: hello there\n", by=team.owner)
    coding_services.create_coding(
        interview=interview, code=study.codes["No visa"], coder=team.coder, start=0, end=5
    )
    client.force_login(team.viewer)
    html = client.get(page(study)).content.decode()
    assert "=HYPERLINK(1)" in html  # shown as text
    body = client.get(download(study, "matrix", "csv")).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert [r[0] for r in rows if "HYPERLINK" in r[0]] == ["'=HYPERLINK(1)"]
    book = load_workbook(io.BytesIO(client.get(download(study, "matrix", "xlsx")).content))
    cells = [c.value for row in book.active.iter_rows() for c in row]
    assert "'=HYPERLINK(1)" in cells
    assert not any(isinstance(c, str) and c.startswith("=") for c in cells)


def test_frequency_csv_has_the_numbers_of_the_page(study, client):
    client.force_login(study.team.viewer)
    response = client.get(download(study, "frequencies", "csv"))
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Code", "participants", "share of N = 6"]
    counts = {r[0]: r[1] for r in rows[1:]}
    assert counts["Visa route/Belarusian tourist visa"] == "3"
    assert counts["Visa route"] == "4"


def test_crosstab_download_follows_the_chosen_attribute(study, client):
    client.force_login(study.team.viewer)
    response = client.get(
        download(study, "crosstab", "xlsx"),
        {"group": study.codes["Visa route"].pk, "attribute": "nationality"},
    )
    assert response.status_code == 200
    header = [c.value for c in next(load_workbook(io.BytesIO(response.content)).active.iter_rows())]
    assert "Iraq (n=3)" in header


def test_unknown_download_is_404(study, client):
    client.force_login(study.team.viewer)
    assert client.get(download(study, "passwords", "csv")).status_code == 404
    assert client.get(download(study, "frequencies", "pdf")).status_code == 404
