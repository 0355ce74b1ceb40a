"""Export a project as REFI-QDA: a QDPX archive (``project.qde`` + ``sources/``) or a QDC codebook.

What we write (see ``../shared/refi-qda/NOTES.md`` for why):

* transcripts as ``sources/<GUID>.txt``: UTF-8 without BOM, ``\\n`` line
  endings (our stored text, byte for byte), always referenced with
  ``plainTextPath="internal://<GUID>.txt"``;
* selections in code points, end exclusive: our offsets unchanged;
* one ``PlainTextSelection`` per coding, its comment as the selection's
  ``Description`` (what ATLAS.ti and MAXQDA do), the coder as ``creatingUser``;
* GUIDs from the models' ``guid`` fields, so the same object has the same GUID
  in every export; users (which have no guid field) and derived elements get a
  ``uuid5`` of a stable parent GUID;
* participants as ``Case``s with their attributes as ``VariableValue``s, and the
  interview's date, language, mode and interviewer as source variables;
* memos as ``Note``s attached with ``NoteRef`` (memos on participants through a
  ``Link``, since a ``Case`` cannot carry a ``NoteRef``);
* no empty container element, and ``origin`` always set.

The archive is deterministic (fixed member timestamps), so exporting an
unchanged project twice gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from lxml import etree

from interviews.models import (
    AttributeDefinition,
    AttributeKind,
    AttributeValue,
    InterviewMode,
    ParticipantType,
    Project,
    SpeakerTurn,
)

from ..models import Code, Coding, Memo, MemoKind
from .schema import CODEBOOK_NS, ORIGIN, PROJECT_NS

# Variables we add for fields the models keep outside the attribute table.
PARTICIPANT_TYPE_VARIABLE = "Participant type"
INTERVIEW_VARIABLES = {
    "interview_date": "Interview date",
    "language": "Interview language",
    "mode": "Interview mode",
    "interviewer_pseudonym": "Interviewer",
}
ALLOWED_VALUES = "Allowed values: "
ALLOWED_VALUES_MULTIPLE = "Allowed values (several may apply): "
MULTIPLE_SEPARATOR = "; "
CODE_SECTIONS = ("Inclusion criteria", "Exclusion criteria", "Example")
PARTICIPANT_MEMO_LINK = "Memo on participant"

_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Characters XML 1.0 cannot carry at all.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    return _XML_ILLEGAL.sub("", text or "")


def _when(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def derived_guid(parent: uuid.UUID, what: str) -> str:
    """A stable GUID for something that has no guid field of its own."""
    return str(uuid.uuid5(parent, what))


def user_guid(project: Project, user_id: int) -> str:
    return derived_guid(project.guid, f"user:{user_id}")


def code_description(code: Code) -> str:
    """Definition, inclusion and exclusion criteria and example in one labelled text."""
    parts = [code.definition] if code.definition else []
    for label, value in zip(
        CODE_SECTIONS, (code.inclusion_criteria, code.exclusion_criteria, code.example), strict=True
    ):
        if value:
            parts.append(f"{label}:\n{value}")
    return "\n\n".join(parts)


def parse_code_description(text: str) -> dict[str, str]:
    """The inverse of ``code_description``; a description without the labels is all definition."""
    text = text or ""
    pieces = re.split(r"(?:^|\n\n)(" + "|".join(CODE_SECTIONS) + r"):\n", text)
    fields = {"definition": pieces[0], "inclusion_criteria": "", "exclusion_criteria": "", "example": ""}
    names = dict(zip(CODE_SECTIONS, ("inclusion_criteria", "exclusion_criteria", "example"), strict=True))
    labels = pieces[1::2]
    if len(set(labels)) != len(labels):
        return {**fields, "definition": text}
    for label, body in zip(labels, pieces[2::2], strict=True):
        fields[names[label]] = body
    return fields


@dataclass
class ExportResult:
    data: bytes
    filename: str
    not_carried: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _sub(parent, tag: str, ns: str, **attrs):
    element = etree.SubElement(parent, f"{{{ns}}}{tag}")
    for key, value in attrs.items():
        if value is not None and value != "":
            # Only free text can hold characters XML refuses; numbers and GUIDs cannot.
            element.set(key, _x(value) if isinstance(value, str) else str(value))
    return element


def _text(parent, tag: str, ns: str, text: str):
    element = _sub(parent, tag, ns)
    element.text = _x(text)
    return element


def _codes_tree(project: Project) -> tuple[list[Code], dict[int | None, list[Code]]]:
    codes = list(project.codes.order_by("order", "name", "id"))
    children: dict[int | None, list[Code]] = defaultdict(list)
    for code in codes:
        children[code.parent_id].append(code)
    return codes, children


def _add_codes(parent, ns, children, parent_id, *, note_refs=None):
    for code in children.get(parent_id, []):
        element = _sub(
            parent,
            "Code",
            ns,
            guid=code.guid,
            name=code.name,
            isCodable="true" if code.is_codable else "false",
            color=code.colour.upper(),
        )
        description = code_description(code)
        if description:
            _text(element, "Description", ns, description)
        for note_guid in (note_refs or {}).get(code.pk, []):
            _sub(element, "NoteRef", ns, targetGUID=note_guid)
        _add_codes(element, ns, children, code.pk, note_refs=note_refs)


def _safe_filename(name: str, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60] or "project"
    return f"{stem}{suffix}"


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


# ---------------------------------------------------------------- values


def _variable_type(definition: AttributeDefinition) -> str:
    return {
        AttributeKind.INTEGER: "Integer",
        AttributeKind.DECIMAL: "Float",
        AttributeKind.DATE: "Date",
        AttributeKind.BOOLEAN: "Boolean",
    }.get(definition.kind, "Text")


def _variable_description(definition: AttributeDefinition) -> str:
    lines = [definition.description] if definition.description else []
    if definition.kind == AttributeKind.CATEGORICAL:
        marker = ALLOWED_VALUES_MULTIPLE if definition.multiple else ALLOWED_VALUES
        lines.append(marker + json.dumps(definition.choices, ensure_ascii=False))
    return "\n".join(lines)


def _value_element(definition: AttributeDefinition, rows: list[AttributeValue]) -> tuple[str, str] | None:
    if not rows:
        return None
    row = rows[0]
    kind = definition.kind
    if kind == AttributeKind.CATEGORICAL:
        texts = [r.value_text for r in rows if r.value_text is not None]
        if definition.multiple:
            order = {c: i for i, c in enumerate(definition.choices)}
            texts.sort(key=lambda t: order.get(t, len(order)))
        return "TextValue", MULTIPLE_SEPARATOR.join(texts)
    if kind == AttributeKind.INTEGER and row.value_number is not None:
        return "IntegerValue", str(int(row.value_number))
    if kind == AttributeKind.DECIMAL and row.value_number is not None:
        return "FloatValue", format(row.value_number.normalize(), "f")
    if kind == AttributeKind.DATE and row.value_date is not None:
        return "DateValue", row.value_date.isoformat()
    if kind == AttributeKind.BOOLEAN and row.value_bool is not None:
        return "BooleanValue", "true" if row.value_bool else "false"
    if kind == AttributeKind.TEXT and row.value_text is not None:
        return "TextValue", row.value_text
    return None


def _add_value(parent, ns, variable_guid: str, tag: str, value: str):
    element = _sub(parent, "VariableValue", ns)
    _sub(element, "VariableRef", ns, targetGUID=variable_guid)
    _text(element, tag, ns, value)


# ---------------------------------------------------------------- QDPX


def not_carried_report(project: Project) -> list[str]:
    """What the standard cannot carry, with this project's numbers (shown before and after export)."""
    turns = SpeakerTurn.objects.filter(interview__project=project).count()
    flagged = Coding.objects.filter(project=project, needs_review=True).count()
    drafts = project.interviews.filter(anonymised_at__isnull=True).count()
    lines = [
        f"Draft transcripts not yet marked anonymised ({drafts}): left out, with their codings and memos; "
        "only anonymised transcripts leave the app.",
        f"Speaker turns and their roles ({turns} turns): REFI-QDA has no speaker turns; "
        "the speaker labels written in the transcript text are kept.",
        "Interview status and the anonymisation record (who marked a transcript anonymised, when): "
        "not carried; an imported copy must be marked anonymised again.",
        "Transcript revision history and redaction logs: not carried (only the current text is exported).",
        f"Codings flagged for review after a transcript edit ({flagged}): the flag is not carried.",
        "Agreement between coders: not carried; it can be recomputed from the codings "
        "(each keeps its coder).",
        "Member roles (owner, supervisor, coder, viewer): not carried; only user names are exported.",
        "Code shortcut keys and code order: not carried (codes are written in their codebook order).",
        "Allowed values of categorical attributes: written into the variable's description, "
        "which other tools show as plain text.",
    ]
    return lines


