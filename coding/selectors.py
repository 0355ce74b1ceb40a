"""Reads of the codebook, codings and memos: one grouped query per question."""

from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Greatest, Substr

from interviews.models import Interview, Membership, Project, Role
from interviews.selectors import blind_interviews, visible_codings_q

from .models import Code, Coding, Memo

# The blind-coding rule (``blind_interviews``) lives with projects, in ``interviews.selectors``,
# so that app's pages apply it too; coding's readers take it and its wrappers from here.


def codebook_with_counts(project: Project, membership: Membership | None = None) -> QuerySet[Code]:
    """Codes with how many codings, interviews and participants each has (own codings only);
    with ``membership``, of the codings that member may see (blind coding)."""
    seen = visible_codings_q(membership, "codings__") or None
    return project.codes.annotate(
        coding_count=Count("codings", distinct=True, filter=seen),
        interview_count=Count("codings__interview", distinct=True, filter=seen),
        participant_count=Count("codings__interview__participant", distinct=True, filter=seen),
    )


# ---------------------------------------------------------------- blind coding


def visible_codings(membership: Membership, codings: QuerySet[Coding]) -> QuerySet[Coding]:
    """``codings`` less those blind coding hides from this member. Every read of codings
    that a member can reach (pages, API, exports, analytics) goes through here."""
    condition = visible_codings_q(membership)
    return codings.filter(condition) if condition else codings


def visible_memos(membership: Membership, memos: QuerySet[Memo]) -> QuerySet[Memo]:
    """``memos`` less those on codings blind coding hides from this member."""
    hidden_on = blind_interviews(membership)
    if hidden_on is None:
        return memos
    return memos.filter(
        Q(coding__isnull=True) | Q(coding__coder_id=membership.user_id) | ~Q(coding__interview__in=hidden_on)
    )


def is_blind_for(membership: Membership, interview: Interview | int) -> bool:
    """Whether other coders' codings on this one interview are hidden from the member."""
    hidden_on = blind_interviews(membership)
    pk = interview if isinstance(interview, int) else interview.pk
    return hidden_on is not None and hidden_on.filter(pk=pk).exists()


def attach_quotes(codings) -> list:
    """Give each coding (a model or a ``values()`` dict) its ``quote`` = ``text[start:end]``.

    Each interview's text is read once and sliced here (Python indexes code points, the
    unit of our offsets). Cutting quotes in SQL makes PostgreSQL de-TOAST the whole
    text once per coding: seconds for a long transcript with thousands of codings.
    """
    rows = list(codings)

    def field(row, name):
        if isinstance(row, dict):
            # values() names a foreign key by its column ("interview_id") or its field ("interview").
            return row[name] if name in row else row[name.removesuffix("_id")]
        return getattr(row, name)

    interview_ids = {field(row, "interview_id") for row in rows}
    texts = dict(Interview.objects.filter(pk__in=interview_ids).values_list("pk", "text"))
    for row in rows:
        quote = texts[field(row, "interview_id")][field(row, "start") : field(row, "end")]
        if isinstance(row, dict):
            row["quote"] = quote
        else:
            row.quote = quote
    return rows


def quote_of(coding: Coding) -> str:
    """``text[start:end]`` of one coding, cut by the database (no need to load the whole text)."""
    return (
        Interview.objects.filter(pk=coding.interview_id)
        .values_list(Substr("text", coding.start + 1, coding.end - coding.start), flat=True)
        .get()
    )


def codings_for_project(project: Project) -> QuerySet[Coding]:
    """Codings with their code, coder and interview (not its text); quotes come from ``attach_quotes``."""
    return project.codings.select_related("code", "coder", "interview").defer("interview__text")


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


# ---------------------------------------------------------------- pages


