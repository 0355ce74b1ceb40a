"""Small-cell suppression of analytics for viewers (``Project.min_cell_size``).

A project can ask that viewers never see an aggregate count of fewer than k people
(or interviews, codings, words), so a small community cannot be re-identified from a
crosstab. This module is the one place that does it: the API
(``coding/api_analytics.py``) and the dashboard with its downloads
(``coding/views/analytics.py``) pass every analytics result through ``suppress``
after the selectors have computed it; the selectors themselves know nothing of roles.

Rules:
- a count ``c`` with ``0 < c < k`` is suppressed; zero is shown (it names nobody);
- in API answers a suppressed count is ``null`` and its row or cell carries
  ``"suppressed": true`` (matrices of numbers, such as co-occurrence counts, get a
  parallel ``suppressed_cells`` list of [row, column] pairs); the page and downloads
  show ``<k`` instead (``Hidden``);
- everything derived from a suppressed count is removed too: shares, row and column
  percentages, intervals, Jaccard measures, sentences quoting the number, and the list of
  who is in a suppressed group (a query answer or profile naming 2 participants would
  otherwise give the count away);
- every answer gets ``"suppression": {"min_cell_size": k, "cells": n}``.

Supervisors and owners (and coders) see every count; only viewers are suppressed,
as the project setting says. Row and column totals below k are hidden like any other count.

Complementary suppression in the crosstab: a code's row adds up to its total (each
participant with the code has one value of a single-valued variable, or none), so a row
whose total is shown and with exactly one hidden cell would give that cell away by
subtraction. The row's smallest other non-zero cell is hidden as well (``"complementary":
true`` in the API, "hidden" on the page), or, when there is none, the row's total. Columns
need no such rule: a column's total counts everyone with the value, with or without any of
the codes, and a participant may carry several codes, so a column does not add up.

Per-participant tables are not aggregates and are left as they are: the participant ×
code matrix (one row per person, which viewers may read in full on the participant
pages) and saturation (new codes per interview).
"""

from __future__ import annotations

import copy

from interviews.models import Role

SUPPRESSING_ROLES = {Role.VIEWER}


class Hidden(int):
    """A suppressed count on the page: 0 in chart arithmetic, true, and reads ``<k`` in text
    (``hidden`` when it is not small but hidden so that a small one cannot be worked out)."""

    def __new__(cls, k: int, *, complementary: bool = False):
        value = super().__new__(cls, 0)
        value.k = k
        value.complementary = complementary
        return value

    def __str__(self) -> str:
        return "hidden" if self.complementary else f"<{self.k}"

    __repr__ = __str__

    def __bool__(self) -> bool:
        return True  # it stands for a count between 1 and k - 1

    def __format__(self, spec: str) -> str:
        return str(self)


def threshold(membership) -> int:
    """The k this member's analytics are suppressed at (0: nothing is suppressed)."""
    k = membership.project.min_cell_size or 0
    return k if k > 1 and membership.role in SUPPRESSING_ROLES else 0


