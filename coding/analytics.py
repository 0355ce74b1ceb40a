"""Analytics selectors: one grouped query per question, returning plain data.

Every analytic works on a ``Scope``: the project, the unit, and the filters.

Which codings count ("eligible codings")
- Only codings by the chosen coder, when one is given; the coder may be the project's
  consensus layer (``coding.consensus``). Without a chosen coder every coder's codings
  count, but not the consensus layer's (it restates what the coders coded).
- Only codings in interviews whose status is in the chosen statuses (all when none).
- Only codings of participants in the population (a profile-query expression over
  attributes and codes, see ``coding.query``; all participants when none).
- Unless interviewer turns are included: a coding counts only if it overlaps a
  speaker turn whose role is *participant*. An interview without any turns counts
  wholly (nothing tells us who speaks). This is an ``EXISTS`` over SpeakerTurn
  ranges in SQL, never a Python loop.
- Blind coding: for a member below supervisor, other coders' codings on an interview that is
  blind for them and not yet revealed do not count (``make_scope(membership=...)``).

Units (the ``unit`` switch)
- ``participants`` (default): distinct participants with at least one eligible coding.
  N = participants in the population with at least one interview of the chosen statuses.
- ``interviews``: distinct interviews. N = those interviews.
- ``codings``: number of codings. N = all eligible codings.
- ``words``: words coded, approximated in SQL as (spaces + line breaks in the passage) + 1,
  summed over codings (overlapping codings each count). N = the same approximation over
  the whole transcripts in scope.

Hierarchy: counts are rolled up through the codebook: a parent (or folder) counts a
participant if any code below it applies. The roll-up joins a recursive closure
of the codebook (``WITH RECURSIVE``, portable between SQLite and PostgreSQL).

The filters are built with the ORM (so nothing from the request reaches SQL as a
name); the aggregates that need a recursive closure or a range self-join are raw
SQL around the ORM-compiled subquery, because the ORM cannot express them in one
statement. Python only runs statistics over the aggregated tables.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import chain
from urllib.parse import urlencode

import numpy as np
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length, Replace, Substr

from interviews.models import (
    AttributeDefinition,
    AttributeKind,
    AttributeValue,
    Interview,
    InterviewStatus,
    Participant,
    ParticipantType,
    Project,
    SpeakerRole,
    SpeakerTurn,
)
from interviews.selectors import visible_codings_q

from . import stats
from .models import Code, Coding
from .query import PARTICIPANT, Condition

UNITS = ("participants", "interviews", "codings", "words")
UNIT_LABELS = {
    "participants": "participants",
    "interviews": "interviews",
    "codings": "codings",
    "words": "words coded",
}


def retrieve_link(
    project_id: int,
    code_id: int | None = None,
    participant_id: int | None = None,
    *,
    descendants: bool = False,
    attribute: tuple[str, object] | None = None,
) -> str:
    """The retrieve page that shows the passages behind a number.

    ``descendants`` asks for the codes below too (a rolled-up count); ``attribute`` is a
    (key, value) filter on participants, for a crosstab cell.
    """
    if attribute is None and isinstance(code_id, int | None) and isinstance(participant_id, int | None):
        # The common case, without urlencode (ids need no quoting): called once per number shown.
        query = "&".join(
            part
            for part in (
                f"code={code_id}" if code_id is not None else "",
                "descendants=on" if descendants else "",
                f"participant={participant_id}" if participant_id is not None else "",
            )
            if part
        )
        return f"/projects/{project_id}/retrieve/" + (f"?{query}" if query else "")
    parts = []
    if code_id is not None:
        parts.append(("code", code_id))
    if descendants:
        parts.append(("descendants", "on"))
    if participant_id is not None:
        parts.append(("participant", participant_id))
    if attribute is not None:
        key, value = attribute
        parts.append(("attr", key))
        parts.append(("value", "true" if value is True else "false" if value is False else value))
    query = urlencode(parts)
    return f"/projects/{project_id}/retrieve/" + (f"?{query}" if query else "")


# ---------------------------------------------------------------- codebook


_CODEBOOK_SQL = (
    f"SELECT id, name, parent_id, is_codable, {connection.ops.quote_name('order')} "
    f"FROM {Code._meta.db_table} WHERE project_id = %s"
)


class Codebook:
    """The project's code tree, loaded in one query (codebooks are small: hundreds of codes)."""

    def __init__(self, project: Project):
        self.project = project
        # A plain statement rather than the ORM: every analytic request reads the codebook,
        # and compiling the queryset cost twice as long as running it.
        with connection.cursor() as cursor:
            cursor.execute(_CODEBOOK_SQL, [project.pk])
            rows = cursor.fetchall()
        self.name = {r[0]: r[1] for r in rows}
        self.parent = {r[0]: r[2] for r in rows}
        self.is_codable = {r[0]: bool(r[3]) for r in rows}  # SQLite gives 0/1
        sort_key = {r[0]: (r[4], r[1].lower(), r[0]) for r in rows}
        self.children: dict[int | None, list[int]] = defaultdict(list)
        for r in rows:
            self.children[r[2]].append(r[0])
        for ids in self.children.values():
            ids.sort(key=sort_key.__getitem__)
        self.order: list[int] = []
        self.depth: dict[int, int] = {}
        stack = [(pk, 0) for pk in reversed(self.children[None])]
        while stack:
            pk, depth = stack.pop()
            self.order.append(pk)
            self.depth[pk] = depth
            stack.extend((child, depth + 1) for child in reversed(self.children.get(pk, [])))
        self.position = {pk: i for i, pk in enumerate(self.order)}
        self._info: dict[int, dict] = {}

    def __contains__(self, pk) -> bool:
        return pk in self.name

    def path(self, pk: int) -> str:
        names = []
        while pk is not None:
            names.append(self.name[pk])
            pk = self.parent[pk]
        return "/".join(reversed(names))

    def subtree(self, pk: int) -> list[int]:
        found, stack = [], [pk]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(self.children.get(node, []))
        return found

    def closure(self, ancestors=None) -> list[tuple[int, int]]:
        """(ancestor, descendant) pairs, each code with itself and every code below it."""
        roots = self.order if ancestors is None else [a for a in ancestors if a in self.name]
        return [(a, d) for a in roots for d in self.subtree(a)]

    def groups(self) -> list[int]:
        """Codes with children (folders such as "Visa route"), in tree order."""
        return [pk for pk in self.order if self.children.get(pk)]

    def group(self, pk) -> int:
        """A code id that has children, or a researcher-readable error."""
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise ValidationError({"group": "Give the id of a code group (a code with codes below it)."})
        if pk not in self.name:
            raise ValidationError({"group": f"No code with id {pk} in this project."})
        if not self.children.get(pk):
            raise ValidationError(
                {"group": f"{self.name[pk]!r} has no codes below it, so it is not a group."}
            )
        return pk

    def info(self, pk: int) -> dict:
        """The code's description (a new dict each time: callers add to it)."""
        known = self._info.get(pk)
        if known is None:
            known = self._info[pk] = {
                "code_id": pk,
                "name": self.name[pk],
                "path": self.path(pk),
                "depth": self.depth.get(pk, 0),
                "is_codable": self.is_codable[pk],
                "parent_id": self.parent[pk],
            }
        return dict(known)


