"""Tidy tables of a project for R, Stata, SPSS or a spreadsheet: CSV and XLSX.

Three tables:

* ``codings``: one row per coding (project, interview, participant pseudonym,
  type and attributes, coder, code and its full path, start, end, text, comment),
  of anonymised transcripts only (a draft may still hold names);
* ``profiles``: one row per participant x codable code (present 0/1, number of
  codings, words in them), counted by the database;
* ``codebook``: one row per code (path, colour, definition, criteria, example),
  which ``import_codebook_csv`` reads back.

Every text cell that a spreadsheet could read as a formula (starting with
``= + - @``, tab, CR or NUL) gets a leading ``'`` (SECURITY.md IN2); a text that
already starts with ``'`` before such a character gets one more, so the
codebook import can undo it exactly. Numbers stay numbers. XLSX files are
written with every text as a string cell, so they contain no formulas.

``words`` is the number of words (runs of non-space characters) in each coded
passage, summed over the participant's codings of that code; overlapping
codings count their shared words twice.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from interviews.models import AttributeKind, AttributeValue, ParticipantType, Project

from .models import Code, Coding
from .refi.export import code_description
from .refi.import_ import CodeNode, ImportReport, merge_codebook

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
PATH_SEPARATOR = " > "
CODEBOOK_COLUMNS = [
    "path",
    "name",
    "level",
    "codable",
    "colour",
    "definition",
    "inclusion_criteria",
    "exclusion_criteria",
    "example",
]


def neutralise(value):
    """A cell value that no spreadsheet will run as a formula."""
    if isinstance(value, str) and value.lstrip("'")[:1] in TRIGGERS:
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    if value.startswith("'") and value.lstrip("'")[:1] in TRIGGERS:
        return value[1:]
    return value


# ---------------------------------------------------------------- shared pieces


def _code_paths(project: Project) -> tuple[list[Code], dict[int, str]]:
    codes = list(project.codes.order_by("order", "name", "id"))
    by_id = {c.pk: c for c in codes}
    paths: dict[int, str] = {}

    def path(code: Code) -> str:
        if code.pk not in paths:
            parent = by_id.get(code.parent_id)
            paths[code.pk] = code.name if parent is None else path(parent) + PATH_SEPARATOR + code.name
        return paths[code.pk]

    for code in codes:
        path(code)
    return codes, paths


def _attributes(project: Project) -> tuple[list, dict[int, dict[int, object]]]:
    """Attribute definitions, and each participant's values (one query each)."""
    definitions = list(project.attribute_definitions.order_by("order", "id"))
    kinds = {d.pk: d for d in definitions}
    found: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    rows = AttributeValue.objects.filter(participant__project=project).order_by(
        "participant_id", "definition_id", "id"
    )
    for participant_id, definition_id, text, number, date, boolean in rows.values_list(
        "participant_id", "definition_id", "value_text", "value_number", "value_date", "value_bool"
    ):
        kind = kinds[definition_id].kind
        if kind in (AttributeKind.CATEGORICAL, AttributeKind.TEXT):
            value = text
        elif kind == AttributeKind.INTEGER:
            value = None if number is None else int(number)
        elif kind == AttributeKind.DECIMAL:
            value = None if number is None else number.normalize()
        elif kind == AttributeKind.DATE:
            value = None if date is None else date.isoformat()
        else:
            value = None if boolean is None else ("yes" if boolean else "no")
        found[participant_id][definition_id].append(value)
    values = {
        pid: {did: "; ".join(str(v) for v in vs) if len(vs) > 1 else vs[0] for did, vs in per.items()}
        for pid, per in found.items()
    }
    return definitions, values


_TYPE_LABELS = dict(ParticipantType.choices)


class Table:
    """A header and a lazy iterator of rows (lists of cell values).

    ``safe`` says the rows' text cells are already neutralised (``_safe_cells``),
    so the writers must not add a second quote.
    """

    def __init__(self, name: str, header: list[str], rows: Iterable[list], *, safe: bool = False):
        self.name = name
        self.header = header
        self.rows = rows
        self.safe = safe


def _safe_cells(row: list) -> list:
    return [neutralise(v) if isinstance(v, str) else v for v in row]


# ---------------------------------------------------------------- tables


