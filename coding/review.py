"""The review workflow: assignments, blind coding's reveal, the supervisor's sign-off.

A supervisor assigns an interview to coders (blind or not); each coder moves their
assignment through to do → in progress → done (and back); when every assigned coder
is done the interview is "coded"; a supervisor signs it off as "reviewed" and later
asks what changed since that sign-off. Writes are keyword-only services in a
transaction, each with its audit record; ``changes_since_review`` is a read.
"""

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from interviews import audit
from interviews.models import AuditEvent, Interview, InterviewStatus, Membership, Role
from interviews.services import set_interview_status

from .models import Assignment, AssignmentStatus, Reveal, ReviewMark

# Each status may move one step either way: to do ⇄ in progress ⇄ done.
_STEPS = [AssignmentStatus.TODO, AssignmentStatus.IN_PROGRESS, AssignmentStatus.DONE]

CODING_ACTIONS = ("coding.created", "coding.updated", "coding.deleted", "coding.restored")
_COMES_INTO_BEING = ("coding.created", "coding.restored")
# What makes two states of a coding different for a reviewer.
_CODING_FIELDS = ("code_id", "start", "end", "comment")


def _assignment_state(assignment: Assignment) -> dict:
    return {
        "interview_id": assignment.interview_id,
        "coder_id": assignment.coder_id,
        "status": assignment.status,
        "blind": assignment.blind,
    }


def _record(assignment: Assignment, action: str, before=None, after=None):
    audit.record(
        project=assignment.interview.project,
        action=action,
        target_type="assignment",
        target_id=assignment.pk,
        interview_id=assignment.interview_id,
        before=before,
        after=after,
    )


def _membership(project_id: int, user) -> Membership | None:
    if user is None:
        return None
    return Membership.objects.filter(project_id=project_id, user=user).first()


def _require_supervisor(interview: Interview, by) -> None:
    membership = _membership(interview.project_id, by)
    if membership is None or not membership.has_role(Role.SUPERVISOR):
        raise PermissionDenied("Only a supervisor or owner of the project can do this.")


def _move_interview(interview: Interview, status: str) -> None:
    """Set the interview's status when it differs (``set_interview_status`` records it)."""
    if interview.status != status:
        set_interview_status(interview=interview, status=status)


def sync_interview_status(interview: Interview) -> None:
    """Follow the assignments: all done → "coded"; someone still working → "in coding".

    A sign-off ("reviewed") stands while every assigned coder stays done; an interview
    nobody is assigned to keeps whatever status a supervisor gave it.
    """
    statuses = set(Assignment.objects.filter(interview=interview).values_list("status", flat=True))
    if not statuses or not interview.is_codable:
        return
    if statuses == {AssignmentStatus.DONE}:
        if interview.status != InterviewStatus.REVIEWED:
            _move_interview(interview, InterviewStatus.CODED)
    elif interview.status in (InterviewStatus.ANONYMISED, InterviewStatus.CODED, InterviewStatus.REVIEWED):
        _move_interview(interview, InterviewStatus.IN_CODING)


