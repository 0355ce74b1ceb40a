"""Import REFI-QDA files: a QDPX archive as a NEW project, a QDC codebook into a project.

Lenient where real tools deviate from the standard, strict where safety is at
stake (``../shared/refi-qda/NOTES.md`` §4 lists the deviations):

* any single ``*.qde`` at the archive root; ``sources/`` in any case;
  ``plainTextPath`` with or without ``internal://``; any ``urn:QDA-XML:*``
  namespace (or none); GUIDs with braces or in either case;
* a selection per code (NVivo) or several codings per selection; selections
  with no coding but a comment (MAXQDA) become interview memos; attributes
  carried by unnamed cases become participants;
* positions converted by ``origin`` (``offsets.py``), a BOM stripped, line
  endings normalised with the offsets mapped through, selections past the
  end clamped -- each reported;
* a schema error is a warning, not a refusal; an unsafe archive (entities, zip
  bomb, ``..`` paths, links, sources outside the archive) is refused whole.

The file is read and checked completely before the first row is written, and
the writing happens in one transaction: a file that fails leaves nothing.

Imported transcripts are drafts (not codable) unless the importer states that
they are already anonymised; the anonymisation review itself belongs to
``interviews`` (its import/anonymisation flow). Codings read from the file are
kept on draft transcripts too: they are the work being moved.

Users named in the file are matched to the importing user by name; any other
coder becomes an inactive placeholder account (no password, cannot sign in)
that is a coder member of the new project, so each coder's codings stay apart
(agreement needs them). Nothing is matched to other existing accounts.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from interviews import audit
from interviews import services as interview_services
from interviews.importing.limits import limits as transcript_limits
from interviews.models import AttributeKind, InterviewMode, ParticipantType, Project, Role

from .. import services as coding_services
from ..models import Code, Coding, colour_validator
from . import offsets
from .export import (
    ALLOWED_VALUES,
    ALLOWED_VALUES_MULTIPLE,
    INTERVIEW_VARIABLES,
    MULTIPLE_SEPARATOR,
    PARTICIPANT_TYPE_VARIABLE,
    parse_code_description,
)
from .safety import SafeZip, UnsafeFile, local_name, namespace, parse_xml
from .schema import CODEBOOK_NS, PROJECT_NS, schema_errors

MAX_PLACEHOLDER_USERS = 100
_INTERNAL = "internal://"


# ---------------------------------------------------------------- report


@dataclass
class ImportReport:
    """What was imported, and what was skipped and why (shown to the user)."""

    project_id: int | None = None
    counts: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] += n

    def as_dict(self) -> dict:
        return {
            "project": self.project_id,
            "imported": {k: self.counts.get(k, 0) for k in _COUNT_KEYS} | dict(self.counts),
            "warnings": list(self.warnings),
            "skipped": [f"{reason} ({n})" if n > 1 else reason for reason, n in self.skipped.items()],
        }

    def lines(self) -> list[str]:
        data = self.as_dict()
        out = ["Imported: " + ", ".join(f"{n} {k}" for k, n in data["imported"].items())]
        out += [f"Warning: {w}" for w in data["warnings"]]
        out += [f"Skipped: {s}" for s in data["skipped"]]
        return out


_COUNT_KEYS = ("codes", "sources", "codings", "cases", "variables", "notes")


# ---------------------------------------------------------------- parsed file


def _children(element, name: str) -> list:
    return [c for c in element if local_name(c.tag) == name]


def _child(element, name: str):
    for c in element:
        if local_name(c.tag) == name:
            return c
    return None


def _guid(value: str | None) -> str | None:
    """GUIDs compare without braces and case (tools differ); not their validity."""
    if not value:
        return None
    return value.strip().strip("{}").upper() or None


def _ref(element, name: str) -> str | None:
    """The normalised ``targetGUID`` of the child ``name``.

    (An Element without children is falsy, so test for None, never ``or``.)
    """
    found = _child(element, name)
    return None if found is None else _guid(found.get("targetGUID"))


def _text_of(element) -> str:
    return "" if element is None else (element.text or "")


@dataclass
class CodeNode:
    guid: str | None
    name: str
    codable: bool | None  # None: not stated (a parent implied by a CSV path)
    colour: str | None
    description: str
    notes: list[str] = field(default_factory=list)
    children: list[CodeNode] = field(default_factory=list)


def _read_codes(parent) -> list[CodeNode]:
    nodes = []
    for element in _children(parent, "Code"):
        codable = (element.get("isCodable") or "true").strip().lower() not in ("false", "0")
        nodes.append(
            CodeNode(
                guid=_guid(element.get("guid")),
                name=element.get("name") or "",
                codable=codable,
                colour=element.get("color"),
                description=_text_of(_child(element, "Description")),
                notes=[_guid(r.get("targetGUID")) for r in _children(element, "NoteRef")],
                children=_read_codes(element),
            )
        )
    return nodes


def _notes_of(element) -> list[str]:
    return [g for g in (_guid(r.get("targetGUID")) for r in _children(element, "NoteRef")) if g]


def _values_of(element) -> list[tuple[str, str, str]]:
    """``(variable guid, value element name, text)`` of each VariableValue."""
    found = []
    for value in _children(element, "VariableValue"):
        ref = _child(value, "VariableRef")
        data = [c for c in value if local_name(c.tag) != "VariableRef"]
        if ref is None or not data or not _guid(ref.get("targetGUID")):
            continue
        found.append((_guid(ref.get("targetGUID")), local_name(data[0].tag), (data[0].text or "").strip()))
    return found


@dataclass
class Selection:
    guid: str | None
    start: int
    end: int
    comment: str
    user: str | None
    codings: list[tuple[str | None, str | None, list[str]]]  # (code guid, user guid, note guids)
    notes: list[str]


@dataclass
class Source:
    guid: str | None
    name: str
    text: str
    selections: list[Selection]
    notes: list[str]
    values: list[tuple[str, str, str]]


@dataclass
class Note:
    guid: str | None
    name: str
    text: str
    user: str | None


def _decode(raw: bytes) -> str | None:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


class _FileReader:
    """Reads a parsed ``project.qde`` and its archive into plain data; writes nothing."""

    def __init__(self, root, archive: SafeZip | None, report: ImportReport):
        self.root = root
        self.archive = archive
        self.report = report
        self.convention = offsets.convention_for_origin(root.get("origin"))
        # The same ceiling as any uploaded transcript.
        self.max_chars = transcript_limits().max_text_chars

    def internal_file(self, path: str, what: str) -> bytes | None:
        """The bytes of ``internal://name`` (or a bare ``name``): only ever a member of ``sources/``."""
        ref = path.strip()
        if ref[: len(_INTERNAL)].lower() == _INTERNAL:
            ref = ref[len(_INTERNAL) :]
        elif "://" in ref:
            self.report.skip(f"{what} kept outside the archive (relative:// or absolute:// path)")
            return None
        if not ref or "/" in ref or "\\" in ref or ".." in ref or "\x00" in ref or ":" in ref:
            raise UnsafeFile(
                "The project file points a source outside the archive's sources folder "
                f"({path[:80]!r}); refused."
            )
        info = self.archive.find(f"sources/{ref}") if self.archive else None
        if info is None:
            self.report.skip(f"{what} whose file is missing from the archive")
            return None
        return self.archive.read(info)

    def text_of(self, element, what: str) -> str | None:
        path = element.get("plainTextPath")
        if path:
            raw = self.internal_file(path, what)
            if raw is None:
                return None
            text = _decode(raw)
            if text is None:
                self.report.skip(f"{what} whose text is not UTF-8")
            return text
        content = _child(element, "PlainTextContent")
        if content is not None:
            return content.text or ""
        if element.get("richTextPath"):
            self.report.skip(f"{what} with only a rich-text (.docx) version and no plain text")
        else:
            self.report.skip(f"{what} without any text")
        return None

    def users(self) -> dict[str, str]:
        users_el = _child(self.root, "Users")
        if users_el is None:
            return {}
        return {
            _guid(u.get("guid")): (u.get("name") or u.get("id") or "").strip()
            for u in _children(users_el, "User")
            if _guid(u.get("guid"))
        }

    def codes(self) -> list[CodeNode]:
        codebook = _child(self.root, "CodeBook")
        codes = _child(codebook, "Codes") if codebook is not None else None
        return _read_codes(codes) if codes is not None else []

    def variables(self) -> dict[str, dict]:
        variables_el = _child(self.root, "Variables")
        found = {}
        for v in _children(variables_el, "Variable") if variables_el is not None else []:
            guid = _guid(v.get("guid"))
            if guid:
                found[guid] = {
                    "name": (v.get("name") or "").strip(),
                    "type": (v.get("typeOfVariable") or "Text").strip(),
                    "description": _text_of(_child(v, "Description")),
                }
        return found

    def cases(self) -> list[dict]:
        cases_el = _child(self.root, "Cases")
        found = []
        for case in _children(cases_el, "Case") if cases_el is not None else []:
            found.append(
                {
                    "guid": _guid(case.get("guid")),
                    "name": (case.get("name") or "").strip(),
                    "values": _values_of(case),
                    "sources": [_guid(r.get("targetGUID")) for r in _children(case, "SourceRef")],
                    "ignored": len(_children(case, "CodeRef")) + len(_children(case, "SelectionRef")),
                }
            )
        return found

    def sources(self) -> list[Source]:
        sources_el = _child(self.root, "Sources")
        found = []
        for element in list(sources_el) if sources_el is not None else []:
            kind = local_name(element.tag)
            if kind != "TextSource":
                self.report.skip(f"{kind or 'unknown source'} (only plain-text sources can be imported)")
                continue
            name = (element.get("name") or "").strip()
            raw = self.text_of(element, "Text source")
            if raw is None:
                continue
            source = self._text_source(element, name, offsets.strip_bom(raw))
            if source is not None:
                found.append(source)
        return found

    def _position(self, element, attribute: str) -> int | None:
        try:
            return int((element.get(attribute) or "").strip())
        except ValueError:
            return None

    def _text_source(self, element, name: str, raw: str) -> Source | None:
        if len(raw) > self.max_chars:
            self.report.skip(f"Text source longer than {self.max_chars:,} characters")
            return None
        positions = offsets.PositionMap(raw, self.convention)
        normalised = offsets.NormalisedText.build(raw)
        if not normalised.text.strip():
            self.report.skip("Text source with an empty text")
            return None
        selections = []
        for sel in _children(element, "PlainTextSelection"):
            start, end = self._position(sel, "startPosition"), self._position(sel, "endPosition")
            if start is None or end is None:
                self.report.skip("Selection without valid start and end positions")
                continue
            if start > end:
                self.report.skip("Selection that ends before it starts")
                continue
            mapped = offsets.map_selection(positions, normalised, start, end)
            if mapped is None:
                self.report.skip("Empty selection (zero characters)")
                continue
            if mapped.clamped:
                self.report.skip("Selection reaching past the end of its text: clamped to the text's end")
            user = _guid(sel.get("creatingUser"))
            codings = [
                (_ref(c, "CodeRef"), _guid(c.get("creatingUser")) or user, _notes_of(c))
                for c in _children(sel, "Coding")
            ]
            selections.append(
                Selection(
                    guid=_guid(sel.get("guid")),
                    start=mapped.start,
                    end=mapped.end,
                    comment=_text_of(_child(sel, "Description")).strip(),
                    user=user,
                    codings=codings,
                    notes=_notes_of(sel),
                )
            )
        whole = [
            (_ref(c, "CodeRef"), _guid(c.get("creatingUser")), _notes_of(c))
            for c in _children(element, "Coding")
        ]
        if whole:
            selections.append(Selection(None, 0, len(normalised.text), "", None, whole, []))
        return Source(
            guid=_guid(element.get("guid")),
            name=name,
            text=normalised.text,
            selections=selections,
            notes=_notes_of(element),
            values=_values_of(element),
        )

    def notes(self) -> list[Note]:
        notes_el = _child(self.root, "Notes")
        found = []
        for element in _children(notes_el, "Note") if notes_el is not None else []:
            text = self.text_of(element, "Note")
            if text is None:
                continue
            text = offsets.strip_bom(text).replace("\r\n", "\n").replace("\r", "\n")
            if not text.strip():
                self.report.skip("Empty note")
                continue
            found.append(
                Note(
                    _guid(element.get("guid")),
                    (element.get("name") or "").strip(),
                    text,
                    _guid(element.get("creatingUser")),
                )
            )
        return found

    def links(self) -> list[tuple[str, str]]:
        links_el = _child(self.root, "Links")
        found = []
        for link in _children(links_el, "Link") if links_el is not None else []:
            origin, target = _guid(link.get("originGUID")), _guid(link.get("targetGUID"))
            if origin and target:
                found.append((origin, target))
        return found