def codings_table(project: Project) -> Table:
    codes, paths = _code_paths(project)
    names = {c.pk: c.name for c in codes}
    definitions, values = _attributes(project)
    header = [
        "project",
        "interview",
        "participant",
        "participant_type",
        *[d.label for d in definitions],
        "coder",
        "code",
        "code_path",
        "start",
        "end",
        "text",
        "comment",
    ]
    query = (
        # Only anonymised transcripts' passages leave the app (a draft may still hold names).
        Coding.objects.filter(project=project, interview__anonymised_at__isnull=False)
        .order_by("interview__title", "interview_id", "start", "end", "id")
        .values_list(
            "interview__title",
            "interview__participant_id",
            "interview__participant__pseudonym",
            "interview__participant__participant_type",
            "coder__username",
            "coder__first_name",
            "coder__last_name",
            "code_id",
            "start",
            "end",
            "comment",
            "interview_id",
        )
    )

    def rows() -> Iterator[list]:
        # Quotes are cut here from each text, fetched once: SQL SUBSTR would walk
        # the whole UTF-8 transcript again for every coding. Cells that repeat
        # (interview, participant, code, coder) are made safe once, not per row.
        texts = dict(project.interviews.filter(anonymised_at__isnull=False).values_list("id", "text"))
        safe = _safe_cells
        code_cells = {pk: safe([names[pk], paths[pk]]) for pk in names}
        interview_cells: dict[int, list] = {}
        coder_cells: dict[tuple, str] = {}
        for row in query.iterator(chunk_size=2000):
            title, pid, pseudonym, ptype, username, first, last, code_id, start, end, comment, iid = row
            prefix = interview_cells.get(iid)
            if prefix is None:
                attrs = values.get(pid, {})
                prefix = interview_cells[iid] = safe(
                    [project.name, title, pseudonym, _TYPE_LABELS.get(ptype, ptype)]
                    + [attrs.get(d.pk) for d in definitions]
                )
            coder = coder_cells.get((username, first, last))
            if coder is None:
                coder = coder_cells[(username, first, last)] = neutralise(
                    f"{first} {last}".strip() or username
                )
            yield [
                *prefix,
                coder,
                *code_cells[code_id],
                start,
                end,
                neutralise(texts[iid][start:end]),
                neutralise(comment),
            ]

    return Table("codings", header, rows(), safe=True)