# ---------------------------------------------------------------- scope


@dataclass(frozen=True)
class Scope:
    """What to count and which codings count. Build it with ``make_scope``, once per request.

    ``loaded`` holds what a request reads once and reuses (the codebook, the attribute
    definitions); scopes derived with ``dataclasses.replace`` share it (same project).
    """

    project: Project
    unit: str = "participants"
    coder_id: int | None = None
    statuses: tuple[str, ...] = ()
    include_interviewer: bool = False
    # Who is counted: a profile-query condition (coding.query.Condition) or None for everyone.
    population: Condition | None = field(default=None, compare=False)
    population_text: str = ""
    # Blind coding: a condition on codings keeping those the requesting member may see
    # (None: everything, as for supervisors).
    visible: Q | None = field(default=None, compare=False)
    loaded: dict = field(default_factory=dict, compare=False, repr=False)


def codebook(scope: Scope) -> Codebook:
    """The project's codebook, loaded once per scope (one query) and reused."""
    book = scope.loaded.get("codebook")
    if book is None:
        book = scope.loaded["codebook"] = Codebook(scope.project)
    return book


def attribute_definitions(scope: Scope) -> dict[str, AttributeDefinition]:
    """The project's attribute definitions by key, loaded once per scope (one query) and reused."""
    definitions = scope.loaded.get("definitions")
    if definitions is None:
        # A raw statement (no queryset to compile: this runs once in every request).
        table, order = AttributeDefinition._meta.db_table, connection.ops.quote_name("order")
        definitions = scope.loaded["definitions"] = {
            d.key: d
            for d in AttributeDefinition.objects.raw(
                f"SELECT * FROM {table} WHERE project_id = %s ORDER BY {order}, id",  # noqa: S611
                [scope.project.pk],
            )
        }
    return definitions


def make_scope(
    project: Project,
    *,
    unit: str = "participants",
    coder_id: int | None = None,
    statuses=(),
    include_interviewer: bool = False,
    where: str = "",
    book: Codebook | None = None,
    membership=None,
) -> Scope:
    """Validate the filters and return a Scope (ValidationError with a clear message otherwise).

    ``book``: the project's Codebook when the caller has already loaded it (not read again).
    ``membership``: who asks; blind coding hides other coders' codings on blind interviews
    from members below supervisor (``interviews.selectors.blind_interviews``).
    """
    from .query import compile_query  # the grammar needs the scope for code references

    if unit not in UNITS:
        raise ValidationError({"unit": f"Choose one of: {', '.join(UNITS)}."})
    statuses = tuple(statuses or ())
    bad = [s for s in statuses if s not in InterviewStatus.values]
    if bad:
        raise ValidationError(
            {"status": f"Unknown interview status {bad[0]!r}; use {', '.join(InterviewStatus.values)}."}
        )
    if (
        coder_id is not None
        and coder_id != project.consensus_user_id
        and not project.memberships.filter(user_id=coder_id).exists()
    ):
        raise ValidationError({"coder": f"User {coder_id} is not a member of this project."})
    scope = Scope(
        project=project,
        unit=unit,
        coder_id=coder_id,
        statuses=statuses,
        include_interviewer=include_interviewer,
        visible=(visible_codings_q(membership) or None) if membership is not None else None,
    )
    if book is not None:
        if book.project.pk != project.pk:
            raise ValueError("the codebook belongs to another project")
        scope.loaded["codebook"] = book
    if where and where.strip():
        q = compile_query(scope, where, field_name="where")
        scope = replace(scope, population=q, population_text=where.strip())
    return scope


def _interviews_with_status(scope: Scope) -> QuerySet[Interview]:
    interviews = Interview.objects.filter(project=scope.project)
    if scope.statuses:
        interviews = interviews.filter(status__in=scope.statuses)
    return interviews


INTERVIEW = connection.ops.quote_name(Interview._meta.db_table)


def _population_sql(scope: Scope) -> tuple[str, list]:
    """Participants counted in N, as a SELECT of their ids: in the population, with ≥1
    interview of the chosen statuses. Written out rather than compiled from a queryset:
    every analytic request needs it, and compiling cost more than the database's work."""
    sql = (
        f"SELECT p.id FROM {PARTICIPANT} p WHERE p.project_id = %s AND p.id IN "
        f"(SELECT i.participant_id FROM {INTERVIEW} i WHERE i.project_id = %s"
    )
    params = [scope.project.pk, scope.project.pk]
    if scope.statuses:
        sql += f" AND i.status IN ({', '.join(['%s'] * len(scope.statuses))})"
        params.extend(scope.statuses)
    sql += ")"
    if scope.population is not None:
        sql += f" AND ({scope.population.sql})"
        params.extend(scope.population.params)
    return sql, params


def population(scope: Scope) -> QuerySet[Participant]:
    """Participants counted in N: in the population, with ≥1 interview of the chosen statuses."""
    return Participant.objects.filter(pk__in=RawSQL(*_population_sql(scope)))


def eligible_codings(scope: Scope, *, use_population: bool = True) -> QuerySet[Coding]:
    """The codings that count under the scope's filters (see the module docstring)."""
    codings = Coding.objects.filter(project=scope.project)
    if scope.visible is not None:
        codings = codings.filter(scope.visible)
    if scope.coder_id is not None:
        codings = codings.filter(coder_id=scope.coder_id)
    elif scope.project.consensus_user_id is not None:
        codings = codings.exclude(coder_id=scope.project.consensus_user_id)
    if scope.statuses:
        codings = codings.filter(interview__status__in=scope.statuses)
    if use_population and scope.population is not None:
        members = RawSQL(*scope.population.participants_sql(scope.project.pk))
        codings = codings.filter(interview__participant_id__in=members)
    if not scope.include_interviewer:
        codings = codings.filter(Exists(_participant_speech()) | ~Exists(_any_turn()))
    return codings


def _participant_speech():
    return SpeakerTurn.objects.filter(
        interview_id=OuterRef("interview_id"),
        role=SpeakerRole.PARTICIPANT,
        start__lt=OuterRef("end"),
        end__gt=OuterRef("start"),
    )


def _any_turn():
    return SpeakerTurn.objects.filter(interview_id=OuterRef("interview_id"))


def _word_count(text_expression):
    """Approximate words in SQL: spaces and line breaks + 1 (same on SQLite and PostgreSQL)."""
    without = Replace(Replace(text_expression, Value(" "), Value("")), Value("\n"), Value(""))
    return Length(text_expression) - Length(without) + 1


ELIGIBLE_COLUMNS = ["id", "code_id", "coder_id", "interview_id", "cstart", "cend", "participant_id"]


