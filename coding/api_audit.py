"""The audit trail for supervisors: who changed and who read what; restoring a deleted coding.

Supervisors and owners only (coders and viewers 403, non-members 404). Events are
never changed here: the list is read-only and the one write, ``restore``, makes a
new coding (and a new event) from a ``coding.deleted`` event. ``refused`` lists the
refused requests for the project's data (who, from where, which path): owners only.
"""

from datetime import datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action

from interviews import audit
from interviews.api_base import ProjectScopedViewSet
from interviews.models import AuditEvent, AuditKind, RefusedAccess, Role

from . import selectors, services
from .serializers import CodingOutput


class AuditEventOutput(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True, help_text="Username at the time")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "kind",
            "action",
            "target_type",
            "target_id",
            "interview_id",
            "actor_id",
            "actor",
            "source",
            "before",
            "after",
        ]
        read_only_fields = fields


class RefusedAccessOutput(serializers.ModelSerializer):
    class Meta:
        model = RefusedAccess
        fields = ["id", "at", "status", "method", "path", "user_id", "username", "ip", "source"]
        read_only_fields = fields


def parse_since(raw: str, field: str = "since"):
    """An ISO date or date-time; a malformed one is a 400 naming the field."""
    if not raw:
        return None
    try:
        moment = parse_datetime(raw)
        day = parse_date(raw) if moment is None else None
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise serializers.ValidationError({field: "Give a date (YYYY-MM-DD) or an ISO date-time."})
    if moment is None:
        moment = datetime.combine(day, time.min)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _int_param(request, name: str):
    raw = request.query_params.get(name, "")
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise serializers.ValidationError({name: "Give an id (a whole number)."}) from None


@extend_schema(
    parameters=[
        OpenApiParameter("interview", OpenApiTypes.INT, description="Only events of this interview"),
        OpenApiParameter("actor", OpenApiTypes.INT, description="Only events by this user id"),
        OpenApiParameter("kind", OpenApiTypes.STR, enum=AuditKind.values, description="change or read"),
        OpenApiParameter(
            "action", OpenApiTypes.STR, description='An action ("coding.deleted") or a family ("coding")'
        ),
        OpenApiParameter("since", OpenApiTypes.STR, description="Events at or after this date / date-time"),
    ]
)
class AuditEventViewSet(mixins.ListModelMixin, ProjectScopedViewSet):
    """The project's audit trail, newest first (supervisors and owners)."""

    serializer_class = AuditEventOutput
    read_role = Role.SUPERVISOR
    write_role = Role.SUPERVISOR
    action_roles = {"refused": Role.OWNER}
    http_method_names = ["get", "post", "head", "options"]
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        if self.action != "list":
            return self.scoped(AuditEvent.objects.all())
        params = self.request.query_params
        kind = params.get("kind", "")
        if kind and kind not in AuditKind.values:
            raise serializers.ValidationError({"kind": f"Choose one of: {', '.join(AuditKind.values)}."})
        return audit.events(
            project=self.project,
            interview_id=_int_param(self.request, "interview"),
            actor_id=_int_param(self.request, "actor"),
            kind=kind or None,
            action=params.get("action", "").strip() or None,
            since=parse_since(params.get("since", "")),
        )

    @extend_schema(request=None, responses={201: CodingOutput})
    @action(detail=True, methods=["post"])
    def restore(self, request, project_pk=None, pk=None):
        """Bring back the coding a ``coding.deleted`` event recorded (400 if it cannot come back)."""
        coding = services.restore_coding(event=self.get_object(), by=request.user)
        coding = selectors.attach_quotes([selectors.codings_for_project(self.project).get(pk=coding.pk)])[0]
        return self.respond(coding, status_code=status.HTTP_201_CREATED, serializer_class=CodingOutput)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", OpenApiTypes.STR, description="Attempts at or after this date / date-time"
            )
        ],
        responses=RefusedAccessOutput(many=True),
    )
    @action(detail=False, methods=["get"], serializer_class=RefusedAccessOutput)
    def refused(self, request, project_pk=None):
        """Refused requests for this project's data (401, 403, 404), newest first (owners only)."""
        attempts = audit.refused_attempts(project=self.project)
        since = parse_since(request.query_params.get("since", ""))
        if since is not None:
            attempts = attempts.filter(at__gte=since)
        page = self.paginate_queryset(attempts)
        return self.get_paginated_response(RefusedAccessOutput(page, many=True).data)