def profiles_table(project: Project) -> Table:
    """Participant x codable code: present, number of codings (grouped by the database), words coded."""
    codes, paths = _code_paths(project)
    codable = sorted((c for c in codes if c.is_codable), key=lambda c: paths[c.pk])
    definitions, values = _attributes(project)
    counts = {
        (row["interview__participant_id"], row["code_id"]): row["n"]
        for row in Coding.objects.filter(project=project)
        .values("interview__participant_id", "code_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    words = _words(project)
    participants = list(
        project.participants.order_by("pseudonym").values_list("pk", "pseudonym", "participant_type")
    )
    header = [
        "project",
        "participant",
        "participant_type",
        *[d.label for d in definitions],
        "code",
        "code_path",
        "present",
        "codings",
        "words",
    ]

    def rows() -> Iterator[list]:
        for pid, pseudonym, ptype in participants:
            attrs = values.get(pid, {})
            for code in codable:
                n = counts.get((pid, code.pk), 0)
                yield [
                    project.name,
                    pseudonym,
                    _TYPE_LABELS.get(ptype, ptype),
                    *[attrs.get(d.pk) for d in definitions],
                    code.name,
                    paths[code.pk],
                    1 if n else 0,
                    n,
                    words.get((pid, code.pk), 0),
                ]

    return Table("profiles", header, rows())


def _words(project: Project) -> dict[tuple[int, int], int]:
    """Words coded per (participant, code): the words of each coded passage, summed.

    SQL has no portable word count, and cutting every quote in SQL costs a scan
    of the whole transcript per coding (SQLite); so each text is fetched once
    and each passage is split here.
    """
    texts = dict(project.interviews.values_list("id", "text"))
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for pid, code_id, iid, start, end in Coding.objects.filter(project=project).values_list(
        "interview__participant_id", "code_id", "interview_id", "start", "end"
    ):
        totals[(pid, code_id)] += len(texts[iid][start:end].split())
    return totals


def codebook_table(project: Project) -> Table:
    codes, paths = _code_paths(project)
    by_path = sorted(codes, key=lambda c: paths[c.pk].split(PATH_SEPARATOR))

    def rows() -> Iterator[list]:
        for code in by_path:
            yield [
                paths[code.pk],
                code.name,
                paths[code.pk].count(PATH_SEPARATOR) + 1,
                "yes" if code.is_codable else "no",
                code.colour,
                code.definition,
                code.inclusion_criteria,
                code.exclusion_criteria,
                code.example,
            ]

    return Table("codebook", list(CODEBOOK_COLUMNS), rows())


TABLES = {"codings": codings_table, "profiles": profiles_table, "codebook": codebook_table}


# ---------------------------------------------------------------- writers


class _Parts(list):
    """A file-like list: ``csv.writer`` appends what it writes (for streaming CSV)."""

    write = list.append


def csv_chunks(table: Table, *, rows_per_chunk: int = 1000) -> Iterator[str]:
    """The table as CSV text in chunks (UTF-8 with BOM for Excel; RFC 4180 quoting)."""
    parts = _Parts()
    writer = csv.writer(parts, lineterminator="\r\n")
    writer.writerow(_safe_cells(table.header))
    yield "\ufeff" + "".join(parts)
    parts.clear()
    batch = []
    for row in table.rows if table.safe else (_safe_cells(r) for r in table.rows):
        batch.append(row)
        if len(batch) >= rows_per_chunk:
            writer.writerows(batch)
            batch = []
            yield "".join(parts)
            parts.clear()
    if batch:
        writer.writerows(batch)
        yield "".join(parts)


def csv_text(table: Table) -> str:
    return "".join(csv_chunks(table))


def _xlsx_cell(value, safe: bool):
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    # Strip what XML cannot hold first: removing it could uncover a leading "=".
    value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if not safe:
        return neutralise(value)
    return "'" + value if value[:1] in TRIGGERS else value


def xlsx_bytes(table: Table) -> bytes:
    """The table as an XLSX workbook; every text is a plain string cell (no formulas)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.name[:31])
    sheet.append([_xlsx_cell(h, False) for h in table.header])
    for row in table.rows:
        sheet.append([_xlsx_cell(v, table.safe) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- codebook CSV import

MAX_CODEBOOK_ROWS = 5000


@transaction.atomic
def import_codebook_csv(*, project: Project, data: bytes) -> ImportReport:
    """Merge a codebook CSV (as ``codebook_table`` writes it) into the project, by name path."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": "Save the codebook CSV as UTF-8."})
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = {(c or "").strip().lower(): c for c in (reader.fieldnames or [])}
    if "path" not in columns and "name" not in columns:
        raise ValidationError({"file": "The codebook CSV needs a 'path' (or 'name') column."})
    nodes: dict[tuple[str, ...], CodeNode] = {}
    roots: list[CodeNode] = []
    report = ImportReport(project_id=project.pk)

    def cell(row, name):
        raw = row.get(columns.get(name, ""), "") or ""
        return unneutralise(raw)

    def node_for(path: tuple[str, ...]) -> CodeNode:
        if path not in nodes:
            siblings = node_for(path[:-1]).children if len(path) > 1 else roots
            nodes[path] = CodeNode(guid=None, name=path[-1], codable=None, colour=None, description="")
            siblings.append(nodes[path])
        return nodes[path]

    for n, row in enumerate(reader, 1):
        if n > MAX_CODEBOOK_ROWS:
            raise ValidationError({"file": f"The codebook CSV has more than {MAX_CODEBOOK_ROWS} rows."})
        raw_path = cell(row, "path") or cell(row, "name")
        path = tuple(p.strip() for p in raw_path.split(PATH_SEPARATOR) if p.strip())
        if not path:
            report.skip("Row without a code name")
            continue
        node = node_for(path)
        node.codable = cell(row, "codable").strip().lower() not in ("no", "false", "0")
        node.colour = cell(row, "colour").strip() or None
        node.description = code_description(
            Code(
                definition=cell(row, "definition"),
                inclusion_criteria=cell(row, "inclusion_criteria"),
                exclusion_criteria=cell(row, "exclusion_criteria"),
                example=cell(row, "example"),
            )
        )
    if not roots:
        raise ValidationError({"file": "The codebook CSV has no codes."})
    merge_codebook(project=project, nodes=roots, report=report)
    return report
