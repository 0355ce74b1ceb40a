"""Analytics endpoints under /api/projects/{project_pk}/analytics/… and saved profile queries.

Thin: parameters are checked by strict serializers (unknown parameters → 400),
turned into a ``Scope`` and handed to the selectors in ``coding.analytics``.
Any member (viewers included) may read analytics; non-members get 404.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from interviews.access import require_own_or_supervise
from interviews.api_base import WRITE_METHODS, ProjectScopedViewSet, StrictSerializer
from interviews.models import InterviewStatus, Role

from . import analytics, services
from .models import SavedQuery
from .suppression import suppress, threshold


def _int_list(value: str, field_name: str) -> list[int]:
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise serializers.ValidationError({field_name: "Give code ids separated by commas, e.g. 3,7."})


class ScopeParams(StrictSerializer):
    unit = serializers.ChoiceField(choices=analytics.UNITS, default="participants")
    coder = serializers.IntegerField(required=False, help_text="Only codings by this user (id).")
    status = serializers.CharField(
        required=False,
        help_text=f"Interview statuses, comma-separated ({', '.join(InterviewStatus.values)}).",
    )
    include_interviewer = serializers.BooleanField(
        default=False, help_text="Count codings in interviewer turns too (default: participant speech only)."
    )
    where = serializers.CharField(
        required=False, max_length=2000, help_text="Population: a profile-query expression."
    )


class FrequencyParams(ScopeParams):
    per_coder = serializers.BooleanField(default=True)


class MatrixParams(ScopeParams):
    value = serializers.ChoiceField(choices=analytics.MATRIX_VALUES, default="presence")
    group = serializers.IntegerField(required=False)
    sort = serializers.CharField(required=False, max_length=80, help_text="Attribute key or code:ID.")
    cluster = serializers.BooleanField(default=False)


class CooccurrenceParams(ScopeParams):
    mode = serializers.ChoiceField(choices=analytics.COOCCURRENCE_MODES, default="overlap")
    distance = serializers.IntegerField(default=0, min_value=0, max_value=1_000_000)
    group = serializers.IntegerField(required=False)


class CrosstabParams(ScopeParams):
    group = serializers.IntegerField()
    attribute = serializers.CharField(max_length=80, help_text="Attribute key, participant_type or code:ID.")


class GroupsParams(ScopeParams):
    groups = serializers.CharField(
        required=False, help_text="Code group ids, comma-separated (default: all)."
    )


class HeterogeneityParams(GroupsParams):
    bootstrap = serializers.IntegerField(default=2000, min_value=0, max_value=10_000)
    seed = serializers.IntegerField(default=20211108, min_value=0)


class ProfileParams(GroupsParams):
    clusters = serializers.IntegerField(default=4, min_value=1, max_value=50)


class QueryParams(ScopeParams):
    q = serializers.CharField(
        max_length=2000, help_text='e.g. "Visa route/Belarusian tourist visa" AND NOT "No visa"'
    )


class QueryAlsoParams(QueryParams):
    also = serializers.BooleanField(default=True, help_text="Also count the codes the matches share.")


class SaturationParams(ScopeParams):
    order = serializers.ChoiceField(choices=analytics.SATURATION_ORDERS, default="date")


class EventsParams(ScopeParams):
    attribute = serializers.CharField(max_length=80)


SCOPE_FIELDS = {"unit", "coder", "status", "include_interviewer", "where"}


class AnalyticsViewSet(ProjectScopedViewSet):
    """Counts of people, diversity, profiles and definitions, computed by the database."""

    http_method_names = ["get", "head", "options"]

    def _params(self, serializer_class):
        serializer = serializer_class(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        scope = analytics.make_scope(
            self.project,
            unit=data.get("unit", "participants"),
            coder_id=data.get("coder"),
            statuses=[s.strip() for s in data.get("status", "").split(",") if s.strip()],
            include_interviewer=data.get("include_interviewer", False),
            where=data.get("where", ""),
            membership=self.membership,
        )
        return scope, {k: v for k, v in data.items() if k not in SCOPE_FIELDS}

    def _answer(self, kind, result):
        """The result as this member may see it (small counts suppressed for viewers)."""
        return Response(suppress(kind, result, threshold(self.membership)))

    def _groups(self, scope, extra):
        if extra.get("groups"):
            return _int_list(extra["groups"], "groups")
        return analytics.codebook(scope).groups()

    @extend_schema(parameters=[FrequencyParams], responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def frequencies(self, request, project_pk=None):
        scope, extra = self._params(FrequencyParams)
        return self._answer("frequencies", analytics.code_frequencies(scope, per_coder=extra["per_coder"]))

    @extend_schema(parameters=[MatrixParams], responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def matrix(self, request, project_pk=None):
        scope, extra = self._params(MatrixParams)
        return self._answer("matrix", analytics.participant_code_matrix(scope, **extra))

    @extend_schema(parameters=[CooccurrenceParams], responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def cooccurrence(self, request, project_pk=None):
        scope, extra = self._params(CooccurrenceParams)
        return self._answer("cooccurrence", analytics.cooccurrence(scope, **extra))

    @extend_schema(parameters=[CrosstabParams], responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def crosstab(self, request, project_pk=None):
        scope, extra = self._params(CrosstabParams)
        return self._answer("crosstab", analytics.crosstab(scope, **extra))

    @extend_schema(parameters=[HeterogeneityParams], responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def heterogeneity(self, request, project_pk=None):
        scope, extra = self._params(HeterogeneityParams)
        groups = self._groups(scope, extra)
        return self._answer(
            "heterogeneity",
            analytics.heterogeneity(scope, groups=groups, bootstrap=extra["bootstrap"], seed=extra["seed"]),
        )

    @extend_schema(parameters=[ProfileParams], responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def profiles(self, request, project_pk=None):
        scope, extra = self._params(ProfileParams)
        groups = self._groups(scope, extra)
        return self._answer("profiles", analytics.profiles(scope, groups=groups, clusters=extra["clusters"]))

    @extend_schema(parameters=[QueryAlsoParams], responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def query(self, request, project_pk=None):
        scope, extra = self._params(QueryAlsoParams)
        return self._answer("query", analytics.run_query(scope, extra["q"], also=extra["also"]))

    @extend_schema(parameters=[SaturationParams], responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def saturation(self, request, project_pk=None):
        scope, extra = self._params(SaturationParams)
        return self._answer("saturation", analytics.saturation(scope, **extra))

    @extend_schema(parameters=[EventsParams], responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def events(self, request, project_pk=None):
        scope, extra = self._params(EventsParams)
        return self._answer("events", analytics.events_vs_people(scope, **extra))


# ---------------------------------------------------------------- saved queries


class SavedQueryOutput(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SavedQuery
        fields = ["id", "name", "expression", "description", "created_by", "created_at", "updated_at"]
        read_only_fields = fields


class SavedQueryInput(StrictSerializer):
    name = serializers.CharField(max_length=120)
    expression = serializers.CharField(max_length=2000)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class SavedQueryUpdateInput(StrictSerializer):
    name = serializers.CharField(max_length=120, required=False)
    expression = serializers.CharField(max_length=2000, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class SavedQueryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Named profile queries. Coders save their own; supervisors and owners change anyone's."""

    serializer_class = SavedQueryOutput
    http_method_names = WRITE_METHODS
    write_role = Role.CODER
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]
    filterset_fields: list[str] = []

    def get_queryset(self):
        return self.scoped(SavedQuery.objects.select_related("created_by"))

    @extend_schema(request=SavedQueryInput, responses={201: SavedQueryOutput})
    def create(self, request, project_pk=None):
        data = self.validated(SavedQueryInput)
        query = services.create_saved_query(project=self.project, created_by=request.user, **data)
        return self.respond(query, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=SavedQueryUpdateInput, responses=SavedQueryOutput)
    def partial_update(self, request, project_pk=None, pk=None):
        query = self.get_object()
        require_own_or_supervise(self.membership, query.created_by_id, "saved query")
        data = self.validated(SavedQueryUpdateInput, partial=True)
        return self.respond(services.update_saved_query(query=query, **data))

    def destroy(self, request, project_pk=None, pk=None):
        query = self.get_object()
        require_own_or_supervise(self.membership, query.created_by_id, "saved query")
        services.delete_saved_query(query=query)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[ScopeParams], responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def run(self, request, project_pk=None, pk=None):
        query = self.get_object()
        serializer = ScopeParams(data=request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        scope = analytics.make_scope(
            self.project,
            coder_id=data.get("coder"),
            statuses=[s.strip() for s in data.get("status", "").split(",") if s.strip()],
            include_interviewer=data.get("include_interviewer", False),
            where=data.get("where", ""),
            membership=self.membership,
        )
        return Response(
            suppress("query", analytics.run_query(scope, query.expression), threshold(self.membership))
        )