def _check_root(root, expected: str, what: str, report: ImportReport, xml: bytes, *, codebook: bool):
    if local_name(root.tag) != expected:
        raise ValidationError(
            {"file": f"This is not a REFI-QDA {what} (its root element is not {expected})."}
        )
    ns = namespace(root.tag)
    if ns and not ns.startswith("urn:QDA-XML:"):
        raise ValidationError({"file": f"This is not a REFI-QDA {what} (unknown namespace {ns[:60]!r})."})
    official = CODEBOOK_NS if codebook else PROJECT_NS
    if ns != official:
        report.warnings.append(
            f"The file uses the namespace {ns or '(none)'!r} instead of {official!r}; "
            "it was read leniently and not checked against the schema."
        )
        return
    errors = schema_errors(xml, codebook=codebook, limit=3)
    if errors:
        report.warnings.append(
            "The file does not fully follow the REFI-QDA schema; what could be read was imported. "
            "First problems: " + "; ".join(errors)
        )


# ---------------------------------------------------------------- codebook merge


def _colour(value: str | None, report: ImportReport) -> str | None:
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        value = "#" + "".join(ch * 2 for ch in value[1:])
    try:
        colour_validator(value)
    except ValidationError:
        report.skip("Code colour that is not #RRGGBB (the default colour was used)")
        return None
    return value.lower()


