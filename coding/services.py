"""Writes for the codebook, codings and memos.

Keyword-only functions, each in a transaction, called alike by the API, the
pages, the admin and tasks. Cross-row rules (same project, codable code and
interview, coder role, no cycles) are checked here; single-row rules are
database constraints.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from interviews import audit
from interviews.errors import AlreadyExists
from interviews.models import Interview, Membership, Participant, Project, Role

from .models import Code, Coding, Memo, MemoKind

# ---------------------------------------------------------------- audit snapshots
# What the audit trail keeps of a code, coding or memo (``interviews.audit``): ids,
# names, offsets, comments and memo text, never the transcript or a quote.


def code_snapshot(code: Code) -> dict:
    # ``example`` is left out: it is usually a quote from a transcript.
    return {
        "guid": str(code.guid),
        "name": code.name,
        "parent_id": code.parent_id,
        "colour": code.colour,
        "is_codable": code.is_codable,
        "order": code.order,
        "shortcut": code.shortcut,
        "definition": code.definition,
        "inclusion_criteria": code.inclusion_criteria,
        "exclusion_criteria": code.exclusion_criteria,
    }


def coding_snapshot(coding: Coding) -> dict:
    """Enough to restore the coding (``restore_coding``): its guid, code, coder, range and
    the transcript version the range belongs to."""
    if "interview" in coding._state.fields_cache:
        text_version = coding.interview.text_version
    else:
        text_version = Interview.objects.filter(pk=coding.interview_id).values_list(
            "text_version", flat=True
        )[0]
    return {
        "guid": str(coding.guid),
        "interview_id": coding.interview_id,
        "text_version": text_version,
        "code_id": coding.code_id,
        "code": coding.code.name,
        "coder_id": coding.coder_id,
        "coder": coding.coder.get_username(),
        "start": coding.start,
        "end": coding.end,
        "comment": coding.comment,
        "needs_review": coding.needs_review,
    }


def memo_snapshot(memo: Memo) -> dict:
    return {
        "guid": str(memo.guid),
        "kind": memo.kind,
        "participant_id": memo.participant_id,
        "interview_id": memo.interview_id,
        "code_id": memo.code_id,
        "coding_id": memo.coding_id,
        "author_id": memo.author_id,
        "title": memo.title,
        "text": memo.text,
    }


def _record_code(action: str, code: Code, before: dict | None, after: dict | None = None, **extra):
    audit.record(
        project=code.project_id,
        action=action,
        target_type="code",
        target_id=code.pk,
        before=before,
        after=after if after is None else after | extra,
    )


def _record_coding(action: str, coding: Coding, before: dict | None, after: dict | None) -> None:
    audit.record(
        project=coding.project_id,
        action=action,
        target_type="coding",
        target_id=coding.pk,
        interview_id=coding.interview_id,
        before=before,
        after=after,
    )


def _record_memo(action: str, memo: Memo, before: dict | None, after: dict | None) -> None:
    interview_id = memo.interview_id or (memo.coding.interview_id if memo.coding_id else None)
    audit.record(
        project=memo.project_id,
        action=action,
        target_type="memo",
        target_id=memo.pk,
        interview_id=interview_id,
        before=before,
        after=after,
    )


# ---------------------------------------------------------------- codebook

_CODE_FIELDS = (
    "name",
    "colour",
    "definition",
    "inclusion_criteria",
    "exclusion_criteria",
    "example",
    "is_codable",
    "order",
    "shortcut",
)


def _check_parent(project: Project, code: Code | None, parent: Code | None) -> None:
    if parent is None:
        return
    if parent.project_id != project.pk:
        raise ValidationError({"parent": "That parent code belongs to another project."})
    node = parent
    while node is not None:
        if code is not None and node.pk == code.pk:
            raise ValidationError({"parent": "A code cannot be moved under itself or its own sub-codes."})
        node = node.parent


def _check_name_free(project: Project, name: str, parent: Code | None, code: Code | None) -> None:
    siblings = Code.objects.filter(project=project, parent=parent)
    if code is not None:
        siblings = siblings.exclude(pk=code.pk)
    # Compared here, not with iexact: SQLite folds the case of ASCII letters only (Ş/ş, Ü/ü).
    if any(n.casefold() == name.casefold() for n in siblings.values_list("name", flat=True)):
        where = f"under {parent.name!r}" if parent else "at the top level"
        raise AlreadyExists({"name": f"A code called {name!r} already exists {where}."})


def _check_shortcut_free(project: Project, shortcut: str, code: Code | None) -> None:
    if not shortcut:
        return
    clash = Code.objects.filter(project=project, shortcut=shortcut)
    if code is not None:
        clash = clash.exclude(pk=code.pk)
    other = clash.first()
    if other is not None:
        raise ValidationError({"shortcut": f"The key {shortcut!r} already applies {other.name!r}."})


def _save_code(code: Code) -> Code:
    code.name = code.name.strip()
    if not code.name:
        raise ValidationError({"name": "Give the code a name."})
    _check_name_free(code.project, code.name, code.parent, code if code.pk else None)
    _check_shortcut_free(code.project, code.shortcut, code if code.pk else None)
    code.full_clean(exclude=["project", "parent"], validate_constraints=False)
    try:
        with transaction.atomic():
            code.save()
    except IntegrityError:
        # Lost a race with an identical create: report it as the duplicate it is.
        raise AlreadyExists({"name": f"A code called {code.name!r} already exists here."})
    return code


@transaction.atomic
def create_code(*, project: Project, name: str, parent: Code | None = None, **fields) -> Code:
    unknown = set(fields) - set(_CODE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Unknown field."})
    _check_parent(project, None, parent)
    code = _save_code(Code(project=project, parent=parent, name=name or "", **fields))
    _record_code("code.created", code, None, code_snapshot(code))
    return code


@transaction.atomic
def update_code(*, code: Code, **fields) -> Code:
    unknown = set(fields) - set(_CODE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Unknown field; use move to change the parent."})
    if fields.get("is_codable") is False and code.codings.exists():
        raise ValidationError(
            {"is_codable": "This code has codings; move or merge them before making it a folder."}
        )
    before = code_snapshot(code)
    for field, value in fields.items():
        setattr(code, field, value)
    _save_code(code)
    _record_code("code.updated", code, before, code_snapshot(code), example_changed="example" in fields)
    return code


@transaction.atomic
def move_code(*, code: Code, parent: Code | None, order: int | None = None) -> Code:
    _check_parent(code.project, code, parent)
    before = code_snapshot(code)
    code.parent = parent
    if order is not None:
        code.order = order
    _save_code(code)
    _record_code("code.moved", code, before, code_snapshot(code))
    return code


@transaction.atomic
def merge_codes(*, source: Code, target: Code) -> Code:
    """Fold ``source`` into ``target``: its codings, sub-codes and memos move; ``source`` goes.

    A coding that would duplicate one the target already has (same interview,
    coder and range) is folded into it, keeping its comment.
    """
    if source.pk == target.pk:
        raise ValidationError({"target": "Choose a different code to merge into."})
    if source.project_id != target.project_id:
        raise ValidationError({"target": "That code belongs to another project."})
    # Lock both codes first, so nobody codes with the source while it disappears: coding takes
    # a share lock on its code (``_hold_code``), so a coding made meanwhile is either committed
    # before this goes on (and moves with the rest) or waits and is refused with a message.
    locked = Code.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
    if len(locked.values_list("pk", flat=True)) != 2:
        raise ValidationError(
            {"target": "One of these codes was just merged or deleted; reload the codebook."}
        )
    if not target.is_codable and source.codings.exists():
        raise ValidationError({"target": "Codings cannot be merged into a folder code."})
    try:
        _check_parent(source.project, source, target)
    except ValidationError:
        raise ValidationError({"target": "A code cannot be merged into one of its own sub-codes."})

    existing = {
        (c.interview_id, c.coder_id, c.start, c.end): c
        for c in Coding.objects.filter(code=target).only(
            "id", "interview_id", "coder_id", "start", "end", "comment"
        )
    }
    duplicates = []
    for coding in Coding.objects.filter(code=source).only(
        "id", "interview_id", "coder_id", "start", "end", "comment"
    ):
        twin = existing.get((coding.interview_id, coding.coder_id, coding.start, coding.end))
        if twin is not None:
            if coding.comment and coding.comment not in twin.comment:
                twin.comment = "\n".join(filter(None, [twin.comment, coding.comment]))
                twin.save(update_fields=["comment", "updated_at"])
            duplicates.append(coding.pk)
    Memo.objects.filter(coding_id__in=duplicates).update(coding=None, kind=MemoKind.CODE, code=target)
    Coding.objects.filter(pk__in=duplicates).delete()
    moved = list(Coding.objects.filter(code=source).values_list("id", flat=True))
    # A new updated_at: the moved codings' versions (ETags) change with their code.
    Coding.objects.filter(pk__in=moved).update(code=target, updated_at=timezone.now())
    Memo.objects.filter(code=source).update(code=target)
    children = []
    for child in source.children.all():
        child.parent = target
        _check_name_free(target.project, child.name, target, child)
        child.save(update_fields=["parent", "updated_at"])
        children.append(child.pk)
    before = code_snapshot(source)
    source_pk = source.pk
    source.delete()
    source.pk = source_pk
    _record_code(
        "code.merged",
        source,
        before,
        {"into_id": target.pk, "into": target.name},
        moved_codings=moved,
        folded_codings=duplicates,
        moved_sub_codes=children,
    )
    return target


@transaction.atomic
def delete_code(*, code: Code) -> None:
    # Locked before the checks: a coding being made with it meanwhile (``_hold_code``) is
    # committed first and counted below, or waits and is refused.
    if not list(Code.objects.select_for_update().filter(pk=code.pk).values_list("pk", flat=True)):
        raise ValidationError({"code": "This code was just merged or deleted; reload the codebook."})
    if code.children.exists():
        raise ValidationError({"code": "This code has sub-codes; move or delete them first."})
    if code.codings.exists():
        raise ValidationError(
            {
                "code": f"This code is applied {code.codings.count()} time(s); merge it into another code "
                "or delete those codings first."
            }
        )
    before, pk = code_snapshot(code), code.pk
    code.delete()
    code.pk = pk
    _record_code("code.deleted", code, before)


# ---------------------------------------------------------------- codings


def consensus_coder(project: Project):
    """The account that holds the project's consensus layer, made on first use.

    It cannot sign in (inactive, no usable password) and is not a member: only the
    settlement services write codings as it.
    """
    if project.consensus_user_id is not None:
        return project.consensus_user
    User = get_user_model()
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.consensus_user_id is None:
            user = User(
                username=f"consensus-{project.guid.hex[:12]}", first_name="Consensus", is_active=False
            )
            user.set_unusable_password()
            user.save()
            locked.consensus_user = user
            locked.save(update_fields=["consensus_user"])
    project.consensus_user = locked.consensus_user
    return project.consensus_user


def _hold_code(code: Code) -> None:
    """Keep ``code`` from being merged or deleted until this transaction ends.

    PostgreSQL checks foreign keys only at commit (Django makes them deferred), so a coding made
    while its code is merged away would fail at commit, as a 500. A FOR KEY SHARE lock waits for
    a merge or delete holding the code (which lock it FOR UPDATE) and makes them wait for us,
    while coders applying the same code never wait for each other. SQLite runs one writing
    transaction at a time, so there is nothing to do there.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        table = Code._meta.db_table  # the model's own table name, not input
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR KEY SHARE", [code.pk])  # noqa: S608
        if cursor.fetchone() is None:
            raise ValidationError(
                {"code": "This code was merged or deleted a moment ago; reload and choose another."}
            )