class _Suppressor:
    def __init__(self, k: int, hidden):
        self.k = k
        self.hidden = hidden
        self.complementary = Hidden(k, complementary=True) if isinstance(hidden, Hidden) else hidden
        self.cells = 0

    def small(self, value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < self.k

    def count(self, value):
        """The value, or the hidden marker if it is a small count."""
        if self.small(value):
            self.cells += 1
            return self.hidden
        return value

    def hide(self, row: dict, *keys: str, derived: tuple = ()) -> bool:
        """Suppress ``row[key]`` for small counts; clear ``derived`` keys if any was suppressed."""
        hit = False
        for key in keys:
            if key in row and self.small(row[key]):
                row[key] = self.count(row[key])
                hit = True
        if hit:
            self.clear(row, derived)
        return hit

    def withhold(self, row: dict, key: str, derived: tuple = ()) -> None:
        """Hide ``row[key]`` although it is not small: it would give a hidden count away."""
        row[key] = self.complementary
        row["complementary"] = True
        self.cells += 1
        self.clear(row, derived)

    @staticmethod
    def clear(row: dict, derived: tuple) -> None:
        for key in derived:
            if key in row:
                row[key] = None
        row["suppressed"] = True


def _frequencies(s: _Suppressor, result: dict) -> None:
    n_hidden = s.hide(result, "n")
    for row in result["rows"]:
        s.hide(row, "count", derived=("share",))
        if n_hidden:
            row["share"] = None
        per_coder = row.get("per_coder") or {}
        hidden = [key for key, value in per_coder.items() if s.small(value)]
        for key in hidden:
            per_coder[key] = s.count(per_coder[key])
        if hidden:
            row["suppressed"] = True


CELL_DERIVED = ("row_pct", "col_pct", "link")


def _crosstab(s: _Suppressor, result: dict) -> None:
    s.hide(result, "n")
    hidden_columns = set()
    for i, column in enumerate(result["columns"]):
        if s.hide(column, "n"):
            hidden_columns.add(i)
    for row in result["rows"]:
        row_hidden = s.hide(row, "n")
        for i, cell in enumerate(row["cells"]):
            s.hide(cell, "count", derived=CELL_DERIVED)
            if row_hidden:
                cell["row_pct"] = None
            if i in hidden_columns:
                cell["col_pct"] = None
        if not row_hidden:
            _complement_row(s, row)


def _complement_row(s: _Suppressor, row: dict) -> None:
    """A shown total less the shown cells must not leave exactly one hidden cell."""
    cells = row["cells"]
    if sum(1 for cell in cells if cell.get("suppressed")) != 1:
        return
    others = [cell for cell in cells if not cell.get("suppressed") and cell["count"]]
    if others:
        s.withhold(min(others, key=lambda cell: cell["count"]), "count", derived=CELL_DERIVED)
    else:
        # The hidden cell is the whole row: so is its total (and the shares of it).
        s.withhold(row, "n")
        for cell in cells:
            cell["row_pct"] = None


def _heterogeneity(s: _Suppressor, result: dict) -> None:
    s.hide(result, "n")
    for group in result["groups"]:
        few_coded = s.small(group.get("n_coded"))
        hit = s.hide(group, "n_population", "n_coded", "not_coded", "multiple")
        for category in group["categories"]:
            s.hide(category, "participants", derived=("share", "share_ci", "link"))
        if hit:
            group["sentence"] = (
                f"Some of the numbers behind this group are below {s.k} and are not shown to viewers."
            )
        if few_coded:
            # A distribution over fewer than k people describes those people.
            for key in ("shannon", "evenness", "gini_simpson", "richness"):
                group[key] = s.hidden
            group["ci"] = {key: None for key in group["ci"]}
            for category in group["categories"]:
                category["share"] = category["share_ci"] = None


def _profiles(s: _Suppressor, result: dict) -> None:
    s.hide(result, "n")
    if s.hide(result, "n_profiled"):
        result["order"] = []
    for profile in result["profiles"]:
        if s.hide(profile, "count"):
            profile["participants"] = []
    for cluster in result["clusters"]:
        if s.hide(cluster, "size"):
            cluster["members"] = []
            for characteristic in cluster["characteristic"]:
                characteristic["share"] = s.hidden


def _cooccurrence(s: _Suppressor, result: dict) -> None:
    cells = []
    for i, row in enumerate(result["counts"]):
        for j, value in enumerate(row):
            if s.small(value):
                row[j] = s.count(value)
                cells.append([i, j])
                if result.get("jaccard"):
                    result["jaccard"][i][j] = None
    # A Jaccard measure between two codes is computed from both diagonals: hide it when
    # either code's own count is hidden.
    hidden_codes = {i for i, j in cells if i == j}
    if result.get("jaccard") and hidden_codes:
        for i, row in enumerate(result["jaccard"]):
            for j in range(len(row)):
                if i in hidden_codes or j in hidden_codes:
                    row[j] = None
    result["suppressed_cells"] = cells


def _query(s: _Suppressor, result: dict) -> None:
    k, n = result["k"], result["n"]
    k_hidden, n_hidden = s.hide(result, "k"), s.hide(result, "n")
    if k_hidden or n_hidden:
        result["share"] = result["ci"] = None
        if k_hidden:
            result["participants"] = []
        result["sentence"] = (
            f"{f'Fewer than {s.k}' if k_hidden else k} of {f'fewer than {s.k}' if n_hidden else n} "
            f"participants match (numbers below {s.k} are not shown to viewers)."
        )
    for row in result.get("also_coded", []):
        s.hide(row, "count")


def _events(s: _Suppressor, result: dict) -> None:
    s.hide(result, "n")
    few_with_value = s.small(result.get("people_with_value"))
    s.hide(result, "people_with_value", "people_without_value")
    for row in result["distribution"]:
        s.hide(row, "participants")
    if few_with_value:
        # Sums and averages over fewer than k people describe those people.
        for key in ("events", "mean", "median", "min", "max", "events_per_person"):
            result[key] = None


SUPPRESSORS = {
    "frequencies": _frequencies,
    "crosstab": _crosstab,
    "heterogeneity": _heterogeneity,
    "profiles": _profiles,
    "cooccurrence": _cooccurrence,
    "query": _query,
    "events": _events,
    # Per-participant or per-interview tables, not aggregates (see the module docstring).
    "matrix": None,
    "saturation": None,
}


def suppress(kind: str, result: dict, k: int, *, hidden=None) -> dict:
    """``result`` of the analytic ``kind`` with counts below ``k`` suppressed (a copy).

    ``hidden`` is what a suppressed count becomes: ``None`` for the API, ``Hidden(k)`` for
    the page and downloads. With ``k`` 0 or 1 the result is returned unchanged.
    """
    if k <= 1:
        return result
    if kind not in SUPPRESSORS:
        raise KeyError(f"No suppression rule for analytic {kind!r}")
    suppressor = SUPPRESSORS[kind]
    result = copy.deepcopy(result)
    s = _Suppressor(k, hidden)
    if suppressor is not None:
        suppressor(s, result)
    result["suppression"] = {"min_cell_size": k, "cells": s.cells}
    return result