@transaction.atomic
def assign_interview(*, interview: Interview, coders, blind: bool = False, by) -> list[Assignment]:
    """Assign ``interview`` to each of ``coders`` (users who code in the project).

    Assigning someone already assigned changes only the ``blind`` flag; their status
    stays. Returns the coders' assignments.
    """
    _require_supervisor(interview, by)
    coders = list(coders or [])
    if not coders:
        raise ValidationError({"coders": "Choose at least one coder."})
    if not interview.is_codable:
        raise ValidationError({"interview": "Mark this transcript as anonymised before assigning it."})
    memberships = {
        m.user_id: m for m in Membership.objects.filter(project_id=interview.project_id, user__in=coders)
    }
    for coder in coders:
        membership = memberships.get(coder.pk)
        if membership is None or not membership.has_role(Role.CODER):
            raise ValidationError(
                {"coders": f"{coder.get_username()} is not a coder, supervisor or owner of this project."}
            )
    interview = (
        Interview.objects.select_for_update(of=("self",))
        .select_related("project")
        .defer("text")
        .get(pk=interview.pk)
    )
    existing = {a.coder_id: a for a in Assignment.objects.filter(interview=interview, coder__in=coders)}
    assignments = []
    for coder in dict.fromkeys(coders):
        assignment = existing.get(coder.pk)
        if assignment is None:
            assignment = Assignment.objects.create(
                project_id=interview.project_id, interview=interview, coder=coder, blind=blind, assigned_by=by
            )
            _record(assignment, "assignment.created", after=_assignment_state(assignment))
        elif assignment.blind != bool(blind):
            before = _assignment_state(assignment)
            assignment.blind = bool(blind)
            assignment.save(update_fields=["blind", "updated_at"])
            _record(assignment, "assignment.updated", before=before, after=_assignment_state(assignment))
        assignments.append(assignment)
    sync_interview_status(interview)
    return assignments


@transaction.atomic
def unassign(*, assignment: Assignment, by) -> None:
    """Take the interview off the coder's list (their codings stay)."""
    _require_supervisor(assignment.interview, by)
    interview = (
        Interview.objects.select_for_update()
        .select_related("project")
        .defer("text")
        .get(pk=assignment.interview_id)
    )
    assignment.interview = interview
    _record(assignment, "assignment.deleted", before=_assignment_state(assignment))
    assignment.delete()
    sync_interview_status(interview)


@transaction.atomic
def set_assignment_status(*, assignment: Assignment, status: str, by) -> Assignment:
    """Move an assignment one step: to do ⇄ in progress ⇄ done.

    A coder moves their own; supervisors and owners anyone's.
    """
    membership = _membership(assignment.project_id, by)
    if membership is None or not (
        membership.has_role(Role.SUPERVISOR) or (membership.user_id == assignment.coder_id)
    ):
        raise PermissionDenied("Only the assigned coder or a supervisor can change this assignment.")
    if status not in _STEPS:
        raise ValidationError({"status": f"Choose one of: {', '.join(_STEPS)}."})
    interview = (
        Interview.objects.select_for_update()
        .select_related("project")
        .defer("text")
        .get(pk=assignment.interview_id)
    )
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    assignment.interview = interview
    if assignment.status == status:
        return assignment
    if abs(_STEPS.index(status) - _STEPS.index(assignment.status)) != 1:
        raise ValidationError(
            {
                "status": f"An assignment moves one step at a time: from "
                f"{AssignmentStatus(assignment.status).label.lower()} it can go to "
                + " or ".join(
                    AssignmentStatus(s).label.lower()
                    for s in _STEPS
                    if abs(_STEPS.index(s) - _STEPS.index(assignment.status)) == 1
                )
                + "."
            }
        )
    before = _assignment_state(assignment)
    assignment.status = status
    assignment.done_at = timezone.now() if status == AssignmentStatus.DONE else None
    assignment.save(update_fields=["status", "done_at", "updated_at"])
    _record(assignment, "assignment.status_changed", before=before, after=_assignment_state(assignment))
    sync_interview_status(interview)
    return assignment


def start_on_first_coding(*, interview: Interview, coder_id: int) -> None:
    """A coder's first coding on an interview assigned to them moves it from to do to in progress.

    Called by ``services.create_coding`` inside its transaction, on every coding: the lookup
    reads and locks the assignment row alone (not the interview or project rows, which would
    make every coder's first coding wait for every other's).
    """
    assignment = (
        Assignment.objects.select_for_update()
        .filter(interview=interview, coder_id=coder_id, status=AssignmentStatus.TODO)
        .first()
    )
    if assignment is None:
        return
    assignment.interview = interview
    before = _assignment_state(assignment)
    assignment.status = AssignmentStatus.IN_PROGRESS
    assignment.save(update_fields=["status", "updated_at"])
    _record(assignment, "assignment.status_changed", before=before, after=_assignment_state(assignment))