def _check_coding(*, interview: Interview, code: Code, coder, start, end, membership=None) -> None:
    if code.project_id != interview.project_id:
        raise ValidationError({"code": "That code belongs to another project."})
    _hold_code(code)
    if not code.is_codable:
        raise ValidationError({"code": f"{code.name!r} is a folder; choose one of its codes."})
    if not interview.is_codable:
        raise ValidationError({"interview": "Mark this transcript as anonymised before coding it."})
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError({name: "Give a whole number of characters."})
    if start < 0:
        raise ValidationError({"start": "The passage cannot start before the text does."})
    if end > interview.text_length:
        raise ValidationError(
            {"end": f"The passage ends at {end}, past the end of the text ({interview.text_length})."}
        )
    if start >= end:
        raise ValidationError({"end": "The passage must end after it starts."})
    if coder is None:
        return  # changing an existing coding: who may do that is the caller's check
    if membership is None or (membership.user_id, membership.project_id) != (coder.pk, interview.project_id):
        membership = Membership.objects.filter(project_id=interview.project_id, user=coder).first()
    if membership is None or not membership.has_role(Role.CODER):
        raise ValidationError({"coder": "Only coders, supervisors and owners of the project can code."})


def _save_coding(coding: Coding) -> Coding:
    # The unique constraint is the duplicate check: it also holds under concurrent requests.
    try:
        with transaction.atomic():
            coding.save()
    except IntegrityError:
        raise AlreadyExists({"code": "You have already coded this passage with this code."})
    return coding