def _eligible_sql(scope: Scope, *, words: bool = False) -> tuple[str, list, list[str]]:
    """The eligible codings as SQL for the aggregates below.

    The participant-speech rule is written as a UNION ALL of "overlaps a participant turn"
    and "interview has no turns" (disjoint), not as ``EXISTS … OR NOT EXISTS``: an OR of
    subqueries makes PostgreSQL test every coding with a correlated subplan, while each
    half alone becomes a hash (anti-)semi-join — 4× faster on 100,000 codings.
    """
    codings = eligible_codings(replace(scope, include_interviewer=True)).annotate(
        pid=F("interview__participant_id")
    )
    columns = list(ELIGIBLE_COLUMNS)
    fields = ["id", "code_id", "coder_id", "interview_id", "start", "end", "pid"]
    if words:
        codings = codings.annotate(
            nwords=_word_count(Substr("interview__text", F("start") + 1, F("end") - F("start")))
        )
        fields.append("nwords")
        columns.append("words")
    if scope.include_interviewer:
        query = codings.order_by().values_list(*fields)
    else:
        spoken = codings.filter(Exists(_participant_speech())).order_by().values_list(*fields)
        unsegmented = codings.filter(~Exists(_any_turn())).order_by().values_list(*fields)
        query = spoken.union(unsegmented, all=True)
    sql, params = query.query.sql_with_params()
    return sql, list(params), columns


def _with_clause(scope: Scope, *, book=None, ancestors=None, words: bool = False):
    """``WITH closure(ancestor, descendant), eligible(...)`` and its parameters.

    The closure of the codebook (each code paired with itself and every code below it)
    comes from the Codebook already in memory, as a VALUES list: the planner then knows
    its exact size (a recursive CTE was misestimated by 50× on PostgreSQL, which switched
    on JIT compilation costing more than the query). ``ancestors`` limits it to the codes
    a question asks about.
    """
    parts, params = [], []
    if book is not None:
        pairs = book.closure(ancestors)
        if pairs:
            parts.append(
                "closure(ancestor, descendant) AS (VALUES " + ", ".join(["(%s, %s)"] * len(pairs)) + ")"
            )
            params.extend(v for pair in pairs for v in pair)
        else:
            parts.append("closure(ancestor, descendant) AS (SELECT 0, 0 WHERE 1 = 0)")
    sql, eligible_params, columns = _eligible_sql(scope, words=words)
    parts.append(f"eligible({', '.join(columns)}) AS ({sql})")
    params.extend(eligible_params)
    return "WITH " + ", ".join(parts), params


def _fetch(sql: str, params: list, *, guard_jit: bool = True) -> list[tuple]:
    """Rows of a raw statement. ``guard_jit=False`` for small statements (no transaction, no SET)."""
    if connection.vendor != "postgresql" or not guard_jit:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        # These are short aggregate queries over estimated-large joins: PostgreSQL's JIT
        # compiler would spend longer compiling them (over a second) than running them.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _unit_total_sql(scope: Scope, *, eligible_cte: bool = False) -> tuple[str, list]:
    """N for the scope's unit (see the module docstring) as a one-row, one-column SELECT.

    ``eligible_cte``: the statement already has the ``eligible`` CTE (for the codings unit,
    N is then counted from it instead of filtering the codings a second time).
    """
    if scope.unit == "codings" and eligible_cte:
        return "SELECT COUNT(*) FROM eligible", []
    if scope.unit == "participants":
        rows = population(scope).values("pk")
    elif scope.unit == "codings":
        rows = eligible_codings(scope).values("pk")
    else:
        rows = _interviews_with_status(scope).filter(participant__in=population(scope).values("pk"))
        if scope.unit == "words":
            sql, params = _sql_of(rows.annotate(nwords=_word_count(F("text"))).values("nwords"))
            return f"SELECT SUM(t.nwords) FROM ({sql}) t", params
        rows = rows.values("pk")
    sql, params = _sql_of(rows)
    return f"SELECT COUNT(*) FROM ({sql}) t", params


def unit_total(scope: Scope) -> int:
    """N for the scope's unit (see the module docstring)."""
    sql, params = _unit_total_sql(scope)
    return int(_fetch(sql, params, guard_jit=False)[0][0] or 0)


def _share(count, n) -> float | None:
    return None if not n else count / n


def _coders(project: Project) -> list[dict]:
    users = get_user_model().objects.filter(memberships__project=project).order_by("username")
    coders = [{"id": u.pk, "username": u.username} for u in users]
    if project.consensus_user_id is not None:
        coders.append({"id": project.consensus_user_id, "username": "Consensus"})
    return coders


def _scope_meta(scope: Scope, n: int | None = None) -> dict:
    return {
        "unit": scope.unit,
        "unit_label": UNIT_LABELS[scope.unit],
        "n": n,
        "coder": scope.coder_id,
        "status": list(scope.statuses),
        "include_interviewer": scope.include_interviewer,
        "where": scope.population_text,
    }


# ---------------------------------------------------------------- 1 code frequencies


def _rolled_up_counts(scope: Scope, book: Codebook, *, by_coder: bool) -> tuple[list[tuple], int]:
    """(code, coder or None, count) rows: totals per code, and with ``by_coder`` per code and
    coder; and N. All from one statement.

    The codings are first reduced to the codes as applied: distinct (code[, coder], unit)
    triples for participants and interviews, summed counts or words for codings and words.
    Only that much smaller table is joined to the codebook closure for the roll-up (distinct
    again there: a participant counts once for a parent however many codes below it apply;
    codings and words simply add up). The totals and the per-coder split read the same
    reduced table (a CTE used twice, which PostgreSQL evaluates once); N is a last row.
    """
    with_sql, params = _with_clause(scope, book=book, words=scope.unit == "words")
    coder = "e.coder_id, " if by_coder else ""
    if scope.unit in ("participants", "interviews"):
        key = "participant_id" if scope.unit == "participants" else "interview_id"
        reduced = f"SELECT DISTINCT e.code_id, {coder}e.{key} AS amount FROM eligible e"
        aggregate = "COUNT(DISTINCT r.amount)"
    else:
        amount = "COUNT(*)" if scope.unit == "codings" else "SUM(e.words)"
        reduced = f"SELECT e.code_id, {coder}{amount} AS amount FROM eligible e GROUP BY e.code_id"
        reduced += ", e.coder_id" if by_coder else ""
        aggregate = "SUM(r.amount)"
    join = "FROM reduced r JOIN closure cl ON cl.descendant = r.code_id"
    total_sql, total_params = _unit_total_sql(scope, eligible_cte=True)
    sql = (
        f"{with_sql}, reduced AS ({reduced}) "
        f"SELECT cl.ancestor, NULL, {aggregate} {join} GROUP BY cl.ancestor"
    )
    if by_coder:
        sql += (
            f" UNION ALL SELECT cl.ancestor, r.coder_id, {aggregate} {join} GROUP BY cl.ancestor, r.coder_id"
        )
    sql += f" UNION ALL SELECT NULL, NULL, ({total_sql})"
    rows, n = [], 0
    for row in _fetch(sql, params + total_params):
        if row[0] is None:
            n = int(row[2] or 0)
        else:
            rows.append(row)
    return rows, n