def _clean_name(name: str, report: ImportReport) -> str:
    name = " ".join((name or "").split())
    if not name:
        report.skip("Code without a name (named 'Unnamed code')")
        return "Unnamed code"
    if len(name) > 120:
        report.skip("Code name longer than 120 characters (shortened)")
        name = name[:120]
    return name


def _free_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate.casefold() in taken:
        suffix = f" ({n})"
        candidate = name[: 120 - len(suffix)] + suffix
        n += 1
    taken.add(candidate.casefold())
    return candidate


def create_codes(
    *, project: Project, nodes: list[CodeNode], report: ImportReport
) -> dict[str, tuple[Code, CodeNode]]:
    """Create a whole codebook tree in an empty project; GUID -> (code, node)."""
    by_guid: dict[str, tuple[Code, CodeNode]] = {}

    def walk(parent: Code | None, siblings: list[CodeNode]):
        taken: set[str] = set()
        for order, node in enumerate(siblings):
            name = _clean_name(node.name, report)
            unique = _free_name(name, taken)
            if unique != name:
                report.skip("Code with the same name as a sibling (renamed with a number)")
            fields = parse_code_description(node.description)
            colour = _colour(node.colour, report)
            code = coding_services.create_code(
                project=project,
                parent=parent,
                name=unique,
                is_codable=node.codable,
                order=order,
                **({"colour": colour} if colour else {}),
                **fields,
            )
            report.counts["codes"] += 1
            if node.guid:
                if node.guid in by_guid:
                    report.skip("Code whose GUID another code already uses (its codings go to the first)")
                else:
                    by_guid[node.guid] = (code, node)
            walk(code, node.children)

    walk(None, nodes)
    return by_guid


