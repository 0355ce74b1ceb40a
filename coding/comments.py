"""Comments on codings: threads where coders and supervisors discuss a passage.

A thread is a first comment (``parent`` empty) and its replies; the first comment carries the
thread's ``resolved`` flag. Who may see a coding's comments is who may see the coding
(``selectors.visible_codings``: blind coding hides other coders' codings, and their comments
with them). Coders and above comment and reply; authors edit their own comments; authors or
supervisors delete them; coders and above resolve and reopen threads. Every write leaves an
audit record.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from interviews import audit
from interviews.access import can_change_own_or_supervise
from interviews.models import Membership, Role

from .models import Coding, CodingComment
from .selectors import visible_codings

MAX_LENGTH = 5000


# ---------------------------------------------------------------- reads


def visible_coding(membership: Membership, coding_id) -> Coding:
    """The coding, if this member may see it (else 404, as if it did not exist)."""
    codings = visible_codings(membership, Coding.objects.filter(project_id=membership.project_id))
    coding = codings.select_related("code").filter(pk=coding_id).first()
    if coding is None:
        raise Http404("No such coding.")
    return coding


def comments_of(coding: Coding) -> QuerySet[CodingComment]:
    """Every comment on the coding, oldest first, with authors."""
    return CodingComment.objects.filter(coding=coding).select_related("author", "resolved_by")


def threads_of(coding_ids) -> dict[int, list[CodingComment]]:
    """``{coding id: [thread root, …]}``, each root with ``thread_replies`` (two queries in all)."""
    roots = (
        CodingComment.objects.filter(coding_id__in=list(coding_ids), parent__isnull=True)
        .select_related("author", "resolved_by")
        .prefetch_related(
            Prefetch(
                "replies",
                queryset=CodingComment.objects.select_related("author").order_by("created_at", "id"),
                to_attr="thread_replies",
            )
        )
        .order_by("created_at", "id")
    )
    threads: dict[int, list[CodingComment]] = {}
    for root in roots:
        threads.setdefault(root.coding_id, []).append(root)
    return threads


# ---------------------------------------------------------------- writes


def _clean_text(text) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "The comment is empty."})
    if len(text) > MAX_LENGTH:
        raise ValidationError({"text": f"Keep a comment under {MAX_LENGTH} characters."})
    return text


def _snapshot(comment: CodingComment) -> dict:
    return {
        "coding": comment.coding_id,
        "parent": comment.parent_id,
        "author": comment.author_id,
        "text": comment.text,
        "resolved": comment.resolved,
    }


def _record(comment: CodingComment, action: str, *, before=None, after=None, by=None, comment_id=None):
    audit.record(
        project=comment.project,
        action=action,
        target_type="coding_comment",
        target_id=comment_id or comment.pk,
        interview_id=comment.coding.interview_id,
        actor=by,
        before=before,
        after=after,
    )


@transaction.atomic
def add_comment(*, membership: Membership, coding: Coding, text: str, parent: CodingComment | None = None):
    """A new thread on ``coding``, or a reply to the thread ``parent`` belongs to."""
    if not membership.has_role(Role.CODER):
        raise PermissionDenied("Coders, supervisors and owners comment on codings.")
    visible_coding(membership, coding.pk)
    if parent is not None:
        if parent.coding_id != coding.pk:
            raise ValidationError({"parent": "That comment is on another coding."})
        if parent.parent_id is not None:
            parent = parent.parent  # replies hang off the thread's first comment
    comment = CodingComment(
        project_id=coding.project_id,
        coding=coding,
        parent=parent,
        author=membership.user,
        text=_clean_text(text),
    )
    comment.save()
    _record(comment, "comment.added", after=_snapshot(comment), by=membership.user)
    return comment


@transaction.atomic
def edit_comment(*, membership: Membership, comment: CodingComment, text: str) -> CodingComment:
    if comment.author_id != membership.user_id:
        raise PermissionDenied("Only its author can edit this comment.")
    before = _snapshot(comment)
    comment.text = _clean_text(text)
    comment.save(update_fields=["text", "updated_at"])
    _record(comment, "comment.edited", before=before, after=_snapshot(comment), by=membership.user)
    return comment


@transaction.atomic
def delete_comment(*, membership: Membership, comment: CodingComment) -> None:
    """Delete a comment (a thread's first comment takes its replies with it)."""
    if not can_change_own_or_supervise(membership, comment.author_id):
        raise PermissionDenied("Only its author or a supervisor can delete this comment.")
    before = _snapshot(comment)
    before["replies"] = (
        list(comment.replies.values_list("pk", flat=True)) if comment.parent_id is None else []
    )
    comment_id = comment.pk
    comment.delete()
    _record(comment, "comment.deleted", before=before, by=membership.user, comment_id=comment_id)


@transaction.atomic
def resolve_thread(*, membership: Membership, comment: CodingComment, resolved: bool = True) -> CodingComment:
    """Mark the thread ``comment`` belongs to resolved (or open again)."""
    if not membership.has_role(Role.CODER):
        raise PermissionDenied("Coders, supervisors and owners resolve comments.")
    root = comment.parent if comment.parent_id is not None else comment
    before = _snapshot(root)
    root.resolved = bool(resolved)
    root.resolved_by = membership.user if resolved else None
    root.resolved_at = timezone.now() if resolved else None
    root.save(update_fields=["resolved", "resolved_by", "resolved_at", "updated_at"])
    _record(
        root,
        "comment.resolved" if resolved else "comment.reopened",
        before=before,
        after=_snapshot(root),
        by=membership.user,
    )
    return root