def code_frequencies(scope: Scope, *, per_coder: bool = True) -> dict:
    """Per code (rolled up through the hierarchy): count in the unit, share of N, and per coder.

    One grouped statement answers the totals, the per-coder split and N.
    """
    book = codebook(scope)
    counts, n = _rolled_up_counts(scope, book, by_coder=per_coder)
    totals: dict[int, int] = {}
    by_coder: dict[int, dict[int, int]] = defaultdict(dict)
    for code, coder, count in counts:
        if coder is None:
            totals[code] = int(count or 0)
        else:
            by_coder[code][coder] = int(count or 0)
    coders = []
    if per_coder:
        seen = {c for counts in by_coder.values() for c in counts}
        coders = [c for c in _coders(scope.project) if c["id"] in seen]
    rows = []
    for pk in book.order:
        count = totals.get(pk, 0)
        rows.append(
            {
                **book.info(pk),
                "count": count,
                "share": _share(count, n),
                "per_coder": {str(c): v for c, v in sorted(by_coder.get(pk, {}).items())},
                "link": retrieve_link(scope.project.pk, pk, descendants=bool(book.children.get(pk))),
            }
        )
    return {**_scope_meta(scope, n), "coders": coders, "rows": rows}


# ---------------------------------------------------------------- participant variables (attributes, codes)


@dataclass
class Variable:
    """A participant-level variable for crosstabs and sorting: an attribute, the type, or a code."""

    key: str
    label: str
    kind: str
    values_query: QuerySet  # (participant_id, value) rows, one per value held
    order: list = field(default_factory=list)
    participant_field: str = "participant_id"  # the column of values_query naming the participant

    def normalise(self, value):
        if value is None:
            return None
        if self.kind == AttributeKind.BOOLEAN:
            return bool(value)
        if self.kind in (AttributeKind.INTEGER, AttributeKind.DECIMAL):
            number = float(Decimal(str(value)))
            return int(number) if self.kind == AttributeKind.INTEGER else number
        if self.kind == AttributeKind.DATE:
            return value.isoformat() if isinstance(value, dt.date) else str(value)
        return str(value)

    def sort_key(self, value):
        if value is None:
            return (2, 0, "")
        if value in self.order:
            return (0, self.order.index(value), "")
        if isinstance(value, (int, float)):
            return (1, value, "")
        return (1, 0, str(value))


def variable(scope: Scope, key: str, *, field_name: str = "attribute") -> Variable:
    """Resolve ``key``: an attribute key, ``participant_type``, or ``code:ID`` (has ≥1 coding of it).

    A code-derived variable ("has ≥ 1 coding of X", rolled up through X's subtree) takes
    the values "yes"/"no" for every participant in the population.
    """
    key = (key or "").strip()
    people = population(scope)
    if key.startswith("code:"):
        book = codebook(scope)
        try:
            pk = int(key[5:])
        except ValueError:
            raise ValidationError({field_name: "Refer to a code as code:ID, e.g. code:12."})
        if pk not in book:
            raise ValidationError({field_name: f"No code with id {pk} in this project."})
        has_code = eligible_codings(scope).filter(
            code_id__in=book.subtree(pk), interview__participant_id=OuterRef("pk")
        )
        values = people.annotate(
            has=Case(When(Exists(has_code), then=Value("yes")), default=Value("no"))
        ).values_list("pk", "has")
        return Variable(
            key=key,
            label=f"has {book.path(pk)}",
            kind="code",
            values_query=values,
            order=["yes", "no"],
            participant_field="pk",
        )
    if key == "participant_type":
        return Variable(
            key=key,
            label="Participant type",
            kind=AttributeKind.CATEGORICAL,
            values_query=people.values_list("pk", "participant_type"),
            order=list(ParticipantType.values),
            participant_field="pk",
        )
    definition = attribute_definitions(scope).get(key)
    if definition is None:
        raise ValidationError({field_name: f"No attribute {key!r} in this project."})
    column = {
        AttributeKind.CATEGORICAL: "value_text",
        AttributeKind.TEXT: "value_text",
        AttributeKind.INTEGER: "value_number",
        AttributeKind.DECIMAL: "value_number",
        AttributeKind.DATE: "value_date",
        AttributeKind.BOOLEAN: "value_bool",
    }[definition.kind]
    values = AttributeValue.objects.filter(
        definition=definition, participant__in=people.values("pk"), **{f"{column}__isnull": False}
    ).values_list("participant_id", column)
    order = list(definition.choices) if definition.kind == AttributeKind.CATEGORICAL else []
    if definition.kind == AttributeKind.BOOLEAN:
        order = [True, False]
    return Variable(key=key, label=definition.label, kind=definition.kind, values_query=values, order=order)


def _sql_of(queryset) -> tuple[str, list]:
    sql, params = queryset.order_by().query.sql_with_params()
    return sql, list(params)


# ---------------------------------------------------------------- 4 code × attribute crosstab


def crosstab(scope: Scope, *, group, attribute: str) -> dict:
    """Codes of a group (rolled up) × values of a participant variable, at participant unit.

    cell = participants with the code and the value. Row % = cell / participants with
    the code (a participant with several values of a multi-valued attribute appears in
    each, so a row can add up to more than 100%). Column % = cell / participants in the
    population with that value. "(no value)" collects participants without one.
    """
    scope = replace(scope, unit="participants")
    book = codebook(scope)
    group = book.group(group)
    categories = book.children[group]
    var = variable(scope, attribute)
    with_sql, params = _with_clause(scope, book=book, ancestors=categories)
    var_sql, var_params = _sql_of(var.values_query)
    marks = ", ".join(["%s"] * len(categories))
    sql = (
        f"{with_sql}, var(participant_id, value) AS ({var_sql}), "
        f"pc AS (SELECT DISTINCT cl.ancestor AS code_id, e.participant_id FROM eligible e "
        f"JOIN closure cl ON cl.descendant = e.code_id WHERE cl.ancestor IN ({marks})) "
        f"SELECT pc.code_id, var.value, COUNT(DISTINCT pc.participant_id), 0 FROM pc "
        f"LEFT JOIN var ON var.participant_id = pc.participant_id GROUP BY pc.code_id, var.value "
        f"UNION ALL SELECT code_id, NULL, COUNT(*), 1 FROM pc GROUP BY code_id"
    )
    rows = _fetch(sql, params + var_params + list(categories))
    column_rows = _fetch(
        f"WITH var(participant_id, value) AS ({var_sql}) "
        f"SELECT value, COUNT(DISTINCT participant_id) FROM var GROUP BY value",
        var_params,
    )
    n = population(scope).count()
    cells: dict[tuple, int] = {}
    row_totals: dict[int, int] = {}
    for code, value, count, is_total in rows:
        if is_total:
            row_totals[code] = int(count)
        else:
            cells[(code, var.normalise(value))] = int(count)
    column_totals = {var.normalise(v): int(c) for v, c in column_rows}
    with_value = var.values_query.values(var.participant_field).distinct().count()
    values = sorted(set(column_totals) | {v for _, v in cells if v is not None}, key=var.sort_key)
    columns = [{"value": v, "label": _label(v), "n": column_totals.get(v, 0)} for v in values]
    if any(v is None for _, v in cells) or with_value < n:
        columns.append({"value": None, "label": "(no value)", "n": n - with_value})
    table = []
    for code in categories:
        row_n = row_totals.get(code, 0)
        table.append(
            {
                **book.info(code),
                "n": row_n,
                "link": retrieve_link(scope.project.pk, code, descendants=bool(book.children.get(code))),
                "cells": [
                    {
                        "link": retrieve_link(
                            scope.project.pk,
                            code,
                            descendants=bool(book.children.get(code)),
                            attribute=(var.key, c["value"]),
                        )
                        if var.kind not in ("code", "participant_type")
                        and var.key != "participant_type"
                        and c["value"] is not None
                        else retrieve_link(scope.project.pk, code, descendants=bool(book.children.get(code))),
                        "count": cells.get((code, c["value"]), 0),
                        "row_pct": _share(cells.get((code, c["value"]), 0), row_n),
                        "col_pct": _share(cells.get((code, c["value"]), 0), c["n"]),
                    }
                    for c in columns
                ],
            }
        )
    return {
        **_scope_meta(scope, n),
        "group": book.info(group),
        "attribute": {"key": var.key, "label": var.label, "kind": var.kind},
        "columns": columns,
        "rows": table,
    }