def export_qdpx(project: Project, *, progress=None) -> ExportResult:
    """The project as a QDPX archive; ``progress(done, total)`` is called after each transcript."""
    ns = PROJECT_NS
    codes, children = _codes_tree(project)
    # Only anonymised transcripts leave the app: a draft may still hold names.
    interviews = list(
        project.interviews.filter(anonymised_at__isnull=False)
        .select_related("participant")
        .order_by("participant__pseudonym", "id")
    )
    participants = list(project.participants.order_by("pseudonym", "id"))
    definitions = list(project.attribute_definitions.order_by("order", "id"))
    values: dict[tuple[int, int], list[AttributeValue]] = defaultdict(list)
    for row in AttributeValue.objects.filter(participant__project=project).order_by(
        "participant_id", "definition_id", "id"
    ):
        values[(row.participant_id, row.definition_id)].append(row)
    codings = list(
        Coding.objects.filter(project=project, interview__anonymised_at__isnull=False).order_by(
            "interview_id", "start", "end", "id"
        )
    )
    memos = list(
        Memo.objects.filter(project=project)
        .exclude(interview__anonymised_at__isnull=True, kind=MemoKind.INTERVIEW)
        .exclude(coding__interview__anonymised_at__isnull=True, kind=MemoKind.CODING)
        .order_by("created_at", "id")
    )

    user_ids = set(project.memberships.values_list("user_id", flat=True))
    user_ids |= {c.coder_id for c in codings} | {m.author_id for m in memos}
    users = list(get_user_model().objects.filter(pk__in=user_ids).order_by("username"))
    guid_of_user = {u.pk: user_guid(project, u.pk) for u in users}
    code_guid = {c.pk: str(c.guid) for c in codes}
    participant_guid = {p.pk: str(p.guid) for p in participants}

    note_refs: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    participant_links: list[tuple[str, str]] = []
    for memo in memos:
        target = {
            MemoKind.PROJECT: None,
            MemoKind.CODE: memo.code_id,
            MemoKind.INTERVIEW: memo.interview_id,
            MemoKind.CODING: memo.coding_id,
            MemoKind.PARTICIPANT: memo.participant_id,
        }[memo.kind]
        if memo.kind == MemoKind.PARTICIPANT:
            participant_links.append((str(memo.guid), participant_guid[memo.participant_id]))
        else:
            note_refs[(memo.kind, target)].append(str(memo.guid))

    root = etree.Element(f"{{{ns}}}Project", nsmap={None: ns})
    root.set("name", _x(project.name))
    root.set("origin", ORIGIN)
    root.set("creationDateTime", _when(project.created_at))
    root.set("modifiedDateTime", _when(project.updated_at))

    if users:
        users_el = _sub(root, "Users", ns)
        for user in users:
            _sub(users_el, "User", ns, guid=guid_of_user[user.pk], name=user.get_full_name() or user.username)

    if codes:
        codebook = _sub(root, "CodeBook", ns)
        codes_el = _sub(codebook, "Codes", ns)
        _add_codes(
            codes_el,
            ns,
            children,
            None,
            note_refs={pk: refs for (kind, pk), refs in note_refs.items() if kind == MemoKind.CODE},
        )

    # Variables: the participant type, the attribute definitions, and the
    # interview fields that are used at all.
    interview_fields = [
        f for f in INTERVIEW_VARIABLES if any(getattr(i, f) not in (None, "") for i in interviews)
    ]
    variable_guid = {d.pk: str(d.guid) for d in definitions}
    type_guid = derived_guid(project.guid, "variable:participant_type")
    interview_guid = {f: derived_guid(project.guid, f"variable:{f}") for f in interview_fields}
    if participants or interview_fields:
        variables = _sub(root, "Variables", ns)
        if participants:
            variable = _sub(variables, "Variable", ns, guid=type_guid, name=PARTICIPANT_TYPE_VARIABLE)
            variable.set("typeOfVariable", "Text")
            _text(
                variable,
                "Description",
                ns,
                ALLOWED_VALUES + json.dumps([label for _, label in ParticipantType.choices]),
            )
        for definition in definitions:
            variable = _sub(
                variables, "Variable", ns, guid=variable_guid[definition.pk], name=definition.label
            )
            variable.set("typeOfVariable", _variable_type(definition))
            description = _variable_description(definition)
            if description:
                _text(variable, "Description", ns, description)
        for f in interview_fields:
            kind = "Date" if f == "interview_date" else "Text"
            variable = _sub(
                variables,
                "Variable",
                ns,
                guid=interview_guid[f],
                name=INTERVIEW_VARIABLES[f],
                typeOfVariable=kind,
            )
            if f == "mode":
                _text(
                    variable,
                    "Description",
                    ns,
                    ALLOWED_VALUES + json.dumps([lbl for _, lbl in InterviewMode.choices]),
                )

    interviews_of = defaultdict(list)
    for interview in interviews:
        interviews_of[interview.participant_id].append(interview)
    if participants:
        cases = _sub(root, "Cases", ns)
        for participant in participants:
            case = _sub(cases, "Case", ns, guid=participant.guid, name=participant.pseudonym)
            _add_value(case, ns, type_guid, "TextValue", participant.get_participant_type_display())
            for definition in definitions:
                found = _value_element(definition, values.get((participant.pk, definition.pk), []))
                if found:
                    _add_value(case, ns, variable_guid[definition.pk], *found)
            for interview in interviews_of[participant.pk]:
                _sub(case, "SourceRef", ns, targetGUID=interview.guid)

    codings_of = defaultdict(list)
    for coding in codings:
        codings_of[coding.interview_id].append(coding)
    coding_notes = {pk: refs for (kind, pk), refs in note_refs.items() if kind == MemoKind.CODING}
    interview_notes = {pk: refs for (kind, pk), refs in note_refs.items() if kind == MemoKind.INTERVIEW}
    members: list[tuple[str, bytes]] = []
    if interviews:
        sources = _sub(root, "Sources", ns)
        for done, interview in enumerate(interviews, 1):
            guid = str(interview.guid)
            source = _sub(
                sources,
                "TextSource",
                ns,
                guid=guid,
                name=interview.title,
                plainTextPath=f"internal://{guid}.txt",
                creationDateTime=_when(interview.created_at),
                modifiedDateTime=_when(interview.updated_at),
            )
            text = interview.text
            for coding in codings_of[interview.pk]:
                selection = _sub(
                    source,
                    "PlainTextSelection",
                    ns,
                    guid=derived_guid(coding.guid, "selection"),
                    name=text[coding.start : coding.end][:100],
                    startPosition=coding.start,
                    endPosition=coding.end,
                    creatingUser=guid_of_user[coding.coder_id],
                    creationDateTime=_when(coding.created_at),
                    modifiedDateTime=_when(coding.updated_at),
                )
                if coding.comment:
                    _text(selection, "Description", ns, coding.comment)
                coding_el = _sub(
                    selection,
                    "Coding",
                    ns,
                    guid=coding.guid,
                    creatingUser=guid_of_user[coding.coder_id],
                    creationDateTime=_when(coding.created_at),
                )
                _sub(coding_el, "CodeRef", ns, targetGUID=code_guid[coding.code_id])
                for note in coding_notes.get(coding.pk, []):
                    _sub(coding_el, "NoteRef", ns, targetGUID=note)
            for note in interview_notes.get(interview.pk, []):
                _sub(source, "NoteRef", ns, targetGUID=note)
            for f in interview_fields:
                value = getattr(interview, f)
                if value in (None, ""):
                    continue
                if f == "interview_date":
                    _add_value(source, ns, interview_guid[f], "DateValue", value.isoformat())
                elif f == "mode":
                    _add_value(source, ns, interview_guid[f], "TextValue", interview.get_mode_display())
                else:
                    _add_value(source, ns, interview_guid[f], "TextValue", value)
            members.append((f"sources/{guid}.txt", text.encode("utf-8")))
            if progress is not None:
                progress(done, len(interviews))

    if memos:
        notes = _sub(root, "Notes", ns)
        for memo in memos:
            note = _sub(
                notes,
                "Note",
                ns,
                guid=memo.guid,
                name=memo.title,
                creatingUser=guid_of_user[memo.author_id],
                creationDateTime=_when(memo.created_at),
                modifiedDateTime=_when(memo.updated_at),
            )
            _text(note, "PlainTextContent", ns, memo.text)

    if participant_links:
        links = _sub(root, "Links", ns)
        for note_guid, case_guid in participant_links:
            _sub(
                links,
                "Link",
                ns,
                guid=derived_guid(uuid.UUID(note_guid), "link"),
                name=PARTICIPANT_MEMO_LINK,
                direction="OneWay",
                originGUID=note_guid,
                targetGUID=case_guid,
            )

    if project.description:
        _text(root, "Description", ns, project.description)
    for note in note_refs.get((MemoKind.PROJECT, None), []):
        _sub(root, "NoteRef", ns, targetGUID=note)

    qde = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    data = _zip([("project.qde", qde), *members])
    return ExportResult(
        data=data,
        filename=_safe_filename(project.name, ".qdpx"),
        not_carried=not_carried_report(project),
        counts={
            "users": len(users),
            "codes": len(codes),
            "sources": len(interviews),
            "codings": len(codings),
            "cases": len(participants),
            "variables": len(definitions) + (1 if participants else 0) + len(interview_fields),
            "notes": len(memos),
        },
    )


def project_qde(data: bytes) -> bytes:
    """The ``project.qde`` of a QDPX archive we wrote (for tests and checks)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("project.qde")


# ---------------------------------------------------------------- QDC


def export_qdc(project: Project) -> ExportResult:
    codes, children = _codes_tree(project)
    if not codes:
        raise ValidationError({"codebook": "The codebook is empty; add codes before exporting it."})
    ns = CODEBOOK_NS
    root = etree.Element(f"{{{ns}}}CodeBook", nsmap={None: ns})
    root.set("origin", ORIGIN)
    codes_el = _sub(root, "Codes", ns)
    _add_codes(codes_el, ns, children, None)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return ExportResult(
        data=data,
        filename=_safe_filename(project.name, "-codebook.qdc"),
        not_carried=[
            "Code memos, shortcut keys and code order: not part of a codebook file.",
        ],
        counts={"codes": len(codes)},
    )