def merge_codebook(*, project: Project, nodes: list[CodeNode], report: ImportReport) -> None:
    """Merge codes into the project's codebook by name path; report conflicts, never overwrite."""
    existing: dict[tuple[int | None, str], Code] = {
        (c.parent_id, c.name.casefold()): c for c in project.codes.all()
    }

    def walk(parent: Code | None, siblings: list[CodeNode], path: list[str]):
        for node in siblings:
            name = _clean_name(node.name, report)
            here = [*path, name]
            label = " > ".join(here)
            match = existing.get((parent.pk if parent else None, name.casefold()))
            fields = parse_code_description(node.description)
            colour = _colour(node.colour, report)
            if match is None:
                match = coding_services.create_code(
                    project=project,
                    parent=parent,
                    name=name,
                    is_codable=node.codable is not False,
                    **({"colour": colour} if colour else {}),
                    **fields,
                )
                existing[(match.parent_id, name.casefold())] = match
                report.counts["codes"] += 1
            else:
                report.counts["matched"] += 1
                differences = [
                    label_
                    for label_, ours, theirs in (
                        ("colour", match.colour, colour or match.colour),
                        (
                            "folder or codable",
                            match.is_codable,
                            match.is_codable if node.codable is None else node.codable,
                        ),
                        *[(f.replace("_", " "), getattr(match, f), v) for f, v in fields.items() if v],
                    )
                    if ours != theirs
                ]
                if differences:
                    report.warnings.append(
                        f"Conflict on {label!r}: the file has a different {', '.join(differences)}; "
                        "the project's version was kept."
                    )
                    report.counts["conflicts"] += 1
            walk(match, node.children, here)

    walk(None, nodes, [])


