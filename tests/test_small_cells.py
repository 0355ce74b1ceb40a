"""DP6: a project option suppresses aggregate counts below k for viewers.

The study (tests/analytics_data.py) has N = 6 participants and many counts of 1 and 2,
and a few of 3 or more. With ``min_cell_size = 3`` a viewer must see no count of 1 or 2
in any analytics answer, dashboard table or download, while a supervisor sees them all.
"""

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from coding import services as coding_services
from coding.suppression import Hidden, suppress
from interviews import services
from interviews.models import AuditEvent

from .analytics_data import LINE2, TEXT, build_study
from .conftest import make_interview

K = 3
# Keys of analytics answers that hold a count of people, interviews, codings or words.
COUNT_KEYS = {
    "n",
    "count",
    "k",
    "size",
    "participants",
    "n_population",
    "n_coded",
    "not_coded",
    "multiple",
    "n_profiled",
    "people_with_value",
    "people_without_value",
}


@pytest.fixture
def study(team):
    study = build_study(team)
    team.project.min_cell_size = K
    team.project.save()
    return study


def api_endpoints(study):
    visa = study.codes["Visa route"].pk
    persecution = study.codes["Persecution ground"].pk
    return {
        "frequencies": "frequencies/",
        "cooccurrence": "cooccurrence/?mode=participant",
        "crosstab": f"crosstab/?group={visa}&attribute=nationality",
        "heterogeneity": f"heterogeneity/?groups={visa},{persecution}&bootstrap=20",
        "profiles": f"profiles/?groups={visa},{persecution}",
        "query": 'query/?q="Visa route"',
        "query-few": "query/?q=%22Taliban%22",
        "events": "events/?attribute=crossing_attempts",
    }


def small_counts(answer, k=K, path="$"):
    """Every place in an analytics answer where a count between 1 and k - 1 is shown."""
    found = []
    if isinstance(answer, dict):
        for key, value in answer.items():
            if key in COUNT_KEYS and isinstance(value, int) and not isinstance(value, bool) and 0 < value < k:
                found.append(f"{path}.{key}={value}")
            elif key == "per_coder" and isinstance(value, dict):
                found += [
                    f"{path}.per_coder.{c}={v}" for c, v in value.items() if isinstance(v, int) and 0 < v < k
                ]
            elif key == "counts" and isinstance(value, list):
                found += [
                    f"{path}.counts[{i}][{j}]={v}"
                    for i, row in enumerate(value)
                    for j, v in enumerate(row)
                    if isinstance(v, int) and 0 < v < k
                ]
            else:
                found += small_counts(value, k, f"{path}.{key}")
    elif isinstance(answer, list):
        for i, item in enumerate(answer):
            found += small_counts(item, k, f"{path}[{i}]")
    return found


def get(api, user, study, path):
    response = api.as_user(user).get(f"/api/projects/{study.team.project.pk}/analytics/{path}")
    assert response.status_code == 200, (path, response.content[:300])
    return response.json()


def test_supervisor_sees_every_small_count(study, api):
    for name, path in api_endpoints(study).items():
        answer = get(api, study.team.supervisor, study, path)
        assert small_counts(answer), name  # the study has small cells everywhere: the test can fail
        assert "suppression" not in answer


def test_viewer_sees_no_count_below_k_in_any_analytics_answer(study, api):
    for name, path in api_endpoints(study).items():
        answer = get(api, study.team.viewer, study, path)
        assert small_counts(answer) == [], name
        assert answer["suppression"]["min_cell_size"] == K, name
        assert answer["suppression"]["cells"] > 0, name


def test_suppressed_cells_are_null_and_flagged_and_large_ones_stay(study, api):
    answer = get(api, study.team.viewer, study, "frequencies/")
    rows = {r["name"]: r for r in answer["rows"]}
    assert rows["Belarusian tourist visa"]["count"] == 3  # 3 people: shown
    assert rows["Visa route"]["count"] == 4
    taliban = rows["Taliban"]
    assert taliban["count"] is None and taliban["share"] is None and taliban["suppressed"] is True
    assert answer["n"] == 6


