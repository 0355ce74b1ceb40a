"""Drill-down from a co-occurrence count to the passages behind it.

A co-occurrence cell (code X, code Y) counts the units (participants, interviews or
coding pairs) in which an eligible coding of X and an eligible coding of Y occur
together (``coding.analytics.cooccurrence``). The passages behind it are the eligible
codings of X that have such a partner coding of Y:

- ``overlap``: in the same interview, sharing at least one character
  (X.start < Y.end and Y.start < X.end; offsets are end-exclusive);
- ``nearby``: in the same interview, at most ``distance`` characters apart, overlap
  included (Y.start ≤ X.end + distance and X.start ≤ Y.end + distance);
- ``participant``: coded for the same participant, anywhere in their interviews.

"Eligible" is the analytics' scope on both sides (``analytics.eligible_codings``): the
chosen coder (so with a coder chosen, both codings are that coder's; without one, any
coders, as the analytic counts them), interview statuses, the population, and
participant speech. The partner is found in SQL with a correlated ``EXISTS`` over
overlapping ranges, which the (interview, start) index serves; nothing is paired in
Python. Cell (X, Y) lists X's passages, cell (Y, X) lists Y's.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet

from . import analytics
from .models import Coding

MODES = analytics.COOCCURRENCE_MODES


def cooccurring_codings(
    scope: analytics.Scope, *, code_id: int, with_code_id: int, mode: str = "overlap", distance: int = 0
) -> QuerySet[Coding]:
    """Eligible codings of ``code_id`` that co-occur with an eligible coding of ``with_code_id``."""
    if mode not in MODES:
        raise ValidationError({"together": f"Choose one of: {', '.join(MODES)}."})
    if not isinstance(distance, int) or distance < 0 or distance > 1_000_000:
        raise ValidationError({"distance": "Give a distance in characters between 0 and 1,000,000."})
    if code_id == with_code_id:
        raise ValidationError(
            {"with_code": "Choose a code other than the first: a code co-occurs with others."}
        )
    partners = analytics.eligible_codings(scope).filter(code_id=with_code_id)
    if mode == "participant":
        partners = partners.filter(interview__participant_id=OuterRef("interview__participant_id"))
    elif mode == "overlap":
        partners = partners.filter(
            interview_id=OuterRef("interview_id"), start__lt=OuterRef("end"), end__gt=OuterRef("start")
        )
    else:
        partners = partners.filter(
            interview_id=OuterRef("interview_id"),
            start__lte=OuterRef("end") + distance,
            end__gte=OuterRef("start") - distance,
        )
    return analytics.eligible_codings(scope).filter(code_id=code_id).filter(Exists(partners))


def _scope_query(scope: analytics.Scope, mode: str, distance: int) -> str:
    """The query-string part a cell's link shares with every other cell of the result."""
    parts = [("together", mode)]
    if mode == "nearby":
        parts.append(("distance", distance))
    if scope.coder_id is not None:
        parts.append(("coder", scope.coder_id))
    parts += [("status", s) for s in scope.statuses]
    if not scope.include_interviewer:
        parts.append(("speech", "participant"))
    if scope.population_text:
        parts.append(("where", scope.population_text))
    return urlencode(parts)


def links(scope: analytics.Scope, result: dict) -> list[list[str]]:
    """``links[i][j]`` for a co-occurrence result: the passages of code i behind cell (i, j).

    Empty for the diagonal (the code's own count: its ordinary retrieve link serves), for
    zero counts, and for counts hidden from the reader (``coding.suppression``): listing
    the passages would give the number away. The shared part of the links is built once
    (a result may have tens of thousands of cells).
    """
    from .suppression import Hidden

    codes = [int(c["code_id"]) for c in result["codes"]]
    base = f"/projects/{scope.project.pk}/retrieve/?code="
    tail = "&" + _scope_query(scope, result["mode"], result.get("distance") or 0)
    counts = result["counts"]
    return [
        [
            f"{base}{a}&with_code={b}{tail}"
            if i != j and counts[i][j] and not isinstance(counts[i][j], Hidden)
            else ""
            for j, b in enumerate(codes)
        ]
        for i, a in enumerate(codes)
    ]