def _label(value) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


# ---------------------------------------------------------------- participants × categories of groups


def _category_presence(scope: Scope, book: Codebook, categories: list[int], *, with_n: bool = False):
    """Which participants have which categories (each rolled up through its subtree), and N.

    One statement returns the distinct (code as applied, participant) pairs of the codes at
    or below the categories (the aggregate the bare SQL of the benchmark returns) and, with
    ``with_n``, N (participants in the population) as a last row. The roll-up to the
    categories is the product of that participants × codes table with the codebook's 0/1
    closure, in numpy, instead of a join in SQL that multiplies the codings to aggregate.

    Returns (participant ids: sorted array, presence: participants × categories bool array,
    N or None). A category may be listed twice (the same column twice).
    """
    categories = list(categories)
    if not categories:
        n = unit_total(replace(scope, unit="participants")) if with_n else None
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=bool), n
    below = {c: book.subtree(c) for c in dict.fromkeys(categories)}
    universe = np.array(sorted(book.name), dtype=np.int64)
    wanted = sorted({d for codes in below.values() for d in codes})
    with_sql, params = _with_clause(scope)
    sql = f"{with_sql} SELECT DISTINCT e.code_id, e.participant_id FROM eligible e"
    if len(wanted) < len(universe):
        sql += f" WHERE e.code_id IN ({', '.join(['%s'] * len(wanted))})"
        params += wanted
    if with_n:  # a last row (code -1: ids are positive) carries N
        total_sql, total_params = _unit_total_sql(replace(scope, unit="participants"))
        sql += f" UNION ALL SELECT -1, ({total_sql})"
        params += total_params
    rows = _fetch(sql, params)
    table = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=2 * len(rows)).reshape(-1, 2)
    n = None
    if with_n:
        last = table[:, 0] == -1
        n = int(table[last, 1][0])
        table = table[~last]
    column = np.searchsorted(universe, table[:, 0]).clip(max=max(len(universe) - 1, 0))
    known = universe[column] == table[:, 0] if len(universe) else np.zeros(len(table), dtype=bool)
    table, column = table[known], column[known]
    participants, row = np.unique(table[:, 1], return_inverse=True)
    # The closure as lists: for each code, the category columns at or above it (usually one).
    position = {code: i for i, code in enumerate(universe.tolist())}
    above: list[list[int]] = [[] for _ in range(len(universe))]
    for j, c in enumerate(categories):
        for code in below[c]:
            above[position[code]].append(j)
    counts = np.array([len(a) for a in above], dtype=np.int64)
    flat = np.array([j for a in above for j in a], dtype=np.int64)
    first = np.cumsum(counts) - counts
    # Each (code, participant) pair marks the participant in every category above the code.
    repeat = counts[column]
    rows = np.repeat(row, repeat)
    offsets = np.arange(int(repeat.sum())) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    presence = np.zeros((len(participants), len(categories)), dtype=bool)
    presence[rows, flat[np.repeat(first[column], repeat) + offsets]] = True
    return participants, presence, n


def _participant_categories(scope: Scope, book: Codebook, categories: list[int]) -> list[tuple[int, int]]:
    """Distinct (category code, participant) pairs, categories rolled up through their subtrees."""
    categories = list(dict.fromkeys(categories))
    participants, presence, _n = _category_presence(scope, book, categories)
    rows, columns = np.nonzero(presence)
    pairs = zip(rows.tolist(), columns.tolist(), strict=True)
    return [(categories[c], int(participants[r])) for r, c in pairs]


# ---------------------------------------------------------------- 5 heterogeneity


def heterogeneity(
    scope: Scope,
    *,
    groups,
    bootstrap: int = stats.DEFAULT_BOOTSTRAP,
    seed: int = stats.DEFAULT_SEED,
) -> dict:
    """Diversity of each code group over participants, with bootstrap 95% intervals.

    Categories are the group's direct children (each rolled up through its subtree).
    A participant coded with k categories of one group counts 1/k towards each (fractional
    weights): every participant weighs the same, shares add up to 100%, and N stays the
    number of people. Gini–Simpson then reads "two participants drawn at random (and one
    of their categories each) differ". Participants with no category of the group are not
    in its distribution; they are reported as ``not_coded``. How many had several
    categories is reported as ``multiple``.

    Intervals: one bootstrap for all the groups asked for. Each replicate resamples the N
    participants with replacement; a group's statistics in it are computed over the drawn
    participants who have one of its categories (``stats.diversity_of_groups``).
    """
    scope = replace(scope, unit="participants")
    book = codebook(scope)
    group_ids = [book.group(g) for g in groups]
    categories = list(dict.fromkeys(c for g in group_ids for c in book.children[g]))
    column = {c: j for j, c in enumerate(categories)}
    # One statement: who has which category, and N. Then one bootstrap for all groups.
    _participants, presence, n = _category_presence(scope, book, categories, with_n=True)
    presences = [presence[:, [column[c] for c in book.children[g]]] for g in group_ids]
    diversities = stats.diversity_of_groups(
        [stats.fractional_weights(p) for p in presences], participants=n, bootstrap=bootstrap, seed=seed
    )
    results = []
    for g, group_presence, result in zip(group_ids, presences, diversities, strict=True):
        cats = book.children[g]
        n_coded = result["n"]
        share_ci = result["ci"]["shares"] or [None] * len(cats)
        people_per_category = group_presence.sum(axis=0)
        multiple = int((group_presence.sum(axis=1) >= 2).sum())
        results.append(
            {
                "group": book.info(g),
                "n_population": n,
                "n_coded": n_coded,
                "not_coded": n - n_coded,
                "multiple": multiple,
                "richness": result["richness"],
                "categories_defined": len(cats),
                "shannon": result["shannon"],
                "evenness": result["evenness"],
                "gini_simpson": result["gini_simpson"],
                "ci": {k: v for k, v in result["ci"].items() if k != "shares"},
                "bootstrap": result["bootstrap"],
                "categories": [
                    {
                        **book.info(c),
                        "share": result["shares"][i],
                        "share_ci": share_ci[i],
                        "participants": int(people_per_category[i]),
                        "link": retrieve_link(scope.project.pk, c, descendants=bool(book.children.get(c))),
                    }
                    for i, c in enumerate(cats)
                ],
                "sentence": diversity_sentence(book.name[g], result, n_coded, multiple),
            }
        )
    return {**_scope_meta(scope, n), "weighting": "fractional (1/k per participant)", "groups": results}