def test_crosstab_hides_small_cells_and_their_percentages(study, api):
    visa = study.codes["Visa route"].pk
    answer = get(api, study.team.viewer, study, f"crosstab/?group={visa}&attribute=nationality")
    btv = next(r for r in answer["rows"] if r["name"] == "Belarusian tourist visa")
    for cell in btv["cells"]:
        if cell.get("suppressed"):
            assert cell["count"] is None and cell["row_pct"] is None and cell["col_pct"] is None
    assert any(cell.get("suppressed") for cell in btv["cells"])


def test_query_with_few_matches_names_nobody_for_viewers(study, api):
    viewer = get(api, study.team.viewer, study, "query/?q=%22Taliban%22")
    assert viewer["k"] is None and viewer["participants"] == [] and viewer["ci"] is None
    assert "Fewer than 3 of 6" in viewer["sentence"]
    assert "P1" not in str(viewer)
    supervisor = get(api, study.team.supervisor, study, "query/?q=%22Taliban%22")
    assert supervisor["k"] == 1 and supervisor["participants"][0]["pseudonym"] == "P1"


def test_saved_query_run_is_suppressed_for_viewers(study, api):
    created = api.as_user(study.team.coder).post(
        f"/api/projects/{study.team.project.pk}/analytics/saved-queries/",
        {"name": "Taliban", "expression": '"Taliban"'},
        format="json",
    )
    assert created.status_code == 201
    answer = get(api, study.team.viewer, study, f"saved-queries/{created.json()['id']}/run/")
    assert answer["k"] is None and answer["participants"] == []


def test_coders_and_owners_are_not_suppressed(study, api):
    for user in (study.team.coder, study.team.owner):
        answer = get(api, user, study, "frequencies/")
        assert small_counts(answer)


def test_setting_zero_turns_suppression_off(study, api):
    study.team.project.min_cell_size = 0
    study.team.project.save()
    answer = get(api, study.team.viewer, study, "frequencies/")
    assert small_counts(answer) and "suppression" not in answer


# ---------------------------------------------------------------- the dashboard and its downloads


def page(client, user, study, query=""):
    client.force_login(user)
    response = client.get(f"/projects/{study.team.project.pk}/analytics/{query}")
    assert response.status_code == 200
    return response.content.decode()


def table_cells(html, name):
    match = re.search(rf'<table class="table" id="table-{name}">(.*?)</table>', html, re.S)
    assert match, name
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S)
        if "<td" in row
    ]


def test_dashboard_shows_small_counts_as_below_k_to_viewers(study, client):
    query = "?numeric=crossing_attempts"
    viewer = page(client, study.team.viewer, study, query)
    frequencies = {row[0].strip("\u2003"): row for row in table_cells(viewer, "frequencies")}
    assert frequencies["Taliban"][1] == f"&lt;{K}"
    assert frequencies["Belarusian tourist visa"][1] == "3"
    counts = [row[1] for row in frequencies.values()]
    assert not {"1", "2"} & set(counts)
    crosstab = table_cells(viewer, "crosstab")
    assert not {"1", "2"} & {cell for row in crosstab for cell in row[1::3]}
    assert f"&lt;{K}" in {cell for row in crosstab for cell in row}
    events = table_cells(viewer, "events")
    assert {row[1] for row in events} == {f"&lt;{K}"}

    # The charts say the same: bar and cell titles read "<3", never 1 or 2 (except the
    # participant × code matrix, one row per person, which is not an aggregate).
    def chart_titles(html):
        titles = re.findall(r"<title>([^<]*)</title>", html)
        return [t for t in titles if not re.match(r"(P\d|LV-07) × ", t)]

    titles = chart_titles(viewer)
    assert titles and not [t for t in titles if re.search(r": [12]$", t)], titles
    assert any(t.endswith(f": &lt;{K}") for t in titles)

    supervisor = page(client, study.team.supervisor, study, query)
    assert [t for t in chart_titles(supervisor) if re.search(r": [12]$", t)]
    frequencies = {row[0].strip("\u2003"): row for row in table_cells(supervisor, "frequencies")}
    assert frequencies["Taliban"][1] == "1"
    assert f"&lt;{K}" not in supervisor