@transaction.atomic
def mark_reviewed(*, interview: Interview, by) -> ReviewMark:
    """The supervisor's sign-off: the interview is "reviewed", and "changes since my last
    review" counts from now."""
    _require_supervisor(interview, by)
    interview = (
        Interview.objects.select_for_update(of=("self",))
        .select_related("project")
        .defer("text")
        .get(pk=interview.pk)
    )
    if not interview.is_codable:
        raise ValidationError({"interview": "Mark this transcript as anonymised before reviewing it."})
    waiting = Assignment.objects.filter(interview=interview).exclude(status=AssignmentStatus.DONE)
    if waiting.exists():
        names = ", ".join(waiting.order_by("coder__username").values_list("coder__username", flat=True))
        raise ValidationError({"interview": f"Not every assigned coder is done yet ({names})."})
    mark = ReviewMark.objects.filter(interview=interview, reviewer=by).first()
    previous = mark.reviewed_at.isoformat() if mark else None
    now = timezone.now()
    if mark is None:
        mark = ReviewMark.objects.create(interview=interview, reviewer=by, reviewed_at=now)
    else:
        mark.reviewed_at = now
        mark.save(update_fields=["reviewed_at"])
    audit.record(
        project=interview.project,
        action="interview.reviewed",
        target_type="review_mark",
        target_id=mark.pk,
        interview_id=interview.pk,
        before={"reviewed_at": previous, "status": interview.status},
        after={"reviewed_at": now.isoformat(), "status": InterviewStatus.REVIEWED},
    )
    _move_interview(interview, InterviewStatus.REVIEWED)
    return mark


@transaction.atomic
def reveal(*, interview: Interview, by) -> Reveal:
    """Let the coders of a blind-coded interview see each other's codings."""
    _require_supervisor(interview, by)
    existing = Reveal.objects.filter(interview=interview).first()
    if existing is not None:
        return existing
    revealed = Reveal.objects.create(interview=interview, revealed_by=by)
    audit.record(
        project=interview.project,
        action="interview.revealed",
        target_type="interview",
        target_id=interview.pk,
        interview_id=interview.pk,
        after={"revealed": True},
    )
    return revealed


@transaction.atomic
def unreveal(*, interview: Interview, by) -> None:
    """Hide other coders' codings again (where the interview is coded blind)."""
    _require_supervisor(interview, by)
    deleted, _ = Reveal.objects.filter(interview=interview).delete()
    if deleted:
        audit.record(
            project=interview.project,
            action="interview.unrevealed",
            target_type="interview",
            target_id=interview.pk,
            interview_id=interview.pk,
            before={"revealed": True},
            after={"revealed": False},
        )


# ---------------------------------------------------------------- reads


def last_review(interview: Interview, reviewer) -> ReviewMark | None:
    return ReviewMark.objects.filter(interview=interview, reviewer=reviewer).first()


def _coder_of(event: AuditEvent) -> int | None:
    for state in (event.after, event.before):
        if isinstance(state, dict):
            for key in ("coder_id", "coder"):
                if isinstance(state.get(key), int):
                    return state[key]
    return event.actor_id


def _essence(state) -> tuple:
    state = state if isinstance(state, dict) else {}
    return tuple(state.get(key) for key in _CODING_FIELDS)


def _identity(event: AuditEvent):
    """The coding an event is about: its guid (kept when a deleted coding is restored), or its id."""
    for state in (event.after, event.before):
        if isinstance(state, dict) and state.get("guid"):
            return state["guid"]
    return event.target_id