def diversity_sentence(group_name: str, result: dict, n_coded: int, multiple: int) -> str:
    if n_coded < 2:
        return (
            f"Fewer than two participants have a {group_name.lower()} coded, so diversity cannot be measured."
        )
    gs = result["gini_simpson"]
    ci = result["ci"].get("gini_simpson")
    interval = f" (95% interval {ci[0]:.0%}–{ci[1]:.0%})" if ci else ""
    sentence = (
        f"Two participants drawn at random have a different {group_name.lower()} "
        f"{gs:.0%} of the time{interval}; {result['richness']} categories occur among {n_coded} participants."
    )
    if multiple:
        sentence += f" {multiple} participant(s) have several and count fractionally in each."
    return sentence


# ---------------------------------------------------------------- 6 profiles


def profiles(scope: Scope, *, groups, clusters: int = 4) -> dict:
    """Distinct combinations of categories over the chosen groups, and clusters of participants.

    Each participant's profile is the set of categories (children of the chosen groups,
    rolled up) coded for them. Participants without any are left out of the clustering.
    Distance: Jaccard between profiles; clustering: average linkage (SciPy), cut into
    at most ``clusters`` clusters. A cluster's characteristic codes are those held by at
    least half its members, ordered by how much more common they are in it than overall.
    """
    scope = replace(scope, unit="participants")
    book = codebook(scope)
    group_ids = [book.group(g) for g in groups]
    categories = [c for g in group_ids for c in book.children[g]]
    pairs = _participant_categories(scope, book, categories)
    people = dict(population(scope).values_list("pk", "pseudonym"))
    sets: dict[int, set] = defaultdict(set)
    for c, p in pairs:
        sets[p].add(c)
    members = sorted(sets, key=lambda p: (people.get(p, ""), p))
    index = {c: i for i, c in enumerate(categories)}
    presence = np.zeros((len(members), len(categories)), dtype=bool)
    for r, p in enumerate(members):
        for c in sets[p]:
            presence[r, index[c]] = True
    combos = Counter(frozenset(sets[p]) for p in members)
    distinct = [
        {
            "codes": [book.info(c) for c in sorted(combo, key=book.position.__getitem__)],
            "participants": sorted(
                (people.get(p, str(p)) for p in members if frozenset(sets[p]) == combo), key=str
            ),
            "count": count,
        }
        for combo, count in sorted(combos.items(), key=lambda kv: (-kv[1], sorted(kv[0])))
    ]
    order, labels, distances = stats.cluster_rows(presence, clusters=clusters)
    overall = presence.mean(axis=0) if len(members) else np.zeros(len(categories))
    cluster_list = []
    for label in sorted(set(labels)):
        rows = [i for i, lab in enumerate(labels) if lab == label]
        share = presence[rows].mean(axis=0)
        characteristic = sorted(
            (i for i in range(len(categories)) if share[i] >= 0.5),
            key=lambda i: (-(share[i] - overall[i]), -share[i], book.position[categories[i]]),
        )
        cluster_list.append(
            {
                "label": label,
                "size": len(rows),
                "members": [
                    {"participant_id": members[i], "pseudonym": people.get(members[i])} for i in rows
                ],
                "characteristic": [
                    {**book.info(categories[i]), "share": float(share[i]), "overall": float(overall[i])}
                    for i in characteristic
                ],
            }
        )
    n = len(people)
    return {
        **_scope_meta(scope, n),
        "groups": [book.info(g) for g in group_ids],
        "n_profiled": len(members),
        "distinct_profiles": len(combos),
        "profiles": distinct,
        "order": [members[i] for i in order],
        "mean_distance": float(distances.mean()) if len(distances) else None,
        "clusters": cluster_list,
    }


# ---------------------------------------------------------------- 2 participant × code matrix


MATRIX_VALUES = ("presence", "count", "coverage")


def participant_code_matrix(
    scope: Scope, *, value: str = "presence", group=None, sort: str | None = None, cluster: bool = False
) -> dict:
    """Participants × codes (rolled up). ``value``: presence (0/1), count (codings) or coverage
    (characters coded, summed over codings). Rows: the population, ordered by pseudonym, by
    an attribute (``sort``), or by average-linkage Jaccard clustering of presence (``cluster``).
    """
    if value not in MATRIX_VALUES:
        raise ValidationError({"value": f"Choose one of: {', '.join(MATRIX_VALUES)}."})
    book = codebook(scope)
    codes = book.subtree(book.group(group))[1:] if group is not None else list(book.order)
    codes.sort(key=book.position.__getitem__)
    # One grouped query at the codes as applied; counts and characters add up, so the
    # roll-up to parents is a product with the codebook's 0/1 closure matrix in numpy
    # (cheaper than joining the closure in SQL, which doubles the rows to aggregate).
    with_sql, params = _with_clause(scope)
    sql = (
        f"{with_sql} SELECT e.participant_id, e.code_id, COUNT(*), SUM(e.cend - e.cstart) "
        f"FROM eligible e GROUP BY e.participant_id, e.code_id"
    )
    rows = _fetch(sql, params)
    people = list(population(scope).order_by("pseudonym", "pk").values_list("pk", "pseudonym"))
    matrix = np.zeros((len(people), len(codes)), dtype=np.int64)
    if rows and people and codes:
        data = np.array(rows, dtype=np.int64)
        leaves = sorted({d for a in codes for d in book.subtree(a)})
        leaf_of = np.full(int(max(data[:, 1].max(), max(leaves))) + 1, -1)
        leaf_of[leaves] = np.arange(len(leaves))
        row_of = np.full(int(max(data[:, 0].max(), max(p for p, _ in people))) + 1, -1)
        row_of[[p for p, _ in people]] = np.arange(len(people))
        r, c = row_of[data[:, 0]], leaf_of[data[:, 1]]
        keep = (r >= 0) & (c >= 0)
        column = 3 if value == "coverage" else 2
        by_leaf = np.zeros((len(people), len(leaves)), dtype=np.int64)
        by_leaf[r[keep], c[keep]] = data[keep, column]
        closure = np.zeros((len(leaves), len(codes)), dtype=np.int64)
        for j, ancestor in enumerate(codes):
            closure[leaf_of[book.subtree(ancestor)], j] = 1
        matrix = by_leaf @ closure
        if value == "presence":
            matrix = (matrix > 0).astype(np.int64)
    order = list(range(len(people)))
    sort_values = {}
    if sort:
        var = variable(scope, sort, field_name="sort")
        held = defaultdict(list)
        for p, v in var.values_query:
            held[p].append(var.normalise(v))
        sort_values = {p: sorted(vs, key=var.sort_key) for p, vs in held.items()}
        order.sort(key=lambda i: var.sort_key(sort_values.get(people[i][0], [None])[0]))
    if cluster and len(people) > 1:
        order, _, _ = stats.cluster_rows(matrix > 0, clusters=1)
    rows = [
        {
            "participant_id": people[i][0],
            "pseudonym": people[i][1],
            "sort_value": sort_values.get(people[i][0]) if sort else None,
            "values": matrix[i].tolist(),
        }
        for i in order
    ]
    return {
        **_scope_meta(scope, len(people)),
        "value": value,
        "codes": [book.info(c) for c in codes],
        "rows": rows,
        "link_template": retrieve_link(scope.project.pk, 0, 0)
        .replace("code=0", "code={code}")
        .replace("participant=0", "participant={participant}"),
    }