def csv_rows(client, study, table, query=""):
    response = client.get(f"/projects/{study.team.project.pk}/analytics/download/{table}.csv{query}")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]


# table → the columns that hold counts of people (or of the chosen unit)
COUNT_COLUMNS = {
    "frequencies": lambda row: [row[1], *row[3:]],
    "crosstab": lambda row: row[1::3],
    "heterogeneity": lambda row: [row[2]],
    "cooccurrence": lambda row: [row[2]],
    "events": lambda row: [row[1]],
    "profiles": lambda row: [row[0]],
}


@pytest.mark.parametrize("table", sorted(COUNT_COLUMNS))
def test_downloads_for_viewers_have_no_count_below_k(study, client, table):
    query = "?numeric=crossing_attempts&mode=participant"
    client.force_login(study.team.supervisor)
    whole = [c for row in csv_rows(client, study, table, query) for c in COUNT_COLUMNS[table](row)]
    assert {"1", "2"} & set(whole), table  # there are small cells to hide
    client.force_login(study.team.viewer)
    shown = [c for row in csv_rows(client, study, table, query) for c in COUNT_COLUMNS[table](row)]
    assert not {"1", "2"} & set(shown), table
    assert f"<{K}" in shown, table


def test_xlsx_download_for_viewers_shows_below_k(study, client):
    client.force_login(study.team.viewer)
    response = client.get(f"/projects/{study.team.project.pk}/analytics/download/frequencies.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    counts = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert f"<{K}" in counts and not {1, 2} & set(counts)


# ---------------------------------------------------------------- the setting


def test_owner_sets_min_cell_size_through_the_project_api_and_it_is_audited(team, api):
    url = f"/api/projects/{team.project.pk}/"
    response = api.as_user(team.owner).patch(url, {"min_cell_size": 5}, format="json")
    assert response.status_code == 200 and response.json()["min_cell_size"] == 5
    team.project.refresh_from_db()
    assert team.project.min_cell_size == 5
    event = AuditEvent.objects.get(action="project.min_cell_size_changed")
    assert event.before == {"min_cell_size": 0} and event.after == {"min_cell_size": 5}


def test_only_the_owner_may_change_min_cell_size_and_bad_values_are_refused(team, api):
    url = f"/api/projects/{team.project.pk}/"
    assert api.as_user(team.supervisor).patch(url, {"min_cell_size": 0}, format="json").status_code == 403
    assert api.as_user(team.viewer).patch(url, {"min_cell_size": 0}, format="json").status_code == 403
    for bad in (-1, 1000, "many"):
        response = api.as_user(team.owner).patch(url, {"min_cell_size": bad}, format="json")
        assert response.status_code == 400 and "min_cell_size" in response.json(), bad
    team.project.refresh_from_db()
    assert team.project.min_cell_size == 0


def test_owner_sets_min_cell_size_on_the_project_page(team, client):
    url = f"/projects/{team.project.pk}/min-cell-size/"
    client.force_login(team.owner)
    home = client.get(f"/projects/{team.project.pk}/").content.decode()
    assert 'id="min-cell-size-form"' in home
    response = client.post(url, {"min_cell_size": "5"})
    assert response.status_code == 302
    team.project.refresh_from_db()
    assert team.project.min_cell_size == 5
    refused = client.post(url, {"min_cell_size": "-3"})
    assert refused.status_code == 400 and "Smallest count viewers see" in refused.content.decode()
    team.project.refresh_from_db()
    assert team.project.min_cell_size == 5


def test_only_the_owner_sees_and_uses_the_min_cell_size_form(team, client):
    url = f"/projects/{team.project.pk}/min-cell-size/"
    client.force_login(team.supervisor)
    assert 'id="min-cell-size-form"' not in client.get(f"/projects/{team.project.pk}/").content.decode()
    assert client.post(url, {"min_cell_size": "0"}).status_code == 403
    client.force_login(team.outsider)
    assert client.post(url, {"min_cell_size": "0"}).status_code == 404


# ---------------------------------------------------------------- complementary suppression


def crosstab_result(*rows):
    """A crosstab answer with these rows of cell counts; each row's total is its sum."""
    columns = len(rows[0])
    return {
        "n": sum(map(sum, rows)),
        "columns": [{"n": 100} for _ in range(columns)],
        "rows": [
            {
                "name": f"code {i}",
                "n": sum(counts),
                "cells": [{"count": c, "row_pct": 1.0, "col_pct": 1.0, "link": "/x"} for c in counts],
            }
            for i, counts in enumerate(rows)
        ],
    }


def test_a_row_with_one_small_cell_hides_its_smallest_other_cell_too():
    result = suppress("crosstab", crosstab_result([2, 7, 4, 0], [5, 6, 3, 9]), K)
    first, second = result["rows"]
    assert [c["count"] for c in first["cells"]] == [None, 7, None, 0]  # 2 and 4 from 13: not one unknown
    assert first["cells"][2] == {
        "count": None,
        "row_pct": None,
        "col_pct": None,
        "link": None,
        "complementary": True,
        "suppressed": True,
    }
    assert first["n"] == 13
    assert [c["count"] for c in second["cells"]] == [5, 6, 3, 9]  # nothing small: all shown
    assert result["suppression"]["cells"] == 2


def test_a_row_with_two_small_cells_needs_no_more_hiding():
    result = suppress("crosstab", crosstab_result([1, 2, 8]), K)
    assert [c["count"] for c in result["rows"][0]["cells"]] == [None, None, 8]
    assert not any(c.get("complementary") for c in result["rows"][0]["cells"])


def test_on_the_page_a_complementary_cell_reads_hidden_not_below_k():
    result = suppress("crosstab", crosstab_result([2, 7, 4]), K, hidden=Hidden(K))
    assert [str(c["count"]) for c in result["rows"][0]["cells"]] == [f"<{K}", "7", "hidden"]


def test_no_crosstab_row_a_viewer_sees_gives_a_hidden_cell_away_by_subtraction(study, api):
    # Six more with the tourist visa: its row becomes Afghanistan 4, Iraq 4, Syria 1, and the 1
    # alone hidden would be 9 - 4 - 4.
    for n, nationality in enumerate(["Afghanistan", "Iraq"] * 3):
        person = services.create_participant(project=study.team.project, pseudonym=f"X-{n}")
        services.set_participant_attributes(participant=person, values={"nationality": nationality})
        interview = make_interview(person, text=TEXT, by=study.team.owner)
        coding_services.create_coding(
            interview=interview, code=study.codes["BTV"], coder=study.team.coder, start=LINE2[0], end=LINE2[1]
        )
    visa = study.codes["Visa route"].pk
    withheld = 0
    for attribute in ("nationality", "has_legal_representation"):
        answer = get(api, study.team.viewer, study, f"crosstab/?group={visa}&attribute={attribute}")
        for row in answer["rows"]:
            if row["n"] is not None:
                assert sum(1 for cell in row["cells"] if cell.get("suppressed")) != 1, (attribute, row)
            withheld += sum(1 for cell in row["cells"] if cell.get("complementary"))
    assert withheld  # the study has such rows: without the rule this test fails
