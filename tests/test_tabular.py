"""Tidy CSV/XLSX tables: one row per coding, per participant x code, per code; no formula ever runs."""

import csv
import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from coding import services as coding_services
from coding import tabular
from coding.models import Code
from interviews import services

HOSTILE = ['=HYPERLINK("http://x")', "+1", "-1+2", "@SUM(A1)", "\tTab", "\rCR", "'=already quoted"]


@pytest.fixture
def coded(team):
    project = team.project
    services.create_attribute_definition(
        project=project, key="nationality", label="Nationality", kind="categorical", choices=["Iraqi", "=cmd"]
    )
    services.create_attribute_definition(
        project=project, key="attempts", label="Crossing attempts", kind="integer"
    )
    services.set_participant_attributes(
        participant=team.participant, values={"nationality": "=cmd", "attempts": 3}
    )
    text = team.interview.text
    start = text.index("Near the river")
    coding_services.create_coding(
        interview=team.interview,
        code=team.code,
        coder=team.coder,
        start=start,
        end=start + 14,
        comment=HOSTILE[0],
    )
    coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder2, start=start, end=start + 5
    )
    coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder, start=0, end=12
    )
    return team


def _csv(table):
    return list(csv.reader(io.StringIO(tabular.csv_text(table).lstrip("\ufeff"))))


def test_codings_table_has_one_row_per_coding_with_path_attributes_and_text(coded):
    rows = _csv(tabular.codings_table(coded.project))
    header, body = rows[0], rows[1:]
    assert header == [
        "project",
        "interview",
        "participant",
        "participant_type",
        "Nationality",
        "Crossing attempts",
        "coder",
        "code",
        "code_path",
        "start",
        "end",
        "text",
        "comment",
    ]
    assert len(body) == 3
    row = dict(zip(header, body[2], strict=True))
    assert row["code_path"] == "Visa route > Belarusian tourist visa"
    assert row["text"] == "Near the river" and row["participant"] == "LV-07"
    assert row["Nationality"] == "'=cmd" and row["Crossing attempts"] == "3"
    assert row["comment"] == "'" + HOSTILE[0]


def test_codings_table_is_built_with_a_fixed_number_of_queries(coded):
    with CaptureQueriesContext(connection) as few:
        list(tabular.codings_table(coded.project).rows)
    for n in range(20):
        coding_services.create_coding(
            interview=coded.interview, code=coded.code2, coder=coded.coder, start=n + 20, end=n + 22
        )
    with CaptureQueriesContext(connection) as many:
        rows = list(tabular.codings_table(coded.project).rows)
    assert len(rows) == 23
    assert len(many) == len(few) <= 5  # codes, attribute definitions, attribute values, texts, codings


def test_profiles_count_codings_and_words_per_participant_and_code(coded):
    rows = _csv(tabular.profiles_table(coded.project))
    header = rows[0]
    body = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert {r["code"] for r in body} == {"Belarusian tourist visa", "Prior pushback"}  # folders excluded
    visa = next(r for r in body if r["code"] == "Belarusian tourist visa")
    assert (visa["present"], visa["codings"], visa["words"]) == ("1", "2", "4")  # "Near the river" + "Near "
    other = services.create_participant(project=coded.project, pseudonym="LV-09")
    body = [dict(zip(header, r, strict=True)) for r in _csv(tabular.profiles_table(coded.project))[1:]]
    absent = [r for r in body if r["participant"] == other.pseudonym]
    assert len(absent) == 2 and all(r["present"] == "0" and r["codings"] == "0" for r in absent)


def test_every_formula_like_cell_is_neutralised_in_csv(coded):
    for n, bad in enumerate(HOSTILE):
        coding_services.create_code(project=coded.project, name=f"x{n}", definition=bad)
    rows = _csv(tabular.codebook_table(coded.project))
    for row in rows:
        for cell in row:
            assert cell[:1] not in tabular.TRIGGERS, cell
    definitions = [r[5] for r in rows[1:] if r[1].startswith("x")]
    assert sorted(definitions) == sorted("'" + h for h in HOSTILE)


def test_xlsx_has_no_formulas_and_keeps_the_text(coded):
    for n, bad in enumerate(HOSTILE):
        coding_services.create_code(project=coded.project, name=f"x{n}", definition=bad)
    # A control character XML cannot hold, in front of a formula: stripping it must not arm the formula.
    coding_services.create_code(project=coded.project, name="\x01=SUM(1,2)", definition="\x02=1+1")
    coding_services.update_coding(coding=coded.project.codings.first(), comment="\x03@cmd")
    for name, builder in tabular.TABLES.items():
        data = tabular.xlsx_bytes(builder(coded.project))
        archive = zipfile.ZipFile(io.BytesIO(data))
        for member in archive.namelist():
            if member.endswith(".xml"):
                assert b"<f>" not in archive.read(member) and b"<f " not in archive.read(member), (
                    name,
                    member,
                )
        sheet = load_workbook(io.BytesIO(data)).active
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    sheet = load_workbook(io.BytesIO(tabular.xlsx_bytes(tabular.codebook_table(coded.project)))).active
    texts = {row[1].value: row[5].value for row in sheet.iter_rows(min_row=2)}
    assert texts["x0"] == "'" + HOSTILE[0]


def test_codebook_csv_round_trip_gives_back_the_original_text(coded):
    coding_services.update_code(
        code=coded.code, definition="=not a formula", inclusion_criteria="-dash first", example="'=quoted"
    )
    data = tabular.csv_text(tabular.codebook_table(coded.project)).encode("utf-8")
    target = services.create_project(name="Copy", owner=coded.owner)
    report = tabular.import_codebook_csv(project=target, data=data)
    copy = Code.objects.get(project=target, name="Belarusian tourist visa")
    assert (copy.definition, copy.inclusion_criteria, copy.example) == (
        "=not a formula",
        "-dash first",
        "'=quoted",
    )
    assert copy.parent.name == "Visa route" and not copy.parent.is_codable
    assert copy.colour == coded.code.colour
    assert report.counts["codes"] == 3


def test_codebook_csv_import_merges_and_reports_conflicts(coded):
    data = (
        "path,colour,definition\n"
        "Visa route > Belarusian tourist visa,#000000,\n"
        "Visa route > Russian visa,,New\n"
    )
    report = tabular.import_codebook_csv(project=coded.project, data=data.encode())
    assert Code.objects.get(project=coded.project, name="Russian visa").parent == coded.code_group
    assert report.counts["conflicts"] == 1 and report.counts["codes"] == 1


def test_codebook_csv_without_a_path_column_is_refused(coded):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        tabular.import_codebook_csv(project=coded.project, data=b"colour\n#ffffff\n")