class RequestKeyReused(ValidationError):
    """The idempotency key of an earlier request came with a different passage."""


def _replay(coder, request_key: str, wanted: dict) -> Coding | None:
    """The coding an earlier request with this key made, if it matches ``wanted``."""
    earlier = (
        Coding.objects.select_related("code", "coder").filter(coder=coder, request_key=request_key).first()
    )
    if earlier is None:
        return None
    if any(getattr(earlier, field) != value for field, value in wanted.items()):
        raise RequestKeyReused(
            {
                "idempotency_key": "This Idempotency-Key was already used for another passage; "
                "send a new key for a new coding."
            }
        )
    earlier.replayed = True
    return earlier


@transaction.atomic
def create_coding(
    *,
    interview: Interview,
    code: Code,
    coder,
    start: int,
    end: int,
    comment: str = "",
    coder_membership: Membership | None = None,
    request_key: str = "",
) -> Coding:
    """Code ``interview.text[start:end]`` with ``code``. A caller that has already resolved the
    coder's membership of the project (the API has) passes it to save a query.

    ``request_key`` (the client's ``Idempotency-Key``) makes a retry safe: a second call by the
    same coder with the same key and the same passage returns the coding the first one made
    (``replayed`` is then True on it) and writes nothing; the same key for a different passage
    raises ``RequestKeyReused``.
    """
    wanted = {"interview_id": interview.pk, "code_id": code.pk, "start": start, "end": end}
    if request_key:
        earlier = _replay(coder, request_key, wanted)
        if earlier is not None:
            return earlier
    _check_coding(
        interview=interview, code=code, coder=coder, start=start, end=end, membership=coder_membership
    )
    try:
        coding = _save_coding(
            Coding(
                project_id=interview.project_id,
                interview=interview,
                code=code,
                coder=coder,
                start=start,
                end=end,
                comment=comment or "",
                request_key=request_key,
            )
        )
    except ValidationError:
        # A concurrent retry with the same key may have won the insert: answer with its coding.
        earlier = _replay(coder, request_key, wanted) if request_key else None
        if earlier is None:
            raise
        return earlier
    _record_coding("coding.created", coding, None, coding_snapshot(coding))
    # The first coding on an interview assigned to this coder starts their assignment.
    from .review import start_on_first_coding

    start_on_first_coding(interview=interview, coder_id=coder.pk)
    return coding