@transaction.atomic
def import_qdc(*, project: Project, data: bytes) -> ImportReport:
    """Merge a QDC codebook file into a project's codebook (by name path)."""
    report = ImportReport(project_id=project.pk)
    root = parse_xml(data, what="codebook file")
    if local_name(root.tag) == "Project":
        # A project file offered as a codebook: its codebook is what is wanted.
        codebook = _child(root, "CodeBook")
        if codebook is None:
            raise ValidationError({"file": "This project file has no codebook."})
        codes = _child(codebook, "Codes")
        report.warnings.append("This is a project file; only its codebook was imported.")
    else:
        _check_root(root, "CodeBook", "codebook", report, data, codebook=True)
        codes = _child(root, "Codes")
    nodes = _read_codes(codes) if codes is not None else []
    if not nodes:
        raise ValidationError({"file": "The codebook file has no codes."})
    merge_codebook(project=project, nodes=nodes, report=report)
    if _child(root, "Sets") is not None:
        report.skip("Code sets (not supported)")
    return report


# ---------------------------------------------------------------- QDPX


def _project_xml(archive: SafeZip) -> tuple[str, bytes]:
    qde = [n for n in archive.names() if "/" not in n and n.casefold().endswith(".qde")]
    if not qde:
        raise ValidationError({"file": "This archive has no project file (*.qde) at its top level."})
    if len(qde) > 1:
        raise ValidationError(
            {"file": "This archive has more than one project file (*.qde); which one is meant?"}
        )
    return qde[0], archive.read(archive.find(qde[0]))


def _key_for(label: str, taken: set[str]) -> str:
    base = slugify(label).replace("-", "_")[:55] or "attribute"
    key, n = base, 2
    while key in taken:
        key = f"{base}_{n}"
        n += 1
    taken.add(key)
    return key


def _choices_from(description: str) -> tuple[list[str] | None, bool, str]:
    """``(choices, multiple, rest of description)`` from our ``Allowed values`` line, if present."""
    lines = description.split("\n")
    last = lines[-1] if lines else ""
    for marker, multiple in ((ALLOWED_VALUES_MULTIPLE, True), (ALLOWED_VALUES, False)):
        if last.startswith(marker):
            try:
                choices = json.loads(last[len(marker) :])
            except ValueError:
                return None, False, description
            if (
                isinstance(choices, list)
                and choices
                and all(isinstance(c, str) and c.strip() for c in choices)
            ):
                return [c.strip() for c in choices], multiple, "\n".join(lines[:-1])
    return None, False, description


def _label_lookup(choices) -> dict[str, str]:
    return {label.casefold(): value for value, label in choices} | {v.casefold(): v for v, _ in choices}


