"""The profile-query grammar: who fits a definition?

    expression  := or
    or          := and ("OR" and)*
    and         := not ("AND" not)*
    not         := "NOT" not | atom
    atom        := "(" expression ")"
                 | STRING                       a code by path or name: "Visa route/Belarusian tourist visa"
                 | "code:" (NUMBER | STRING)    a code by id (code:12) or path (code:"Visa route")
                 | KEY OP VALUE                 nationality = "Iraq", crossing_attempts >= 3
                 | KEY                          a yes/no attribute that is true
    OP          := = | != | < | <= | > | >=
    VALUE       := STRING | NUMBER | true | false

Keywords are case-insensitive. A code matches a participant with at least one eligible
coding of the code or any code below it (the same coding filters as the analytics: coder,
interview status, participant speech). ``KEY`` is an attribute key of the project or
``participant_type``. For a multi-valued attribute ``=`` means "includes". ``!=`` means
"has a value and it is not this one" (participants without a value match neither side).

The text is tokenised and parsed here into a small tree; the tree is compiled into a
``Condition``: SQL over the participant table (alias ``p``) built only from table and column
names taken from the models, resolved ids, and parameters. Nothing typed reaches SQL except
as a parameter, and nothing is ever ``eval``-ed. (SQL rather than ORM ``Q`` objects: every
analytic request with a definition compiles it, and building and compiling querysets cost
more than running the query.) The codes' coding filters are the analytics' own
``eligible_codings``, compiled once per request. Errors are ``ValidationError`` with the
position and what was expected, which the API returns as 400.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F

from interviews.models import AttributeKind, AttributeValue, Participant, ParticipantType

MAX_LENGTH = 2000
MAX_DEPTH = 40

TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<codeid>code:)
  | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<op><=|>=|!=|=|<|>)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
    """,
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "true", "false"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    value: object
    position: int


# ---------------------------------------------------------------- tree


@dataclass(frozen=True)
class And:
    items: tuple


@dataclass(frozen=True)
class Or:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class CodeRef:
    name: str | None = None
    code_id: int | None = None


@dataclass(frozen=True)
class Compare:
    key: str
    op: str
    value: object
    position: int


class QueryError(ValidationError):
    pass


def _fail(field_name: str, message: str):
    raise QueryError({field_name: message})


def tokenize(text: str, field_name: str = "query") -> list[Token]:
    if not isinstance(text, str) or not text.strip():
        _fail(
            field_name,
            'Type an expression, e.g. "Visa route/Belarusian tourist visa" AND nationality = "Iraq".',
        )
    if len(text) > MAX_LENGTH:
        _fail(field_name, f"The expression is too long (over {MAX_LENGTH} characters).")
    tokens, pos = [], 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None:
            _fail(field_name, f"Unexpected character {text[pos]!r} at position {pos + 1}.")
        kind = match.lastgroup
        raw = match.group()
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", raw[1:-1])
            tokens.append(Token("string", raw, value, pos))
        elif kind == "number":
            tokens.append(Token("number", raw, Decimal(raw), pos))
        elif kind == "word" and raw.lower() in KEYWORDS:
            lowered = raw.lower()
            if lowered in ("true", "false"):
                tokens.append(Token("bool", raw, lowered == "true", pos))
            else:
                tokens.append(Token(lowered, raw, None, pos))
        elif kind != "space":
            tokens.append(Token(kind, raw, raw, pos))
        pos = match.end()
    tokens.append(Token("end", "", None, len(text)))
    return tokens


class Parser:
    def __init__(self, text: str, field_name: str = "query"):
        self.field_name = field_name
        self.tokens = tokenize(text, field_name)
        self.i = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, expected: str):
        token = self.peek()
        found = "the end of the expression" if token.kind == "end" else repr(token.text)
        _fail(self.field_name, f"Expected {expected} at position {token.position + 1}, found {found}.")

    def parse(self):
        tree = self.parse_or()
        if self.peek().kind != "end":
            self.error("AND, OR or the end of the expression")
        return tree

    def parse_or(self):
        items = [self.parse_and()]
        while self.peek().kind == "or":
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self):
        items = [self.parse_not()]
        while self.peek().kind == "and":
            self.take()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_not(self):
        if self.peek().kind == "not":
            self.take()
            self.enter()
            item = self.parse_not()
            self.depth -= 1
            return Not(item)
        return self.parse_atom()

    def enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            _fail(self.field_name, f"The expression nests more than {MAX_DEPTH} levels deep.")

    def parse_atom(self):
        token = self.peek()
        if token.kind == "lparen":
            self.take()
            self.enter()
            inner = self.parse_or()
            self.depth -= 1
            if self.peek().kind != "rparen":
                self.error("a closing parenthesis")
            self.take()
            return inner
        if token.kind == "string":
            self.take()
            return CodeRef(name=token.value)
        if token.kind == "codeid":
            self.take()
            ref = self.peek()
            if ref.kind == "number" and ref.value == ref.value.to_integral_value() and ref.value >= 0:
                self.take()
                return CodeRef(code_id=int(ref.value))
            if ref.kind == "string":
                self.take()
                return CodeRef(name=ref.value)
            self.error('a code id or a quoted code path after "code:"')
        if token.kind == "word":
            self.take()
            if self.peek().kind == "op":
                op = self.take().text
                value = self.peek()
                if value.kind not in ("string", "number", "bool"):
                    self.error(
                        f"a value to compare {token.text} with (a quoted text, a number, true or false)"
                    )
                self.take()
                return Compare(token.text, op, value.value, token.position)
            return Compare(token.text, "", True, token.position)
        self.error('a code in quotes, code:ID, an attribute comparison, NOT or "("')