@transaction.atomic
def update_coding(
    *,
    coding: Coding,
    code: Code | None = None,
    start: int | None = None,
    end: int | None = None,
    comment: str | None = None,
    needs_review: bool | None = None,
) -> Coding:
    new_code = code or coding.code
    new_start = coding.start if start is None else start
    new_end = coding.end if end is None else end
    # The coder is not re-checked: a supervisor may correct the codings of someone who has left.
    _check_coding(interview=coding.interview, code=new_code, coder=None, start=new_start, end=new_end)
    before = coding_snapshot(coding)
    range_changed = (new_start, new_end) != (coding.start, coding.end)
    coding.code, coding.start, coding.end = new_code, new_start, new_end
    if comment is not None:
        coding.comment = comment
    if needs_review is not None:
        coding.needs_review = needs_review
    elif range_changed:
        # A coder who re-draws a flagged passage has reviewed it.
        coding.needs_review = False
    _save_coding(coding)
    after = coding_snapshot(coding)
    if after != before:
        _record_coding("coding.updated", coding, before, after)
    return coding


@transaction.atomic
def delete_coding(*, coding: Coding) -> None:
    before, pk = coding_snapshot(coding), coding.pk
    coding.delete()
    coding.pk = pk
    _record_coding("coding.deleted", coding, before, None)


