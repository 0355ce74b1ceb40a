"""Writes for projects, members, participants, attributes and interviews.

One keyword-only function per thing a user does, each in a transaction. Data
rules that need more than one row are checked here and reported as
``ValidationError({field: message})``; the API turns those into 400 answers.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from . import audit
from .errors import AlreadyExists
from .models import (
    AttributeDefinition,
    AttributeKind,
    AttributeValue,
    Interview,
    InterviewStatus,
    Membership,
    Participant,
    Project,
    RedactionLog,
    Role,
    SpeakerRole,
    SpeakerTurn,
    TranscriptRevision,
    text_sha256,
)
from .text import TextEdit, apply_edits, clean_edits, normalise_text, remap_range

# ---------------------------------------------------------------- projects


@transaction.atomic
def create_project(*, name: str, owner, description: str = "") -> Project:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the project a name."})
    project = Project.objects.create(name=name, description=description)
    membership = Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    audit.record(
        project=project,
        action="project.created",
        target_type="project",
        target_id=project.pk,
        after={"name": project.name, "owner": _member_snapshot(membership)},
    )
    return project


@transaction.atomic
def update_project(
    *,
    project: Project,
    name: str | None = None,
    description: str | None = None,
    min_cell_size: int | None = None,
):
    if name is not None:
        if not name.strip():
            raise ValidationError({"name": "Give the project a name."})
        project.name = name.strip()
    if description is not None:
        project.description = description
    if min_cell_size is not None:
        if not 0 <= min_cell_size <= 100:
            raise ValidationError({"min_cell_size": "Give a number from 0 (show every count) to 100."})
        _change_project_option(project, "min_cell_size", min_cell_size)
    project.save()
    return project


def _change_project_option(project: Project, option: str, value) -> None:
    """Set one of the project's options, with an audit row when it really changes (the caller saves)."""
    if getattr(project, option) != value:
        audit.record(
            project=project,
            action=f"project.{option}_changed",
            target_type="project",
            target_id=project.pk,
            before={option: getattr(project, option)},
            after={option: value},
        )
        setattr(project, option, value)


@transaction.atomic
def set_blind_coding(*, project: Project, blind_coding: bool) -> Project:
    """Switch blind coding for the whole project: coders see only their own codings on an
    interview until a supervisor reveals it. (Owners and supervisors may; the caller checks.)"""
    _change_project_option(project, "blind_coding", bool(blind_coding))
    project.save(update_fields=["blind_coding", "updated_at"])
    return project


@transaction.atomic
def set_two_factor_requirement(*, project: Project, required: bool, verified: bool) -> Project:
    """Require (or stop requiring) two-factor authentication of every member (the owner's
    decision; the caller checks the role). ``verified``: whether the owner making the change
    gave a second factor in this session or token; turning the requirement on needs it, so
    an owner cannot lock themselves out."""
    required = bool(required)
    if required and not verified:
        raise ValidationError(
            {
                "require_two_factor": "Set up two-factor authentication for your own account and "
                "sign in with it before requiring it of every member."
            }
        )
    _change_project_option(project, "require_two_factor", required)
    project.save(update_fields=["require_two_factor", "updated_at"])
    return project


@transaction.atomic
def delete_project(*, project: Project) -> None:
    # The audit trail's guard (migration 0004) lets its events go only with their project.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.deleting_project', %s, true)", [str(project.pk)])
    # Codings and codes protect each other; remove the coded layer first.
    project.codings.all().delete()
    project.memos.all().delete()
    for code in project.codes.order_by("-id"):
        code.children.update(parent=None)
    project.codes.all().delete()
    project.interviews.all().delete()
    project.delete()


# ---------------------------------------------------------------- members


def _member_snapshot(membership: Membership) -> dict:
    return {
        "user_id": membership.user_id,
        "username": membership.user.get_username(),
        "role": membership.role,
    }


def _record_member(action: str, membership: Membership, before, after) -> None:
    audit.record(
        project=membership.project_id,
        action=action,
        target_type="member",
        target_id=membership.pk,
        before=before,
        after=after,
    )