def parse(text: str, field_name: str = "query"):
    return Parser(text, field_name).parse()


# ---------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Condition:
    """A condition on participants: SQL over ``{PARTICIPANT} p`` and its parameters."""

    sql: str
    params: tuple = ()

    def __and__(self, other: Condition) -> Condition:
        return Condition(f"({self.sql}) AND ({other.sql})", self.params + other.params)

    def participants_sql(self, project_id: int) -> tuple[str, list]:
        """The ids of the project's participants who meet the condition, as a SELECT."""
        return (
            f"SELECT p.id FROM {PARTICIPANT} p WHERE p.project_id = %s AND ({self.sql})",
            [project_id, *self.params],
        )


_q = connection.ops.quote_name
PARTICIPANT = _q(Participant._meta.db_table)
ATTRIBUTE_VALUE = _q(AttributeValue._meta.db_table)
_OPERATORS = {"=": "=", "!=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class Compiler:
    """Turns a parsed tree into a ``Condition`` for one project and coding scope."""

    def __init__(self, scope, field_name: str = "query"):
        self.scope = scope
        self.field_name = field_name
        self._paths = None

    # Read once per request and shared with the analytics; only when the expression needs them.

    @property
    def book(self):
        from .analytics import codebook

        return codebook(self.scope)

    @property
    def definitions(self):
        from .analytics import attribute_definitions

        return attribute_definitions(self.scope)

    def fail(self, message):
        _fail(self.field_name, message)

    def compile(self, node) -> Condition:
        if isinstance(node, And):
            parts = [self.compile(item) for item in node.items]
            return Condition(" AND ".join(f"({c.sql})" for c in parts), sum((c.params for c in parts), ()))
        if isinstance(node, Or):
            # Codes ORed together are one EXISTS over the union of their subtrees (the same
            # participants as an OR of one EXISTS per code, in one subquery instead of several).
            refs = [item for item in node.items if isinstance(item, CodeRef)]
            others = [self.compile(item) for item in node.items if not isinstance(item, CodeRef)]
            parts = ([self.codes(refs)] if refs else []) + others
            return Condition(" OR ".join(f"({c.sql})" for c in parts), sum((c.params for c in parts), ()))
        if isinstance(node, Not):
            inner = self.compile(node.item)
            return Condition(f"NOT ({inner.sql})", inner.params)
        if isinstance(node, CodeRef):
            return self.codes([node])
        return self.compare(node)

    # -- codes

    def resolve_code(self, ref: CodeRef) -> int:
        if ref.code_id is not None:
            if ref.code_id not in self.book:
                self.fail(f"No code with id {ref.code_id} in this project.")
            return ref.code_id
        wanted = ref.name.strip().casefold()
        if self._paths is None:
            self._paths = {pk: self.book.path(pk).casefold() for pk in self.book.order}
        by_path = [pk for pk, path in self._paths.items() if path == wanted]
        if len(by_path) == 1:
            return by_path[0]
        by_name = [pk for pk in self.book.order if self.book.name[pk].casefold() == wanted]
        if len(by_name) == 1:
            return by_name[0]
        if by_name:
            options = "; ".join(f'"{self.book.path(pk)}"' for pk in by_name[:5])
            self.fail(f'Several codes are called "{ref.name}"; give the path, e.g. {options}.')
        self.fail(f'No code "{ref.name}" in this codebook. Give its name, its path (Group/Code) or code:ID.')

    def eligible(self) -> tuple[str, list]:
        """The analytics' eligible codings (population aside) as (code_id, pid) rows: SQL,
        compiled once per request."""
        from .analytics import eligible_codings

        known = self.scope.loaded.get("eligible_by_participant")
        if known is None:
            codings = eligible_codings(self.scope, use_population=False).annotate(
                pid=F("interview__participant_id")
            )
            sql, params = codings.order_by().values("code_id", "pid").query.sql_with_params()
            known = self.scope.loaded["eligible_by_participant"] = (sql, list(params))
        return known

    def codes(self, refs: list[CodeRef]) -> Condition:
        """Participants with an eligible coding of any of the codes (or a code below one)."""
        ids = sorted({d for ref in refs for d in self.book.subtree(self.resolve_code(ref))})
        sql, params = self.eligible()
        marks = ", ".join(["%s"] * len(ids))
        # A correlated EXISTS (stops at the participant's first such coding) rather than
        # "id IN (every participant with such a coding)", which reads all those codings.
        return Condition(
            f"EXISTS (SELECT 1 FROM ({sql}) e WHERE e.pid = p.id AND e.code_id IN ({marks}))",
            (*params, *ids),
        )

    # -- attributes

    def compare(self, node: Compare) -> Condition:
        if node.key == "participant_type":
            return self.participant_type(node)
        definition = self.definitions.get(node.key)
        if definition is None:
            known = ", ".join(sorted([*self.definitions, "participant_type"]))
            self.fail(f"No attribute {node.key!r} in this project. Known attributes: {known}.")
        kind = definition.kind
        op = node.op
        if op == "":
            if kind != AttributeKind.BOOLEAN:
                self.fail(
                    f"Compare {node.key} with a value, e.g. {node.key} = "
                    + ('"…"' if kind in (AttributeKind.CATEGORICAL, AttributeKind.TEXT) else "3")
                    + "."
                )
            op = "="
        column, value = self.typed_value(definition, node.value)
        if op in ("<", "<=", ">", ">=") and kind not in (
            AttributeKind.INTEGER,
            AttributeKind.DECIMAL,
            AttributeKind.DATE,
        ):
            self.fail(f"{node.key} is not a number or a date; use = or != with it.")
        field = AttributeValue._meta.get_field(column)
        value = field.get_db_prep_value(value, connection)
        name = _q(field.column)
        values = f"SELECT av.participant_id FROM {ATTRIBUTE_VALUE} av WHERE av.definition_id = %s AND "
        matching = f"p.id IN ({values}av.{name} {_OPERATORS[op]} %s)"
        if op == "!=":
            # Has a value, and none of its values is this one.
            return Condition(
                f"p.id IN ({values}av.{name} IS NOT NULL) AND NOT {matching}",
                (definition.pk, definition.pk, value),
            )
        return Condition(matching, (definition.pk, value))

    def typed_value(self, definition, value):
        kind, key = definition.kind, definition.key
        if kind in (AttributeKind.CATEGORICAL, AttributeKind.TEXT):
            if not isinstance(value, str):
                self.fail(f'{key} holds text; put the value in quotes, e.g. {key} = "…".')
            if kind == AttributeKind.CATEGORICAL and value not in definition.choices:
                choices = ", ".join(f'"{c}"' for c in definition.choices)
                self.fail(f'"{value}" is not a value of {key}. Its values are: {choices}.')
            return "value_text", value
        if kind in (AttributeKind.INTEGER, AttributeKind.DECIMAL):
            if not isinstance(value, Decimal):
                self.fail(f"{key} is a number; compare it with a number, e.g. {key} >= 3.")
            return "value_number", value
        if kind == AttributeKind.BOOLEAN:
            if not isinstance(value, bool):
                self.fail(f"{key} is yes/no; compare it with true or false.")
            return "value_bool", value
        if not isinstance(value, str):
            self.fail(f'{key} is a date; give it in quotes as "YYYY-MM-DD".')
        try:
            return "value_date", dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f'{key} is a date; give it in quotes as "YYYY-MM-DD".')

    def participant_type(self, node: Compare) -> Condition:
        if node.op not in ("=", "!="):
            self.fail('Compare participant_type with = or !=, e.g. participant_type = "border_crosser".')
        if node.value not in ParticipantType.values:
            self.fail(f"participant_type is one of: {', '.join(ParticipantType.values)}.")
        column = _q(Participant._meta.get_field("participant_type").column)
        return Condition(f"p.{column} {'=' if node.op == '=' else '<>'} %s", (node.value,))


def compile_query(scope, text: str, *, field_name: str = "query") -> Condition:
    """Parse and compile ``text`` for the scope's project; ValidationError({field_name: …}) if invalid."""
    tree = parse(text, field_name)
    return Compiler(scope, field_name).compile(tree)


def validate_query(scope, text: str, *, field_name: str = "query") -> None:
    compile_query(scope, text, field_name=field_name)


__all__ = ["Condition", "QueryError", "compile_query", "parse", "tokenize", "validate_query"]