@transaction.atomic
def restore_coding(*, event, by) -> Coding:
    """Bring back a deleted coding from its audit event, with the same guid, code, coder and range.

    Refused when the code is gone, the transcript has changed since (its offsets would
    point elsewhere) or the passage is coded again (by that coder with that code).
    ``by`` is who restores it; the coding stays its coder's.
    """
    if event.action != "coding.deleted" or not event.before:
        raise ValidationError({"event": "Only a deleted coding can be restored."})
    was = event.before
    if Coding.objects.filter(guid=was["guid"]).exists():
        raise ValidationError({"event": "This coding has already been restored."})
    code = Code.objects.filter(project_id=event.project_id, pk=was["code_id"]).first()
    if code is None:
        raise ValidationError(
            {"code": f"The code {was['code']!r} no longer exists; the coding cannot come back."}
        )
    interview = (
        Interview.objects.defer("text").filter(project_id=event.project_id, pk=was["interview_id"]).first()
    )
    if interview is None:
        raise ValidationError({"interview": "The interview no longer exists."})
    if interview.text_version != was["text_version"]:
        raise ValidationError(
            {
                "interview": "The transcript has been revised since this coding was deleted; "
                "code the passage again."
            }
        )
    coder = get_user_model().objects.filter(pk=was["coder_id"]).first()
    if coder is None:
        raise ValidationError({"coder": f"The coder {was['coder']!r} no longer has an account."})
    _check_coding(interview=interview, code=code, coder=None, start=was["start"], end=was["end"])
    if Coding.objects.filter(
        interview=interview, code=code, coder=coder, start=was["start"], end=was["end"]
    ).exists():
        raise ValidationError({"code": "This passage is coded with this code again already."})
    coding = _save_coding(
        Coding(
            guid=was["guid"],
            project_id=event.project_id,
            interview=interview,
            code=code,
            coder=coder,
            start=was["start"],
            end=was["end"],
            comment=was.get("comment", ""),
            needs_review=was.get("needs_review", False),
        )
    )
    audit.record(
        project=event.project_id,
        action="coding.restored",
        target_type="coding",
        target_id=coding.pk,
        interview_id=coding.interview_id,
        after=coding_snapshot(coding) | {"restored_from_event": event.pk},
        actor=by,
    )
    return coding


