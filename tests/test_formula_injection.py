"""IN2 across every download at once: no spreadsheet formula in any CSV or XLSX we produce.

Formula-like text (``= + - @``, tab, CR, and XlsxWriter's ``{=…}``) is stored in every
field that reaches a table: code names and definitions, pseudonyms, attribute labels and
values, interview titles, speaker names, coding comments, saved query names. Then every
analytics table is downloaded as CSV and XLSX, with the filters that make each appear,
and every export job kind is run; the tidy tables and retrieve CSV have their own tests
(test_tabular, test_pages_retrieve), this one makes sure no download was left out.
"""

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from coding import services as coding_services
from coding.models import ExportKind
from coding.views.analytics import TABLES
from interviews import services

from .conftest import make_interview

HOSTILE = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", "\t=1", "\r=1", "{=1+1}", '=HYPERLINK("x")']
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")


@pytest.fixture
def hostile(team, settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    project = team.project
    services.create_attribute_definition(
        project=project, key="origin", label="=origin", kind="categorical", choices=["=A", "+B"]
    )
    services.create_attribute_definition(project=project, key="attempts", label="@attempts", kind="integer")
    group = coding_services.create_code(project=project, name="=Group", is_codable=False)
    codes = [
        coding_services.create_code(project=project, name=f"{bad}c{n}", parent=group, definition=bad)
        for n, bad in enumerate(HOSTILE)
    ]
    for n, bad in enumerate(HOSTILE):
        person = services.create_participant(project=project, pseudonym=f"{bad}p{n}"[:40])
        services.set_participant_attributes(
            participant=person, values={"origin": ["=A", "+B"][n % 2], "attempts": n}
        )
        interview = make_interview(
            person, text=f"{bad}x: said {bad}\nParticipant: and more\n", by=team.owner, title=f"{bad} t{n}"
        )
        for code in codes[: n + 1]:
            coding_services.create_coding(
                interview=interview, code=code, coder=team.coder, start=0, end=5, comment=bad
            )
    coding_services.create_saved_query(
        project=project, created_by=team.coder, name="=saved", expression='"=Group"'
    )
    return team, group


def cells_of_csv(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def formula_cells(cells) -> list[str]:
    bad = []
    for cell in cells:
        try:
            float(cell)
            continue  # a number (negative ones start with "-")
        except ValueError:
            pass
        # ("{=…}" is an array formula only to XlsxWriter's write(); we write XLSX with openpyxl,
        # which stores it as text, so it is checked through the cell types instead.)
        if cell.startswith(TRIGGERS):
            bad.append(cell)
    return bad


def xlsx_formulas(data: bytes) -> list[str]:
    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            if member.endswith(".xml") and (b"<f>" in archive.read(member) or b"<f " in archive.read(member)):
                found.append(member)
    book = load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        found += [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
        found += formula_cells(
            [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
        )
    return found


def test_every_analytics_download_is_formula_free(hostile, client):
    team, group = hostile
    client.force_login(team.supervisor)
    query = {"group": group.pk, "attribute": "origin", "numeric": "attempts", "q": '"=Group"'}
    seen_hostile = False
    for table in TABLES:
        base = f"/projects/{team.project.pk}/analytics/download/{table}"
        response = client.get(f"{base}.csv", query)
        assert response.status_code == 200, (table, response.content[:200])
        cells = cells_of_csv(response.content)
        assert formula_cells(cells) == [], table
        seen_hostile |= any(c.startswith("'=") for c in cells)
        response = client.get(f"{base}.xlsx", query)
        assert response.status_code == 200, table
        assert xlsx_formulas(response.content) == [], table
    assert seen_hostile  # the hostile text did reach the tables


@pytest.mark.parametrize("kind", [k for k in ExportKind.values if k.endswith((".csv", ".xlsx"))])
def test_every_table_export_job_is_formula_free(hostile, api, kind, django_capture_on_commit_callbacks):
    team, _group = hostile
    client = api.as_user(team.owner)
    with django_capture_on_commit_callbacks(execute=True):
        job = client.post(f"/api/projects/{team.project.pk}/exports/", {"kind": kind}, format="json")
    assert job.status_code == 202
    download = client.get(f"/api/projects/{team.project.pk}/exports/{job.json()['id']}/download/")
    data = b"".join(download.streaming_content) if download.streaming else download.content
    if kind.endswith(".csv"):
        cells = cells_of_csv(data)
        assert formula_cells(cells) == []
        assert any(c.startswith("'") for c in cells)
    else:
        assert xlsx_formulas(data) == []