def code_tree(project: Project, *, counts: bool = True, membership: Membership | None = None) -> list[Code]:
    """The codebook as a tree: root codes, each with ``subcodes`` and ``depth`` set.

    One query (with ``codebook_with_counts`` if ``counts``), arranged in memory:
    a codebook has tens or hundreds of codes, not thousands.
    """
    codes = codebook_with_counts(project, membership) if counts else project.codes.all()
    codes = list(codes.order_by("order", "name", "id"))
    by_parent: dict[int | None, list[Code]] = {}
    for code in codes:
        by_parent.setdefault(code.parent_id, []).append(code)

    def attach(nodes: list[Code], depth: int) -> list[Code]:
        for node in nodes:
            node.depth = depth
            node.subcodes = attach(by_parent.get(node.pk, []), depth + 1)
        return nodes

    return attach(by_parent.get(None, []), 0)


def flatten_tree(roots: list[Code]) -> list[Code]:
    """Codes of ``code_tree`` in display order (parents before their sub-codes)."""
    flat: list[Code] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        flat.append(node)
        stack.extend(reversed(node.subcodes))
    return flat


CONTEXT_CHARS = 200


def passages(
    project: Project,
    *,
    code_ids: list[int] | None = None,
    coder_id: int | None = None,
    interview_id: int | None = None,
    participants: QuerySet | None = None,
    context: int = CONTEXT_CHARS,
) -> QuerySet:
    """Coded passages as dicts, each with ``window``: the passage and up to ``context``
    code points either side, cut by the database (``window_start`` is its offset).

    The transcript is never loaded whole: one SUBSTR per row (three would read a
    long text three times). ``split_window`` turns a row's window into
    before/quote/after. ``participants`` is a participant queryset (e.g. from an
    attribute filter) the interviews must belong to. Rows carry
    ``interview_title``; take participants from ``interview_participants``:
    reading them per row would make SQLite walk every transcript's overflow
    pages to reach the columns stored after the text.
    """
    codings = project.codings.all()
    if code_ids is not None:
        codings = codings.filter(code_id__in=code_ids)
    if coder_id is not None:
        codings = codings.filter(coder_id=coder_id)
    elif project.consensus_user_id is not None:
        # "All coders" are the coders, as in the analytics: the consensus layer is chosen by id.
        codings = codings.exclude(coder_id=project.consensus_user_id)
    if interview_id is not None:
        codings = codings.filter(interview_id=interview_id)
    if participants is not None:
        codings = codings.filter(
            interview_id__in=Interview.objects.filter(participant__in=participants.values("pk")).values("pk")
        )
    window_start = Greatest(F("start") - context, Value(0))
    return (
        codings.annotate(
            window_start=window_start,
            window=Substr("interview__text", window_start + 1, F("end") + context - window_start),
        )
        .values(
            "id",
            "interview_id",
            "start",
            "end",
            "comment",
            "code_id",
            "window_start",
            "window",
            code_name=F("code__name"),
            code_colour=F("code__colour"),
            coder_name=F("coder__username"),
            interview_title=F("interview__title"),
        )
        .order_by("interview_title", "interview_id", "start", "end", "id")
    )


def split_window(row: dict) -> tuple[str, str, str]:
    """``(before, quote, after)`` of a ``passages`` row (offsets are code points, as in SQL)."""
    window, offset = row["window"], row["window_start"]
    a, b = row["start"] - offset, row["end"] - offset
    return window[:a], window[a:b], window[b:]


def interview_participants(project: Project) -> dict[int, str]:
    """``{interview_id: participant pseudonym}`` for the project (one small query)."""
    return dict(project.interviews.values_list("id", "participant__pseudonym"))


def coders_of(project: Project) -> QuerySet:
    """Members who may code (coders, supervisors, owners), for filter controls."""
    return (
        project.memberships.filter(role__in=[Role.CODER, Role.SUPERVISOR, Role.OWNER])
        .select_related("user")
        .order_by("user__username")
    )


def memos_filtered(project: Project, *, kind: str | None = None, author_id: int | None = None):
    """Memos with their author and target (no transcript text), newest first."""
    memos = project.memos.select_related(
        "author", "participant", "interview", "code", "coding", "coding__code", "coding__interview"
    ).defer("interview__text", "coding__interview__text")
    if kind:
        memos = memos.filter(kind=kind)
    if author_id is not None:
        memos = memos.filter(author_id=author_id)
    return memos.order_by("-updated_at", "-id")