@transaction.atomic
def split_code(*, source: Code, target: Code, codings) -> int:
    """Split ``source`` by reassigning the chosen codings of it to ``target``; all or none move.

    Returns how many codings moved.
    """
    if source.pk == target.pk:
        raise ValidationError({"target": "Choose a different code to move the passages to."})
    if target.project_id != source.project_id:
        raise ValidationError({"target": "That code belongs to another project."})
    ids = {c.pk for c in codings}
    if not ids:
        raise ValidationError({"codings": "Tick at least one passage to move."})
    # Read them afresh: the caller's objects may be stale.
    codings = list(
        Coding.objects.select_related("interview", "coder", "code").filter(pk__in=ids, code=source)
    )
    if len(codings) != len(ids):
        raise ValidationError({"codings": f"Only passages coded with {source.name!r} can be moved."})
    for coding in codings:
        update_coding(coding=coding, code=target)
    _record_code(
        "code.split",
        source,
        None,
        {"into_id": target.pk, "into": target.name},
        moved_codings=sorted(ids),
    )
    return len(codings)


# ---------------------------------------------------------------- memos

_MEMO_TARGETS = {
    MemoKind.PARTICIPANT: ("participant", Participant),
    MemoKind.INTERVIEW: ("interview", Interview),
    MemoKind.CODE: ("code", Code),
    MemoKind.CODING: ("coding", Coding),
}


@transaction.atomic
def create_memo(*, project: Project, author, text: str, title: str = "", target=None) -> Memo:
    """A memo on the project (no target) or on a participant, interview, code or coding."""
    if not (text or "").strip():
        raise ValidationError({"text": "The memo is empty."})
    memo = Memo(project=project, author=author, text=text, title=(title or "").strip())
    if target is None:
        memo.kind = MemoKind.PROJECT
    else:
        for kind, (field, model) in _MEMO_TARGETS.items():
            if isinstance(target, model):
                if target.project_id != project.pk:
                    raise ValidationError({field: "That belongs to another project."})
                memo.kind = kind
                setattr(memo, field, target)
                break
        else:
            raise ValidationError({"kind": "A memo is on a project, participant, interview, code or coding."})
    memo.full_clean(exclude=["project", "author", "participant", "interview", "code", "coding"])
    memo.save()
    _record_memo("memo.created", memo, None, memo_snapshot(memo))
    return memo


@transaction.atomic
def update_memo(*, memo: Memo, text: str | None = None, title: str | None = None) -> Memo:
    before = memo_snapshot(memo)
    if text is not None:
        if not text.strip():
            raise ValidationError({"text": "The memo is empty."})
        memo.text = text
    if title is not None:
        memo.title = title.strip()
    memo.full_clean(exclude=["project", "author", "participant", "interview", "code", "coding"])
    memo.save()
    after = memo_snapshot(memo)
    if after != before:
        _record_memo("memo.updated", memo, before, after)
    return memo


@transaction.atomic
def delete_memo(*, memo: Memo) -> None:
    before, pk = memo_snapshot(memo), memo.pk
    memo.delete()
    memo.pk = pk
    _record_memo("memo.deleted", memo, before, None)


# ---------------------------------------------------------------- saved profile queries


def _clean_saved_query(query) -> None:
    from .analytics import make_scope
    from .query import validate_query

    query.name = (query.name or "").strip()
    if not query.name:
        raise ValidationError({"name": "Give the query a name."})
    clash = query.project.saved_queries.filter(name__iexact=query.name).exclude(pk=query.pk)
    if clash.exists():
        raise ValidationError({"name": f"The project already has a saved query called {query.name!r}."})
    validate_query(make_scope(query.project), query.expression, field_name="expression")


@transaction.atomic
def create_saved_query(*, project: Project, created_by, name: str, expression: str, description: str = ""):
    """Save a profile query after checking that it parses and names existing codes and attributes."""
    from .models import SavedQuery

    query = SavedQuery(
        project=project, created_by=created_by, name=name, expression=expression, description=description
    )
    _clean_saved_query(query)
    query.save()
    return query


@transaction.atomic
def update_saved_query(*, query, name=None, expression=None, description=None):
    if name is not None:
        query.name = name
    if expression is not None:
        query.expression = expression
    if description is not None:
        query.description = description
    _clean_saved_query(query)
    query.save()
    return query


@transaction.atomic
def delete_saved_query(*, query) -> None:
    query.delete()
