"""Reads of the codebook, codings and memos: one grouped query per question."""

from django.db.models import Count, F, QuerySet
from django.db.models.functions import Substr

from interviews.models import Interview, Project

from .models import Code, Coding, Memo


def codebook_with_counts(project: Project) -> QuerySet[Code]:
    """Codes with how many codings, interviews and participants each has (own codings only)."""
    return project.codes.annotate(
        coding_count=Count("codings", distinct=True),
        interview_count=Count("codings__interview", distinct=True),
        participant_count=Count("codings__interview__participant", distinct=True),
    )


def with_quote(codings: QuerySet[Coding]) -> QuerySet[Coding]:
    """Add ``quote`` = ``interview.text[start:end]``, cut by the database.

    SQL SUBSTR counts characters (code points) on both SQLite and PostgreSQL
    (UTF-8), the same unit as our offsets; it is 1-based.
    """
    return codings.annotate(quote=Substr("interview__text", F("start") + 1, F("end") - F("start")))


def codings_for_project(project: Project) -> QuerySet[Coding]:
    return with_quote(project.codings.select_related("code", "coder", "interview").defer("interview__text"))


def codings_for_interview(interview: Interview, *, coder=None) -> QuerySet[Coding]:
    codings = interview.codings.select_related("coder").order_by("start", "end", "id")
    if coder is not None:
        codings = codings.filter(coder=coder)
    return codings


def memos_for_project(project: Project) -> QuerySet[Memo]:
    return project.memos.select_related("author")


def code_subtree_ids(code: Code) -> list[int]:
    """The code and all its descendants (the codebook is small: one query, walked in memory)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Code.objects.filter(project_id=code.project_id).values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = [], [code.pk]
    while stack:
        pk = stack.pop()
        found.append(pk)
        stack.extend(children.get(pk, []))
    return found