class _Writer:
    def __init__(self, *, reader: _FileReader, owner, already_anonymised: bool, name: str | None, report):
        self.reader = reader
        self.owner = owner
        self.already_anonymised = already_anonymised
        self.name = name
        self.report = report
        self.comment_memos: list[tuple] = []
        self.coding_notes: list[tuple] = []
        self.source_notes: dict[str, list[str]] = {}

    # Users: the importer by name, everyone else a placeholder.
    def _users(self, user_names: dict[str, str], used: set[str]) -> dict[str, object]:
        owner_names = {
            self.owner.get_username().casefold(),
            (self.owner.get_full_name() or "").casefold(),
        } - {""}
        mapping = {}
        User = get_user_model()
        for guid in sorted(g for g in used if g):
            name = user_names.get(guid, "")
            if not name or name.casefold() in owner_names:
                mapping[guid] = self.owner
                continue
            if len(mapping) >= MAX_PLACEHOLDER_USERS:
                self.report.skip("Coder beyond the limit of 100 coders (their work is attributed to you)")
                mapping[guid] = self.owner
                continue
            username = f"imported-{slugify(name)[:40] or 'coder'}-{uuid.uuid4().hex[:8]}"
            user = User(username=username, first_name=name[:150], is_active=False)
            user.set_unusable_password()
            user.save()
            interview_services.add_member(project=self.project, user=user, role=Role.CODER)
            mapping[guid] = user
            self.report.counts["coders"] += 1
        return mapping

    def user(self, guid):
        return self.users.get(guid, self.owner)

    def write(self, *, users, codes, variables, cases, sources, notes, links, project_notes, description):
        reader_root = self.reader.root
        name = (self.name or reader_root.get("name") or "").strip()[:200] or "Imported project"
        self.project = interview_services.create_project(name=name, owner=self.owner, description=description)
        self.report.project_id = self.project.pk

        used_users = {note.user for note in notes}
        for source in sources:
            for selection in source.selections:
                used_users |= {u for _, u, _ in selection.codings} | {selection.user}
        self.users = self._users(users, used_users)

        code_map = create_codes(project=self.project, nodes=codes, report=self.report)
        attribute_of, special = self._variables(variables, cases, sources)
        participant_of_source = self._cases(cases, attribute_of, special)
        interview_of, selection_target = self._sources(
            sources, participant_of_source, attribute_of, special, code_map
        )
        self._notes(notes, links, project_notes, code_map, interview_of, selection_target)
        return self.project

    # Variables -> attribute definitions (and our own participant/interview fields).
    def _variables(self, variables, cases, sources):
        values_by_variable = defaultdict(list)
        for case in cases:
            for guid, _, text in case["values"]:
                values_by_variable[guid].append(text)
        source_variables = {guid for s in sources for guid, _, _ in s.values}
        special: dict[str, str] = {}
        interview_names = {label.casefold(): f for f, label in INTERVIEW_VARIABLES.items()}
        types = _label_lookup(ParticipantType.choices)
        for guid, variable in variables.items():
            folded = variable["name"].casefold()
            if folded == PARTICIPANT_TYPE_VARIABLE.casefold() and all(
                v.casefold() in types for v in values_by_variable[guid]
            ):
                special[guid] = "participant_type"
            elif folded in interview_names and guid in source_variables and guid not in values_by_variable:
                special[guid] = interview_names[folded]
        attribute_of = {}
        taken: set[str] = set()
        for order, (guid, variable) in enumerate(variables.items()):
            if guid in special:
                continue
            label = (variable["name"] or f"Variable {order + 1}")[:120]
            choices, multiple, rest = _choices_from(variable["description"])
            kind = {
                "integer": AttributeKind.INTEGER,
                "float": AttributeKind.DECIMAL,
                "boolean": AttributeKind.BOOLEAN,
                "date": AttributeKind.DATE,
                "datetime": AttributeKind.DATE,
            }.get(variable["type"].casefold(), AttributeKind.TEXT)
            if variable["type"].casefold() == "datetime":
                self.report.skip("Date-and-time variable (imported as a date; the time was dropped)")
            if kind == AttributeKind.TEXT and choices:
                kind = AttributeKind.CATEGORICAL
                seen = {c.casefold() for c in choices}
                for text in values_by_variable[guid]:
                    for v in text.split(MULTIPLE_SEPARATOR) if multiple else [text]:
                        if v and v.casefold() not in seen:
                            choices.append(v)
                            seen.add(v.casefold())
            definition = interview_services.create_attribute_definition(
                project=self.project,
                key=_key_for(label, taken),
                label=label,
                kind=kind,
                choices=choices if kind == AttributeKind.CATEGORICAL else None,
                multiple=multiple and kind == AttributeKind.CATEGORICAL,
                description=rest,
                order=order,
            )
            attribute_of[guid] = definition
            self.report.counts["variables"] += 1
        return attribute_of, special

    def _typed(self, definition, text: str):
        kind = definition.kind
        if kind == AttributeKind.CATEGORICAL:
            lookup = {c.casefold(): c for c in definition.choices}
            if definition.multiple:
                return [lookup.get(v.casefold(), v) for v in text.split(MULTIPLE_SEPARATOR) if v]
            return lookup.get(text.casefold(), text)
        if kind == AttributeKind.BOOLEAN:
            folded = text.casefold()
            if folded in ("true", "1", "yes"):
                return True
            if folded in ("false", "0", "no"):
                return False
            return text
        if kind == AttributeKind.DATE:
            return text[:10]
        if kind == AttributeKind.DECIMAL:
            try:
                return str(Decimal(text))
            except InvalidOperation:
                return text
        return text

    def _set_values(self, participant, values, attribute_of, already: set[str]):
        for guid, _, text in values:
            definition = attribute_of.get(guid)
            if definition is None or definition.key in already:
                continue
            if text == "" and definition.kind != AttributeKind.TEXT:
                continue
            try:
                interview_services.set_participant_attributes(
                    participant=participant, values={definition.key: self._typed(definition, text)}
                )
            except ValidationError:
                self.report.skip(f"Value of {definition.label!r} that does not fit its type")
                continue
            already.add(definition.key)

    def _free_pseudonym(self, wanted: str) -> str:
        wanted = " ".join(wanted.split())[:40]
        if wanted and wanted.casefold() not in self.pseudonyms:
            self.pseudonyms.add(wanted.casefold())
            return wanted
        while True:
            self.generated += 1
            candidate = f"P{self.generated:03d}"
            if candidate.casefold() not in self.pseudonyms:
                self.pseudonyms.add(candidate.casefold())
                return candidate

    def _cases(self, cases, attribute_of, special):
        self.pseudonyms: set[str] = set()
        self.generated = 0
        self.participant_values: dict[int, set[str]] = {}
        self.participants_by_case: dict[str, object] = {}
        participant_of_source = {}
        types = _label_lookup(ParticipantType.choices)
        for case in cases:
            participant_type = ParticipantType.BORDER_CROSSER
            for guid, _, text in case["values"]:
                if special.get(guid) == "participant_type":
                    participant_type = types[text.casefold()]
            pseudonym = self._free_pseudonym(case["name"])
            if case["name"] and pseudonym != " ".join(case["name"].split())[:40]:
                self.report.skip("Case name used twice (the second got a generated pseudonym)")
            participant = interview_services.create_participant(
                project=self.project, pseudonym=pseudonym, participant_type=participant_type
            )
            self.report.counts["cases"] += 1
            already: set[str] = set()
            self._set_values(participant, case["values"], attribute_of, already)
            self.participant_values[participant.pk] = already
            if case["guid"]:
                self.participants_by_case[case["guid"]] = participant
            for source_guid in case["sources"]:
                if source_guid in participant_of_source:
                    self.report.skip("Source in more than one case (kept with the first)")
                elif source_guid:
                    participant_of_source[source_guid] = participant
            if case["ignored"]:
                self.report.skip("Code or selection reference on a case (not supported)", case["ignored"])
        return participant_of_source

    def _interview_fields(self, source: Source, special) -> dict:
        fields = {}
        modes = _label_lookup(InterviewMode.choices)
        for guid, _, text in source.values:
            f = special.get(guid)
            if f == "interview_date":
                try:
                    fields[f] = dt.date.fromisoformat(text[:10])
                except ValueError:
                    self.report.skip("Interview date that is not a date")
            elif f == "mode":
                if text.casefold() in modes:
                    fields[f] = modes[text.casefold()]
                else:
                    self.report.skip("Interview mode that is not one of ours")
            elif f in ("language", "interviewer_pseudonym"):
                fields[f] = text[:40]
        return fields

    def _sources(self, sources, participant_of_source, attribute_of, special, code_map):
        interview_of = {}
        selection_target: dict[str, tuple] = {}
        pending: list[tuple[Coding, list[str], str | None]] = []
        seen_keys = set()
        members = {self.owner.pk, *[u.pk for u in self.users.values()]}
        for n, source in enumerate(sources, 1):
            participant = participant_of_source.get(source.guid)
            if participant is None:
                participant = interview_services.create_participant(
                    project=self.project, pseudonym=self._free_pseudonym("")
                )
                self.participant_values[participant.pk] = set()
                self.report.skip("Source not linked to any case (given a new participant)")
            self._set_values(
                participant, source.values, attribute_of, self.participant_values[participant.pk]
            )
            title = (source.name or f"Source {n}")[:200]
            interview = interview_services.create_interview(
                participant=participant,
                title=title,
                text=source.text,
                anonymised_by=self.owner if self.already_anonymised else None,
                **self._interview_fields(source, special),
            )
            self.report.counts["sources"] += 1
            if source.guid:
                interview_of[source.guid] = interview
            for selection in source.selections:
                first = None
                if not selection.codings and not selection.comment and not selection.notes:
                    self.report.skip("Selection without any coding, comment or note")
                for code_guid, user_guid, note_guids in selection.codings:
                    found = code_map.get(code_guid)
                    if found is None:
                        self.report.skip("Coding with a code that is not in the codebook")
                        continue
                    code = found[0]
                    if not code.is_codable:
                        self.report.skip("Coding with a folder code (isCodable=false)")
                        continue
                    coder = self.user(user_guid)
                    if coder.pk not in members:
                        coder = self.owner
                    key = (interview.pk, code.pk, coder.pk, selection.start, selection.end)
                    if key in seen_keys:
                        self.report.skip("Duplicate coding (same passage, code and coder)")
                        continue
                    seen_keys.add(key)
                    coding = Coding(
                        project=self.project,
                        interview=interview,
                        code=code,
                        coder=coder,
                        start=selection.start,
                        end=selection.end,
                        comment=selection.comment,
                    )
                    pending.append((coding, note_guids, selection.guid))
                    first = first or coding
                if selection.guid:
                    selection_target[selection.guid] = (interview, first, selection)
                if first is None and selection.comment:
                    self.comment_memos.append((interview, selection))
        Coding.objects.bulk_create([c for c, _, _ in pending], batch_size=500)
        self.report.counts["codings"] += len(pending)
        for coding, note_guids, _ in pending:
            for note in note_guids:
                self.coding_notes.append((note, coding))
        return interview_of, selection_target

    def _notes(self, notes, links, project_notes, code_map, interview_of, selection_target):
        targets: dict[str, list] = defaultdict(list)
        for guid in project_notes:
            targets[guid].append(None)
        for code, node in code_map.values():
            for guid in node.notes:
                targets[guid].append(code)
        for source_guid, interview in interview_of.items():
            for guid in self.source_notes.get(source_guid, []):
                targets[guid].append(interview)
        for guid, coding in self.coding_notes:
            targets[guid].append(coding)
        for interview, first, selection in selection_target.values():
            for guid in selection.notes:
                targets[guid].append(first or interview)
        things = {g: c for g, (c, _) in code_map.items()} | interview_of | self.participants_by_case
        things |= {g: (first or interview) for g, (interview, first, _) in selection_target.items()}
        note_guids = {n.guid for n in notes}
        for origin, target in links:
            if origin in note_guids and target in things:
                targets[origin].append(things[target])
            elif target in note_guids and origin in things:
                targets[target].append(things[origin])
        for note in notes:
            found = targets.get(note.guid, [None])
            if len(found) > 1:
                self.report.skip("Note attached to several things (kept on the first)")
            coding_services.create_memo(
                project=self.project,
                author=self.user(note.user),
                text=note.text,
                title=note.name[:200],
                target=found[0],
            )
            self.report.counts["notes"] += 1
        for interview, selection in self.comment_memos:
            quote = interview.text[selection.start : selection.end]
            coding_services.create_memo(
                project=self.project,
                author=self.user(selection.user),
                text=f"{selection.comment}\n\n“{quote[:500]}”",
                title=f"Comment on passage {selection.start}–{selection.end}",
                target=interview,
            )
            self.report.counts["notes"] += 1
            self.report.skip("Selection with a comment but no coding (imported as an interview memo)")