@transaction.atomic
def add_member(*, project: Project, user, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    if Membership.objects.filter(project=project, user=user).exists():
        raise AlreadyExists({"user": "This person is already a member of the project."})
    membership = Membership.objects.create(project=project, user=user, role=role)
    _record_member("member.added", membership, None, _member_snapshot(membership))
    return membership


def _ensure_an_owner_remains(membership: Membership, new_role: str | None) -> None:
    if membership.role != Role.OWNER or new_role == Role.OWNER:
        return
    others = (
        Membership.objects.select_for_update()
        .filter(project_id=membership.project_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
    )
    if not others.exists():
        raise ValidationError({"role": "A project needs at least one owner; make someone else owner first."})


@transaction.atomic
def change_member_role(*, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    _ensure_an_owner_remains(membership, role)
    before = _member_snapshot(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    if before["role"] != role:
        _record_member("member.role_changed", membership, before, _member_snapshot(membership))
    return membership


@transaction.atomic
def remove_member(*, membership: Membership) -> None:
    _ensure_an_owner_remains(membership, None)
    before, pk = _member_snapshot(membership), membership.pk
    membership.delete()
    membership.pk = pk
    _record_member("member.removed", membership, before, None)


# ---------------------------------------------------------------- attributes


def _clean_choices(kind: str, choices, multiple: bool) -> list[str]:
    if kind != AttributeKind.CATEGORICAL:
        if choices:
            raise ValidationError({"choices": "Only categorical attributes have a list of values."})
        if multiple:
            raise ValidationError({"multiple": "Only categorical attributes can take several values."})
        return []
    if not isinstance(choices, list) or not choices:
        raise ValidationError({"choices": "List the values a categorical attribute may take."})
    cleaned = []
    for choice in choices:
        if not isinstance(choice, str) or not choice.strip():
            raise ValidationError({"choices": "Each value must be a non-empty piece of text."})
        cleaned.append(choice.strip())
    if len({c.casefold() for c in cleaned}) != len(cleaned):
        raise ValidationError({"choices": "A value appears twice in the list."})
    return cleaned


@transaction.atomic
def create_attribute_definition(
    *,
    project: Project,
    key: str,
    label: str = "",
    kind: str,
    choices=None,
    multiple: bool = False,
    description: str = "",
    order: int = 0,
) -> AttributeDefinition:
    if kind not in AttributeKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(AttributeKind.values)}."})
    choices = _clean_choices(kind, choices or [], multiple)
    if AttributeDefinition.objects.filter(project=project, key=key).exists():
        raise AlreadyExists({"key": f"The project already has an attribute called {key!r}."})
    definition = AttributeDefinition(
        project=project,
        key=key,
        label=label or key,
        kind=kind,
        choices=choices,
        multiple=multiple,
        description=description,
        order=order,
    )
    definition.full_clean(exclude=["project"])
    definition.save()
    return definition


@transaction.atomic
def update_attribute_definition(*, definition: AttributeDefinition, **changes) -> AttributeDefinition:
    if "kind" in changes and changes["kind"] != definition.kind and definition.values.exists():
        raise ValidationError(
            {"kind": "Participants already have values for this attribute; its type cannot change."}
        )
    kind = changes.get("kind", definition.kind)
    multiple = changes.get("multiple", definition.multiple)
    choices = _clean_choices(kind, changes.get("choices", definition.choices), multiple)
    if kind == AttributeKind.CATEGORICAL:
        used = set(definition.values.exclude(value_text__in=choices).values_list("value_text", flat=True))
        if used:
            raise ValidationError(
                {"choices": f"Values still in use cannot be removed: {', '.join(sorted(used))}."}
            )
        if definition.multiple and not multiple:
            # Going from several values to one is only safe if nobody has several.
            if definition.values.values("participant").annotate(n=Count("id")).filter(n__gt=1).exists():
                raise ValidationError(
                    {"multiple": "Some participants have several values; it must stay multiple."}
                )
    if (
        "key" in changes
        and changes["key"] != definition.key
        and AttributeDefinition.objects.filter(project_id=definition.project_id, key=changes["key"]).exists()
    ):
        raise AlreadyExists({"key": f"The project already has an attribute called {changes['key']!r}."})
    for field in ("key", "label", "kind", "multiple", "description", "order"):
        if field in changes:
            setattr(definition, field, changes[field])
    definition.choices = choices
    definition.full_clean(exclude=["project"])
    definition.save()
    return definition


@transaction.atomic
def delete_attribute_definition(*, definition: AttributeDefinition) -> None:
    definition.delete()


def _typed_values(definition: AttributeDefinition, value) -> list[dict]:
    """Validate one attribute value against its definition; return the column values to store."""
    kind = definition.kind
    field = f"attributes.{definition.key}"

    def fail(message):
        raise ValidationError({field: message})

    if kind == AttributeKind.CATEGORICAL:
        values = value if definition.multiple else [value]
        if definition.multiple and not isinstance(value, list):
            fail('Give a list of values, e.g. ["Arabic", "Kurmanji"].')
        rows = []
        for v in values:
            if not isinstance(v, str) or v not in definition.choices:
                fail(f"{v!r} is not one of the allowed values: {', '.join(definition.choices)}.")
            rows.append({"value_text": v})
        if len({r["value_text"] for r in rows}) != len(rows):
            fail("A value is given twice.")
        return rows
    if kind == AttributeKind.INTEGER:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            fail("Give a whole number.")
        try:
            number = int(str(value).strip())
        except ValueError:
            fail("Give a whole number.")
        if abs(number) >= 10**14:  # the column holds 14 digits before the point
            fail("Give a whole number of at most 14 digits.")
        return [{"value_number": Decimal(number)}]
    if kind == AttributeKind.DECIMAL:
        if isinstance(value, bool):
            fail("Give a number.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            fail("Give a number, e.g. 12.5.")
        limit = Decimal(10) ** 14
        # The column keeps 6 decimal places: check the rounded value too.
        if not number.is_finite() or abs(number) >= limit or abs(number.quantize(Decimal("1e-6"))) >= limit:
            fail("Give a finite number below 10^14.")
        return [{"value_number": number}]
    if kind == AttributeKind.DATE:
        if isinstance(value, dt.date):
            return [{"value_date": value}]
        # Only the extended form: fromisoformat alone also takes 20211103 or 2021-W44-3.
        if not isinstance(value, str) or len(value) != 10 or value[4::3] != "--":
            fail("Give a date as YYYY-MM-DD.")
        try:
            return [{"value_date": dt.date.fromisoformat(value)}]
        except ValueError:
            fail("Give a date as YYYY-MM-DD.")
    if kind == AttributeKind.BOOLEAN:
        if not isinstance(value, bool):
            fail("Give true or false.")
        return [{"value_bool": value}]
    if not isinstance(value, str):
        fail("Give a piece of text.")
    return [{"value_text": value}]


def attribute_value_of(definition: AttributeDefinition, rows: list[AttributeValue]):
    """The API/page representation of the stored rows of one attribute."""
    kind = definition.kind
    if kind == AttributeKind.CATEGORICAL:
        texts = [r.value_text for r in rows]
        if definition.multiple:
            order = {c: i for i, c in enumerate(definition.choices)}
            return sorted(texts, key=lambda t: order.get(t, len(order)))
        return texts[0] if texts else None
    if not rows:
        return None
    row = rows[0]
    if kind == AttributeKind.INTEGER:
        return int(row.value_number)
    if kind == AttributeKind.DECIMAL:
        return float(row.value_number)
    if kind == AttributeKind.DATE:
        return row.value_date.isoformat()
    if kind == AttributeKind.BOOLEAN:
        return row.value_bool
    return row.value_text


@transaction.atomic
def set_participant_attributes(*, participant: Participant, values: dict) -> None:
    """Set (or, with None / empty list, clear) the given attributes; others stay as they are."""
    if not isinstance(values, dict):
        raise ValidationError({"attributes": "Give attributes as an object of key: value."})
    definitions = {d.key: d for d in participant.project.attribute_definitions.all()}
    unknown = sorted(set(values) - set(definitions))
    if unknown:
        raise ValidationError(
            {"attributes": f"Unknown attribute(s): {', '.join(unknown)}. Define them in the project first."}
        )
    planned = {}
    for key, value in values.items():
        definition = definitions[key]
        empty = value is None or value == [] or (value == "" and definition.kind != AttributeKind.TEXT)
        planned[definition] = [] if empty else _typed_values(definition, value)
    for definition, rows in planned.items():
        AttributeValue.objects.filter(participant=participant, definition=definition).delete()
        AttributeValue.objects.bulk_create(
            [AttributeValue(participant=participant, definition=definition, **row) for row in rows]
        )


def _clean_pseudonym(project: Project, pseudonym: str, instance: Participant | None = None) -> str:
    pseudonym = (pseudonym or "").strip()
    if not pseudonym:
        raise ValidationError({"pseudonym": "Give the participant a pseudonym, e.g. LV-07."})
    clash = Participant.objects.filter(project=project, pseudonym=pseudonym)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise AlreadyExists({"pseudonym": f"Another participant is already called {pseudonym}."})
    return pseudonym


@transaction.atomic
def create_participant(
    *, project: Project, pseudonym: str, participant_type: str = "border_crosser", attributes=None
) -> Participant:
    participant = Participant(
        project=project,
        pseudonym=_clean_pseudonym(project, pseudonym),
        participant_type=participant_type,
    )
    participant.full_clean(exclude=["project"], validate_unique=False)
    try:
        with transaction.atomic():
            participant.save()
    except IntegrityError:
        # Lost a race with an identical create (the check above could not see it yet).
        raise AlreadyExists({"pseudonym": f"Another participant is already called {participant.pseudonym}."})
    if attributes:
        set_participant_attributes(participant=participant, values=attributes)
    return participant


@transaction.atomic
def update_participant(
    *,
    participant: Participant,
    pseudonym: str | None = None,
    participant_type: str | None = None,
    attributes=None,
) -> Participant:
    if pseudonym is not None:
        participant.pseudonym = _clean_pseudonym(participant.project, pseudonym, participant)
    if participant_type is not None:
        participant.participant_type = participant_type
    participant.full_clean(exclude=["project"], validate_unique=False)
    participant.save()
    if attributes is not None:
        set_participant_attributes(participant=participant, values=attributes)
    return participant


@transaction.atomic
def delete_participant(*, participant: Participant) -> None:
    if participant.interviews.exists():
        raise ValidationError(
            {"participant": "This participant still has interviews; delete or move them first."}
        )
    participant.delete()


# ---------------------------------------------------------------- transcripts


def _validate_turns(text_length: int, turns: list[dict]) -> list[dict]:
    cleaned = []
    previous_end = 0
    for i, turn in enumerate(sorted(turns, key=lambda t: t.get("start", 0))):
        start, end = turn.get("start"), turn.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
            raise ValidationError({"turns": f"Turn {i + 1}: start and end must be whole numbers."})
        if not 0 <= start < end <= text_length:
            raise ValidationError(
                {"turns": f"Turn {i + 1}: the range {start}–{end} is outside the text (0–{text_length})."}
            )
        if start < previous_end:
            raise ValidationError({"turns": f"Turn {i + 1} overlaps the turn before it."})
        role = turn.get("role", SpeakerRole.OTHER)
        if role not in SpeakerRole.values:
            raise ValidationError(
                {"turns": f"Turn {i + 1}: role must be one of {', '.join(SpeakerRole.values)}."}
            )
        speaker = (turn.get("speaker") or "").strip()[:80]
        cleaned.append(
            {
                "index": i,
                "start": start,
                "end": end,
                "speaker": speaker,
                "role": role,
                "time_start": turn.get("time_start"),
                "time_end": turn.get("time_end"),
            }
        )
        previous_end = end
    return cleaned


@transaction.atomic
def set_turns(*, interview: Interview, turns: list[dict]) -> list[SpeakerTurn]:
    cleaned = _validate_turns(interview.text_length, turns)
    interview.turns.all().delete()
    return SpeakerTurn.objects.bulk_create([SpeakerTurn(interview=interview, **turn) for turn in cleaned])


_INTERVIEW_FIELDS = ("title", "interview_date", "language", "mode", "interviewer_pseudonym")


@transaction.atomic
def create_interview(
    *,
    participant: Participant,
    title: str,
    text: str,
    turns: list[dict] | None = None,
    anonymised_by=None,
    **metadata,
) -> Interview:
    """Store an interview. Pass ``anonymised_by`` only when the text is already anonymised."""
    text = normalise_text(text or "")
    if not text.strip():
        raise ValidationError({"text": "The transcript is empty."})
    if not (title or "").strip():
        raise ValidationError({"title": "Give the interview a title."})
    unknown = set(metadata) - set(_INTERVIEW_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Unknown field."})
    interview = Interview(
        project=participant.project,
        participant=participant,
        title=title.strip(),
        text=text,
        text_sha256=text_sha256(text),
        text_length=len(text),
        **metadata,
    )
    if anonymised_by is not None:
        interview.status = InterviewStatus.ANONYMISED
        interview.anonymised_at = timezone.now()
        interview.anonymised_by = anonymised_by
    interview.full_clean(exclude=["project", "participant"])
    interview.save()
    if turns:
        set_turns(interview=interview, turns=turns)
    _record_interview("interview.created", interview, None, _interview_snapshot(interview))
    return interview


@transaction.atomic
def update_interview(
    *, interview: Interview, participant: Participant | None = None, **metadata
) -> Interview:
    unknown = set(metadata) - set(_INTERVIEW_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed here."})
    if participant is not None:
        if participant.project_id != interview.project_id:
            raise ValidationError({"participant": "That participant belongs to another project."})
        interview.participant = participant
    for field, value in metadata.items():
        setattr(interview, field, value)
    if not interview.title.strip():
        raise ValidationError({"title": "Give the interview a title."})
    interview.full_clean(exclude=["project", "participant"])
    interview.save()
    return interview


def _interview_snapshot(interview: Interview) -> dict:
    """Metadata, versions and status: never the transcript."""
    return {
        "guid": str(interview.guid),
        "title": interview.title,
        "participant_id": interview.participant_id,
        "text_version": interview.text_version,
        "text_length": interview.text_length,
        "status": interview.status,
    }


def _status_snapshot(interview: Interview) -> dict:
    stamp = interview.anonymised_at
    return {
        "status": interview.status,
        "anonymised_at": stamp.isoformat() if stamp else None,
        "anonymised_by_id": interview.anonymised_by_id,
    }


def _record_interview(action: str, interview: Interview, before, after) -> None:
    audit.record(
        project=interview.project_id,
        action=action,
        target_type="interview",
        target_id=interview.pk,
        interview_id=interview.pk,
        before=before,
        after=after,
    )


# An interview's status moves forward through these; a supervisor may also move
# it back (e.g. reviewed → in coding after a correction), never to draft.
_STATUS_ORDER = [s.value for s in InterviewStatus]


@transaction.atomic
def mark_interview_anonymised(*, interview: Interview, by) -> Interview:
    before = _status_snapshot(interview)
    if interview.anonymised_at is None:
        interview.anonymised_at = timezone.now()
        interview.anonymised_by = by
    if interview.status == InterviewStatus.DRAFT:
        interview.status = InterviewStatus.ANONYMISED
    interview.save(update_fields=["anonymised_at", "anonymised_by", "status", "updated_at"])
    if _status_snapshot(interview) != before:
        _record_interview("interview.anonymised", interview, before, _status_snapshot(interview))
    return interview


@transaction.atomic
def set_interview_status(*, interview: Interview, status: str) -> Interview:
    if status not in _STATUS_ORDER:
        raise ValidationError({"status": f"Choose one of: {', '.join(_STATUS_ORDER)}."})
    if status != InterviewStatus.DRAFT and interview.anonymised_at is None:
        raise ValidationError({"status": "Mark the transcript as anonymised before it moves on from draft."})
    if status == InterviewStatus.DRAFT and interview.anonymised_at is not None:
        raise ValidationError({"status": "An anonymised transcript cannot go back to draft."})
    before = interview.status
    interview.status = status
    interview.save(update_fields=["status", "updated_at"])
    if before != status:
        _record_interview("interview.status_changed", interview, {"status": before}, {"status": status})
    return interview


@transaction.atomic
def delete_interview(*, interview: Interview) -> None:
    before = _interview_snapshot(interview) | {"codings": interview.codings.count()}
    interview.codings.all().delete()
    pk = interview.pk
    interview.delete()
    interview.pk = pk
    _record_interview("interview.deleted", interview, before, None)


@transaction.atomic
def revise_transcript(
    *, interview: Interview, edits: list[TextEdit], by, reason: str = ""
) -> TranscriptRevision:
    """Change the transcript by replacing ranges; codings and turns follow the text.

    A coding or turn outside every edit keeps its text exactly (offsets shift by
    the length change before it). One whose text an edit touched is stretched
    to cover the replacement and flagged ``needs_review``. An edit that would
    remove a coded passage or a turn entirely is refused: nothing is dropped.
    """
    interview = Interview.objects.select_for_update().get(pk=interview.pk)
    edits = clean_edits(interview.text_length, edits)
    if not edits:
        raise ValidationError({"edits": "Give at least one edit."})
    new_text = apply_edits(interview.text, edits)
    if normalise_text(new_text) != new_text:
        raise ValidationError({"edits": "The edits would leave text that is not in normal form."})
    if not new_text.strip():
        raise ValidationError({"edits": "The edits would leave an empty transcript."})

    codings = list(interview.codings.all())
    shifted = flagged = 0
    updates = []
    touched_pks = set()
    for coding in codings:
        new_start, new_end, touched = remap_range(edits, coding.start, coding.end)
        if new_start >= new_end:
            raise ValidationError(
                {
                    "edits": f"An edit removes the whole coded passage {coding.start}–{coding.end}; "
                    "delete or move that coding first."
                }
            )
        if (new_start, new_end) != (coding.start, coding.end) or touched:
            coding.start, coding.end = new_start, new_end
            if touched:
                coding.needs_review = True
                touched_pks.add(coding.pk)
                flagged += 1
            else:
                shifted += 1
            updates.append(coding)
    turns = list(interview.turns.all())
    previous_end = 0
    for turn in turns:
        turn.start, turn.end, _ = remap_range(edits, turn.start, turn.end)
        # A replacement across the boundary of two turns goes to the earlier one,
        # so turns never overlap.
        turn.start = max(turn.start, previous_end)
        previous_end = turn.end
        if turn.start >= turn.end:
            raise ValidationError({"edits": f"An edit removes the whole of turn {turn.index + 1}."})

    # Two codings of one code by one coder that an edit maps onto the same range
    # become one: the same passage, code and coder. Their comments are kept. An
    # untouched coding is the one that stays, unflagged: its text did not change.
    kept: dict[tuple, object] = {}
    duplicates = []
    for coding in sorted(codings, key=lambda c: c.pk in touched_pks):
        key = (coding.code_id, coding.coder_id, coding.start, coding.end)
        if key in kept:
            survivor = kept[key]
            if coding.comment and coding.comment not in survivor.comment:
                survivor.comment = "\n".join(filter(None, [survivor.comment, coding.comment]))
                if survivor not in updates:
                    updates.append(survivor)
            duplicates.append(coding.pk)
        else:
            kept[key] = coding
    coding_model = interview.codings.model
    if duplicates:
        coding_model.objects.filter(pk__in=duplicates).delete()
        updates = [c for c in updates if c.pk not in set(duplicates)]
    if updates:
        # Move the changed codings out of the way first, so the unique
        # constraint never sees a half-moved neighbour.
        offset = len(interview.text) + len(new_text) + 1
        coding_model.objects.filter(pk__in=[c.pk for c in updates]).update(
            start=F("start") + offset, end=F("end") + offset
        )
        coding_model.objects.bulk_update(updates, ["start", "end", "needs_review", "comment"])
    if turns:
        SpeakerTurn.objects.bulk_update(turns, ["start", "end"])
    # The redaction log's positions follow the text like codings do.
    logs = list(interview.redactions.all())
    for log in logs:
        log.start, log.end, _ = remap_range(edits, log.start, log.end)
    if logs:
        RedactionLog.objects.bulk_update(logs, ["start", "end"])

    interview.text = new_text
    interview.text_sha256 = text_sha256(new_text)
    interview.text_length = len(new_text)
    before = {"text_version": interview.text_version, "text_length": interview.text_length}
    interview.text_version += 1
    interview.save(update_fields=["text", "text_sha256", "text_length", "text_version", "updated_at"])
    # Versions and counts only: neither the earlier text nor the replacements.
    _record_interview(
        "transcript.revised",
        interview,
        before,
        {
            "text_version": interview.text_version,
            "text_length": interview.text_length,
            "edits": len(edits),
            "chars_inserted": sum(len(e.replacement) for e in edits),
            "chars_deleted": sum(e.end - e.start for e in edits),
            "codings_shifted": shifted,
            "codings_flagged": flagged,
            "codings_folded": sorted(duplicates),
        },
    )
    return TranscriptRevision.objects.create(
        interview=interview,
        version=interview.text_version,
        text_sha256=interview.text_sha256,
        reason=reason[:200],
        chars_inserted=sum(len(e.replacement) for e in edits),
        chars_deleted=sum(e.end - e.start for e in edits),
        codings_shifted=shifted,
        codings_flagged=flagged,
        created_by=by,
    )
