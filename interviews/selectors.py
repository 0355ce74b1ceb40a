"""Reads for projects, participants and interviews, in a fixed number of queries."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db.models import Count, F, Func, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import (
    AttributeDefinition,
    AttributeKind,
    AttributeValue,
    Interview,
    Membership,
    Participant,
    Project,
    Role,
)
from .services import attribute_value_of


def _count(model, **outer):
    """A correlated COUNT subquery (avoids the row multiplication of several joined Counts)."""
    return Coalesce(
        Subquery(
            model.objects.filter(**{k: OuterRef(v) for k, v in outer.items()})
            .order_by()
            .values(*outer)
            .annotate(n=Func(F("id"), function="COUNT"))
            .values("n")
        ),
        0,
    )


def projects_for_user(user) -> QuerySet[Project]:
    """The projects the user is a member of, with the user's role and counts, in one query."""
    return Project.objects.filter(memberships__user=user).annotate(
        my_role=F("memberships__role"),
        participant_count=_count(Participant, project="pk"),
        interview_count=_count(Interview, project="pk"),
    )


def participants_with_attributes(project: Project) -> QuerySet[Participant]:
    """Participants with their attribute rows prefetched (three queries for any page)."""
    return project.participants.prefetch_related(
        Prefetch(
            "attribute_values",
            queryset=AttributeValue.objects.select_related("definition").order_by("definition__order", "id"),
        )
    ).annotate(interview_count=Count("interviews"))


def attributes_of(participant: Participant) -> dict:
    """``{key: value}`` of a participant whose attribute rows were prefetched."""
    rows_by_definition: dict[int, list] = defaultdict(list)
    definitions = {}
    for row in participant.attribute_values.all():
        rows_by_definition[row.definition_id].append(row)
        definitions[row.definition_id] = row.definition
    return {
        definitions[d].key: attribute_value_of(definitions[d], rows) for d, rows in rows_by_definition.items()
    }


def filter_participants_by_attribute(queryset, project: Project, key: str, value: str):
    """Participants whose attribute ``key`` equals ``value`` (text form), for list filters.

    Unknown keys or values of the wrong type match nobody rather than erroring,
    so a stale link shows an empty list.
    """
    definition = AttributeDefinition.objects.filter(project=project, key=key).first()
    if definition is None:
        return queryset.none()
    condition = Q(attribute_values__definition=definition)
    if definition.kind in (AttributeKind.CATEGORICAL, AttributeKind.TEXT):
        condition &= Q(attribute_values__value_text=value)
    elif definition.kind in (AttributeKind.INTEGER, AttributeKind.DECIMAL):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return queryset.none()
        if not number.is_finite() or abs(number) >= 10**14:  # nothing stored is that large
            return queryset.none()
        condition &= Q(attribute_values__value_number=number)
    elif definition.kind == AttributeKind.BOOLEAN:
        if value.lower() not in ("true", "false"):
            return queryset.none()
        condition &= Q(attribute_values__value_bool=value.lower() == "true")
    else:
        try:
            condition &= Q(attribute_values__value_date=dt.date.fromisoformat(value))
        except ValueError:
            return queryset.none()
    return queryset.filter(pk__in=Participant.objects.filter(condition).values("pk"))


# ---------------------------------------------------------------- blind coding


def blind_interviews(membership: Membership) -> QuerySet | None:
    """Interviews on which ``membership`` may not yet see other coders' codings (ids, as a
    subquery), or None when nothing is hidden from them.

    Supervisors and owners see everything. For others an interview is blind until a
    supervisor reveals it, when the project codes blind or the member's own assignment
    on it is blind. (Here, not in ``coding``, so pages of this app can apply the rule
    too: it reaches reveals and assignments through the ORM's reverse relations.)
    """
    if membership.has_role(Role.SUPERVISOR):
        return None
    unrevealed = Interview.objects.filter(project_id=membership.project_id, reveal__isnull=True)
    if not membership.project.blind_coding:
        unrevealed = unrevealed.filter(assignments__coder_id=membership.user_id, assignments__blind=True)
    return unrevealed.values("pk")


def visible_codings_q(membership: Membership | None, prefix: str = "") -> Q:
    """A condition on codings (``prefix`` leads from the queried model to the coding, e.g.
    ``"codings__"``) that keeps those ``membership`` may see; everything for None."""
    hidden_on = blind_interviews(membership) if membership is not None else None
    if hidden_on is None:
        return Q()
    return Q(**{f"{prefix}coder_id": membership.user_id}) | ~Q(**{f"{prefix}interview__in": hidden_on})


def interviews_for_list(project: Project, membership: Membership | None = None) -> QuerySet[Interview]:
    """Interviews without their text, with participant and coding counts (of the codings
    ``membership`` may see, when given: blind coding hides other coders' codings)."""
    return (
        project.interviews.select_related("participant")
        .defer("text")
        .annotate(coding_count=Count("codings", filter=visible_codings_q(membership, "codings__") or None))
    )


# ---------------------------------------------------------------- pages


def members_of(project: Project) -> QuerySet[Membership]:
    return project.memberships.select_related("user").order_by("user__username")


def coding_progress(project: Project, membership: Membership | None = None) -> dict[int, dict[int, int]]:
    """``{interview_id: {coder_id: codings}}`` for the project, in one grouped query (only the
    codings ``membership`` may see, when given).

    Reads codings through the project's reverse relation so ``interviews`` need
    not import ``coding``.
    """
    progress: dict[int, dict[int, int]] = defaultdict(dict)
    rows = (
        project.codings.filter(visible_codings_q(membership))
        .order_by()
        .values("interview_id", "coder_id")
        .annotate(n=Count("id"))
        .values_list("interview_id", "coder_id", "n")
    )
    for interview_id, coder_id, n in rows:
        progress[interview_id][coder_id] = n
    return progress


_VALUE_COLUMN = {
    AttributeKind.CATEGORICAL: "value_text",
    AttributeKind.TEXT: "value_text",
    AttributeKind.INTEGER: "value_number",
    AttributeKind.DECIMAL: "value_number",
    AttributeKind.DATE: "value_date",
    AttributeKind.BOOLEAN: "value_bool",
}


def sort_participants_by_attribute(queryset, definition: AttributeDefinition, descending: bool = False):
    """Order participants by one attribute's typed value, participants without a value last."""
    column = _VALUE_COLUMN[AttributeKind(definition.kind)]
    first_value = (
        AttributeValue.objects.filter(participant=OuterRef("pk"), definition=definition)
        .order_by(column)
        .values(column)[:1]
    )
    queryset = queryset.annotate(sort_value=Subquery(first_value))
    order = F("sort_value").desc(nulls_last=True) if descending else F("sort_value").asc(nulls_last=True)
    return queryset.order_by(order, "pseudonym")


def participant_code_profile(participant: Participant, membership: Membership | None = None) -> list[dict]:
    """The codes applied in a participant's interviews, with counts, in one grouped query
    (only the codings ``membership`` may see, when given)."""
    return list(
        participant.project.codings.filter(interview__participant=participant)
        .filter(visible_codings_q(membership))
        .order_by()
        .values("code_id", "code__name", "code__colour")
        .annotate(codings=Count("id"), interviews=Count("interview_id", distinct=True))
        .order_by("-codings", "code__name")
    )