def import_qdpx(
    *, data: bytes, owner, already_anonymised: bool = False, name: str | None = None
) -> ImportReport:
    """Create a new project, owned by ``owner``, from a QDPX archive. Nothing is written if it fails."""
    report = ImportReport()
    archive = SafeZip(data)
    _, xml = _project_xml(archive)
    root = parse_xml(xml, what="project file")
    _check_root(root, "Project", "project", report, xml, codebook=False)
    reader = _FileReader(root, archive, report)
    sources_el = _child(root, "Sources")
    source_notes = {}
    for element in list(sources_el) if sources_el is not None else []:
        if local_name(element.tag) == "TextSource" and _guid(element.get("guid")):
            source_notes[_guid(element.get("guid"))] = _notes_of(element)
    parsed = {
        "users": reader.users(),
        "codes": reader.codes(),
        "variables": reader.variables(),
        "cases": reader.cases(),
        "sources": reader.sources(),
        "notes": reader.notes(),
        "links": reader.links(),
        "project_notes": _notes_of(root),
        "description": _text_of(_child(root, "Description")),
    }
    for skipped in ("Sets", "Graphs"):
        if _child(root, skipped) is not None:
            report.skip(f"{skipped} (not supported)")
    writer = _Writer(
        reader=reader, owner=owner, already_anonymised=already_anonymised, name=name, report=report
    )
    writer.source_notes = source_notes
    with transaction.atomic():
        # One summary event for the whole new project, not one per code, coding and note.
        with audit.summarised():
            writer.write(**parsed)
        audit.record(
            project=writer.project,
            action="project.imported",
            target_type="project",
            target_id=writer.project.pk,
            after={"format": "qdpx", "already_anonymised": already_anonymised, "counts": dict(report.counts)},
        )
    if not already_anonymised and report.counts["sources"]:
        report.warnings.append(
            "The imported transcripts are drafts: review and mark each one anonymised before coding it."
        )
    return report