def coding_changes(events) -> dict[int, dict[str, list[int]]]:
    """Net changes per coder from coding audit events (oldest first):
    ``{coder_id: {"added": [coding ids], "removed": [...], "changed": [...]}}``.

    Per coding, only the net effect counts: added then deleted is nothing; added then
    edited is added; edited back to how it was, or deleted and restored, is no change.
    """
    by_coding: dict[object, list[AuditEvent]] = defaultdict(list)
    for event in events:
        by_coding[_identity(event)].append(event)
    result: dict[int, dict[str, list[int]]] = {}
    for history in by_coding.values():
        first, last = history[0], history[-1]
        existed_before = first.action not in _COMES_INTO_BEING
        exists_now = last.action != "coding.deleted"
        if not existed_before and exists_now:
            kind = "added"
        elif existed_before and not exists_now:
            kind = "removed"
        elif existed_before and exists_now and _essence(first.before) != _essence(last.after):
            kind = "changed"
        else:
            continue
        coder_id = _coder_of(first if kind == "removed" else last)
        entry = result.setdefault(coder_id, {"added": [], "removed": [], "changed": []})
        entry[kind].append(last.target_id)
    return result


def _coding_events_since_review(*, project_id: int, reviewer, interview_ids):
    """The coding audit events of these interviews that came after ``reviewer``'s last sign-off
    of each (all of them where there is none), oldest first; the cut is made in SQL."""
    signed_off_later = ReviewMark.objects.filter(
        interview_id=OuterRef("interview_id"), reviewer=reviewer, reviewed_at__gte=OuterRef("at")
    )
    return (
        AuditEvent.objects.filter(
            project_id=project_id,
            interview_id__in=interview_ids,
            target_type="coding",
            action__in=CODING_ACTIONS,
        )
        .exclude(Exists(signed_off_later))
        .order_by("at", "id")
        .only("id", "action", "target_id", "actor_id", "before", "after", "at", "interview_id")
    )


def changes_since_review(*, interview: Interview, reviewer) -> dict:
    """Codings added, removed and changed on ``interview`` per coder since ``reviewer``'s last
    sign-off (since the beginning when they never signed it off), from the audit trail."""
    mark = last_review(interview, reviewer)
    changes = coding_changes(
        _coding_events_since_review(
            project_id=interview.project_id, reviewer=reviewer, interview_ids=[interview.pk]
        )
    )
    names = dict(get_user_model().objects.filter(pk__in=list(changes)).values_list("pk", "username"))
    coders = [
        {
            "coder_id": coder_id,
            "coder": names.get(coder_id, ""),
            "added": len(kinds["added"]),
            "removed": len(kinds["removed"]),
            "changed": len(kinds["changed"]),
            "codings": kinds,
        }
        for coder_id, kinds in sorted(changes.items(), key=lambda item: names.get(item[0], ""))
    ]
    return {
        "interview_id": interview.pk,
        "since": mark.reviewed_at if mark else None,
        "coders": coders,
        "added": sum(c["added"] for c in coders),
        "removed": sum(c["removed"] for c in coders),
        "changed": sum(c["changed"] for c in coders),
    }


def changes_for_interviews(*, project, reviewer, interview_ids) -> dict[int, dict]:
    """``{interview_id: {"added", "removed", "changed", "reviewed_at", "by_coder"}}`` since
    ``reviewer``'s last review of each, in two queries (for the assignments page);
    ``by_coder`` is ``{coder_id: {"added", "removed", "changed"}}``."""
    marks = dict(
        ReviewMark.objects.filter(interview_id__in=interview_ids, reviewer=reviewer).values_list(
            "interview_id", "reviewed_at"
        )
    )
    per_interview: dict[int, list] = defaultdict(list)
    for event in _coding_events_since_review(
        project_id=project.pk, reviewer=reviewer, interview_ids=interview_ids
    ):
        per_interview[event.interview_id].append(event)
    summary = {}
    for interview_id in interview_ids:
        changes = coding_changes(per_interview.get(interview_id, []))
        summary[interview_id] = {
            kind: sum(len(k[kind]) for k in changes.values()) for kind in ("added", "removed", "changed")
        }
        summary[interview_id]["reviewed_at"] = marks.get(interview_id)
        summary[interview_id]["by_coder"] = {
            coder_id: {kind: len(ids) for kind, ids in kinds.items()} for coder_id, kinds in changes.items()
        }
    return summary