# ---------------------------------------------------------------- 3 co-occurrence


COOCCURRENCE_MODES = ("overlap", "nearby", "participant")


def cooccurrence(scope: Scope, *, mode: str = "overlap", distance: int = 0, group=None) -> dict:
    """Codes × codes (as applied, not rolled up) that occur together.

    - ``overlap``: two codings in one interview share at least one character.
    - ``nearby``: the gap between them is at most ``distance`` characters (overlap included).
    - ``participant``: both codes are coded for the same participant (unit: participants).

    Counts are in the unit (participants or interviews with at least one such pair, or the
    number of coding pairs). The normalised measure is Jaccard over the unit's sets:
    pair / (units with a + units with b − pair); it is given for participants and
    interviews only (for coding pairs it has no set meaning). The diagonal is the count
    of each code.

    Overlap is found without a self-join: one query returns the eligible passages
    (five integers each) and ``stats.close_pairs`` sorts and sweeps them per interview,
    vectorised with numpy, at a cost that grows with the number of pairs found. (A range
    self-join in SQL, even one using the (interview, start) index, took 3× longer on
    the benchmark's 100,000 codings; see benchmarks/analytics.py.)
    """
    if mode not in COOCCURRENCE_MODES:
        raise ValidationError({"mode": f"Choose one of: {', '.join(COOCCURRENCE_MODES)}."})
    if not isinstance(distance, int) or distance < 0 or distance > 1_000_000:
        raise ValidationError({"distance": "Give a distance in characters between 0 and 1,000,000."})
    if mode == "participant":
        scope = replace(scope, unit="participants")
    if scope.unit == "words":
        raise ValidationError(
            {"unit": "Co-occurrence counts participants, interviews or codings, not words."}
        )
    book = codebook(scope)
    codes = [c for c in book.order if book.is_codable[c]]
    if group is not None:
        inside = set(book.subtree(book.group(group)))
        codes = [c for c in codes if c in inside]
    index = {c: i for i, c in enumerate(codes)}
    size = len(codes)
    counts = np.zeros((size, size), dtype=np.int64)
    with_sql, params = _with_clause(scope)
    if mode == "participant":
        # Same participant: the participant × code presence table is small (≤ people × codes),
        # so the pair counts are its cross-product, computed by numpy; the diagonal is each
        # code's number of participants.
        sql = f"{with_sql} SELECT DISTINCT e.participant_id, e.code_id FROM eligible e"
        people: dict[int, int] = {}
        rows = [(people.setdefault(p, len(people)), index[c]) for p, c in _fetch(sql, params) if c in index]
        presence = np.zeros((len(people), size), dtype=np.int64)
        for r, c in rows:
            presence[r, c] = 1
        counts += presence.T @ presence
    else:
        counts += _close_pair_counts(scope, with_sql, params, index, mode=mode, distance=distance)
    measure = None
    if scope.unit in ("participants", "interviews"):
        measure = [
            [
                1.0
                if i == j and counts[i, i]
                else (stats.jaccard_from_counts(int(counts[i, j]), int(counts[i, i]), int(counts[j, j])))
                if i != j
                else None
                for j in range(size)
            ]
            for i in range(size)
        ]
    return {
        **_scope_meta(scope, None),
        "mode": mode,
        "distance": distance if mode == "nearby" else None,
        "measure": "jaccard" if measure is not None else None,
        "codes": [book.info(c) for c in codes],
        "counts": counts.tolist(),
        "jaccard": measure,
    }


def _close_pair_counts(scope: Scope, with_sql: str, params: list, index: dict, *, mode: str, distance: int):
    """Codes × codes counts of overlapping / nearby passage pairs in the scope's unit."""
    rows = _fetch(
        f"{with_sql} SELECT e.code_id, e.interview_id, e.cstart, e.cend, e.participant_id FROM eligible e",
        params,
    )
    size = len(index)
    counts = np.zeros((size, size), dtype=np.int64)
    rows = [r for r in rows if r[0] in index]
    if not rows:
        return counts
    data = np.array(rows, dtype=np.int64)
    code = np.array([index[c] for c in data[:, 0]], dtype=np.int64)
    # The diagonal: each code's count in the unit.
    if scope.unit == "codings":
        diagonal = np.bincount(code, minlength=size)
    else:
        holder = data[:, 4 if scope.unit == "participants" else 1]
        _, holder = np.unique(holder, return_inverse=True)
        distinct = np.unique(code * (int(holder.max()) + 1) + holder)
        diagonal = np.bincount(distinct // (int(holder.max()) + 1), minlength=size)
    np.fill_diagonal(counts, diagonal)
    try:
        first, second = stats.close_pairs(
            data[:, 1], data[:, 2], data[:, 3], distance=distance, overlap=mode == "overlap"
        )
    except ValueError:
        raise ValidationError({"distance": "That distance pairs too many passages; choose a smaller one."})
    a, b = code[first], code[second]
    keep = a != b
    if not keep.any():
        return counts
    low, high = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
    pair = low * size + high
    if scope.unit != "codings":
        unit = data[first[keep], 4 if scope.unit == "participants" else 1]
        _, units = np.unique(unit, return_inverse=True)
        distinct = np.unique(pair * (int(units.max()) + 1) + units)
        pair = distinct // (int(units.max()) + 1)
    flat = np.bincount(pair, minlength=size * size).reshape(size, size)
    return counts + flat + flat.T


# ---------------------------------------------------------------- 9 saturation


SATURATION_ORDERS = ("date", "created")


def saturation(scope: Scope, *, order: str = "date") -> dict:
    """New codes per successive interview, overall and per coder.

    ``order``: ``date`` (interview date, undated last, then id) or ``created`` (id order).
    A code is new in the interview where it is first applied (overall, or by that coder).
    One grouped query finds each code's first position; codes are counted as applied.
    """
    if order not in SATURATION_ORDERS:
        raise ValidationError({"order": f"Choose one of: {', '.join(SATURATION_ORDERS)}."})
    interviews = _interviews_with_status(scope).filter(participant__in=population(scope).values("pk"))
    if order == "date":
        interviews = interviews.order_by(F("interview_date").asc(nulls_last=True), "pk")
    else:
        interviews = interviews.order_by("pk")
    listing = list(interviews.values_list("pk", "title", "interview_date", "participant__pseudonym"))
    rank = {pk: i for i, (pk, *_rest) in enumerate(listing)}
    with_sql, params = _with_clause(scope)
    sql = (
        f"{with_sql} SELECT e.code_id, e.coder_id, e.interview_id FROM eligible e "
        f"GROUP BY e.code_id, e.coder_id, e.interview_id"
    )
    # (code, coder, interview) distinct triples: at most codes × coders × interviews, usually far
    # fewer; the first position per code is the minimum rank among them.
    first_overall: dict[int, int] = {}
    first_by_coder: dict[tuple[int, int], int] = {}
    for code, coder, interview in _fetch(sql, params):
        r = rank.get(interview)
        if r is None:
            continue
        if r < first_overall.get(code, 1 << 60):
            first_overall[code] = r
        if r < first_by_coder.get((coder, code), 1 << 60):
            first_by_coder[(coder, code)] = r
    new_overall = Counter(first_overall.values())
    new_by_coder: dict[int, Counter] = defaultdict(Counter)
    for (coder, _code), r in first_by_coder.items():
        new_by_coder[coder][r] += 1
    coders = [c for c in _coders(scope.project) if c["id"] in new_by_coder]
    points, total = [], 0
    running = Counter()
    for i, (pk, title, date, pseudonym) in enumerate(listing):
        total += new_overall.get(i, 0)
        per_coder = {}
        for c in coders:
            running[c["id"]] += new_by_coder[c["id"]].get(i, 0)
            per_coder[str(c["id"])] = {"new": new_by_coder[c["id"]].get(i, 0), "cumulative": running[c["id"]]}
        points.append(
            {
                "position": i + 1,
                "interview_id": pk,
                "title": title,
                "date": date.isoformat() if date else None,
                "participant": pseudonym,
                "new": new_overall.get(i, 0),
                "cumulative": total,
                "per_coder": per_coder,
            }
        )
    return {**_scope_meta(scope, len(listing)), "order": order, "coders": coders, "points": points}


# ---------------------------------------------------------------- 10 events vs people


def events_vs_people(scope: Scope, *, attribute: str) -> dict:
    """A numeric attribute (e.g. crossing attempts) summed as events and set against people.

    One statement gives the distribution (value → participants, a grouped query) and N;
    sum, mean, median and the ratio of events to distinct people with a value follow from it.
    """
    definition = attribute_definitions(scope).get(attribute)
    if definition is None:
        raise ValidationError({"attribute": f"No attribute {attribute!r} in this project."})
    if definition.kind not in (AttributeKind.INTEGER, AttributeKind.DECIMAL):
        raise ValidationError({"attribute": f"{definition.label!r} is not a number attribute."})
    scope = replace(scope, unit="participants")
    # The population is compiled once and read twice (the distribution and N): the
    # statement is small, so compiling querysets was most of this analytic's time.
    people_sql, people_params = _population_sql(scope)
    values = AttributeValue._meta.db_table
    rows = _fetch(
        f"WITH people(id) AS ({people_sql}) "
        f"SELECT 0, av.value_number, COUNT(DISTINCT av.participant_id) FROM {values} av "
        "WHERE av.definition_id = %s AND av.value_number IS NOT NULL "
        "AND av.participant_id IN (SELECT id FROM people) GROUP BY av.value_number "
        "UNION ALL SELECT 1, NULL, COUNT(*) FROM people",
        people_params + [definition.pk],
        guard_jit=False,
    )
    n = next(int(c) for last, _v, c in rows if last)
    distribution = sorted((float(v), int(c)) for last, v, c in rows if not last)
    with_value = sum(c for _, c in distribution)
    events = sum(v * c for v, c in distribution)
    return {
        **_scope_meta(scope, n),
        "attribute": {"key": definition.key, "label": definition.label},
        "people_with_value": with_value,
        "people_without_value": n - with_value,
        "events": events,
        "mean": events / with_value if with_value else None,
        "median": stats.median_from_frequencies(distribution),
        "min": distribution[0][0] if distribution else None,
        "max": distribution[-1][0] if distribution else None,
        "events_per_person": events / with_value if with_value else None,
        "distribution": [{"value": v, "participants": c} for v, c in distribution],
    }


# ---------------------------------------------------------------- 7 profile query


def run_query(scope: Scope, expression: str, *, also: bool = True) -> dict:
    """Participants matching a profile-query expression: k of N with a Wilson 95% interval,
    and what else they share (code frequencies among the matches, participant unit)."""
    from .query import compile_query

    scope = replace(scope, unit="participants")
    q = compile_query(scope, expression)
    # One statement: the matching participants (sorted), then N as a last row. The
    # population is read twice (a CTE). Marking every participant with CASE WHEN
    # instead would turn the code conditions into scans of all their codings.
    people_sql, people_params = _population_sql(scope)
    rows = _fetch(
        f"WITH people(id) AS ({people_sql}) "
        f"SELECT 0, p.id, p.pseudonym FROM {PARTICIPANT} p WHERE p.project_id = %s "
        f"AND p.id IN (SELECT id FROM people) AND ({q.sql}) "
        "UNION ALL SELECT 1, COUNT(*), NULL FROM people ORDER BY 1, 3, 2",
        [*people_params, scope.project.pk, *q.params],
        guard_jit=False,
    )
    n = int(rows[-1][1])
    matched = [(pk, name) for last, pk, name in rows if not last]
    k = len(matched)
    interval = stats.wilson_interval(k, n)
    # One link per matching participant: the template is built once (hundreds of rows).
    link = retrieve_link(scope.project.pk, None, 0).replace("participant=0", "participant={participant}")
    combined = q if scope.population is None else (scope.population & q)
    also_coded = []
    if also and k:
        among = code_frequencies(replace(scope, population=combined), per_coder=False)
        also_coded = [
            {
                **{key: r[key] for key in ("code_id", "name", "path", "depth", "is_codable")},
                "count": r["count"],
            }
            for r in among["rows"]
            if r["count"]
        ]
    return {
        **_scope_meta(scope, n),
        "query": expression,
        "k": k,
        "share": _share(k, n),
        "ci": list(interval) if interval else None,
        "sentence": f"{k} of {n} participants match"
        + (f" ({k / n:.0%}, 95% interval {interval[0]:.0%}–{interval[1]:.0%})." if n else "."),
        "participants": [
            {"participant_id": pk, "pseudonym": name, "link": link.format(participant=pk)}
            for pk, name in matched
        ],
        "also_coded": also_coded,
    }
