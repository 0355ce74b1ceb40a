"""REST endpoints of the review workflow: assignments, reveal, sign-off, changes since my review.

Supervisors and owners assign, unassign, reveal and sign off. A coder lists only their
own assignments and moves only their own status (another coder's assignment is 404 to
them); viewers have no assignments.
"""

import django_filters
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from interviews.api_base import WRITE_METHODS, ProjectRelatedField, ProjectScopedViewSet, StrictSerializer
from interviews.models import Interview, Role

from . import review
from .models import Assignment, AssignmentStatus, Reveal


class AssignmentOutput(serializers.ModelSerializer):
    coder_username = serializers.CharField(source="coder.username", read_only=True)
    interview_title = serializers.CharField(source="interview.title", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "interview",
            "interview_title",
            "coder",
            "coder_username",
            "status",
            "blind",
            "assigned_by",
            "created_at",
            "updated_at",
            "done_at",
        ]


@extend_schema_field(OpenApiTypes.INT)
class _CoderField(serializers.PrimaryKeyRelatedField):
    """A member of the request's project, by user id."""

    default_error_messages = {
        "does_not_exist": "No member of this project has the user id {pk_value}.",
        "incorrect_type": "Give the user id as a whole number.",
    }

    def get_queryset(self):
        return get_user_model().objects.filter(memberships__project=self.context["project"])


class AssignmentInput(StrictSerializer):
    interview = ProjectRelatedField(Interview, defer=("text",))
    coders = serializers.ListField(child=_CoderField(), allow_empty=False, max_length=50)
    blind = serializers.BooleanField(default=False)


class AssignmentUpdateInput(StrictSerializer):
    status = serializers.ChoiceField(choices=AssignmentStatus.choices, required=False)


class AssignmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices)

    class Meta:
        model = Assignment
        fields = ["coder", "interview", "status"]


class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Who codes which interview, and how far they are. Filter with ?coder=&interview=&status=."""

    serializer_class = AssignmentOutput
    http_method_names = WRITE_METHODS
    read_role = Role.CODER
    write_role = Role.SUPERVISOR
    action_roles = {"partial_update": Role.CODER}
    filterset_class = AssignmentFilter
    ordering_fields = ["created_at", "updated_at", "status"]
    ordering = ["interview_id", "coder_id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Assignment.objects.none()
        assignments = self.scoped(
            Assignment.objects.select_related("coder", "interview").defer("interview__text")
        )
        if not self.membership.has_role(Role.SUPERVISOR):
            assignments = assignments.filter(coder_id=self.membership.user_id)
        return assignments

    @extend_schema(request=AssignmentInput, responses={201: AssignmentOutput(many=True)})
    def create(self, request, project_pk=None):
        """Assign an interview to coders (assigning someone again changes only ``blind``)."""
        data = self.validated(AssignmentInput)
        assignments = review.assign_interview(
            interview=data["interview"], coders=data["coders"], blind=data["blind"], by=request.user
        )
        fresh = self.get_queryset().filter(pk__in=[a.pk for a in assignments])
        return Response(AssignmentOutput(fresh, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AssignmentUpdateInput, responses=AssignmentOutput)
    def partial_update(self, request, project_pk=None, pk=None):
        """Move the status one step (to do ⇄ in progress ⇄ done): coders their own, supervisors any."""
        assignment = self.get_object()
        data = self.validated(AssignmentUpdateInput, partial=True)
        if "status" in data:
            review.set_assignment_status(assignment=assignment, status=data["status"], by=request.user)
        return self.respond(self.get_queryset().get(pk=assignment.pk))

    def destroy(self, request, project_pk=None, pk=None):
        review.unassign(assignment=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=AssignmentOutput(many=True))
    @action(detail=False, methods=["get"])
    def mine(self, request, project_pk=None):
        """The signed-in member's own assignments (also for supervisors who code)."""
        assignments = self.filter_queryset(self.get_queryset().filter(coder_id=request.user.pk))
        page = self.paginate_queryset(assignments)
        if page is not None:
            return self.get_paginated_response(AssignmentOutput(page, many=True).data)
        return Response(AssignmentOutput(assignments, many=True).data)


class CoderChanges(serializers.Serializer):
    coder_id = serializers.IntegerField()
    coder = serializers.CharField()
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    changed = serializers.IntegerField()
    codings = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()))


class ChangesOutput(serializers.Serializer):
    interview_id = serializers.IntegerField()
    since = serializers.DateTimeField(allow_null=True)
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    changed = serializers.IntegerField()
    coders = CoderChanges(many=True)


class ReviewStateOutput(serializers.Serializer):
    interview_id = serializers.IntegerField()
    status = serializers.CharField()
    blind = serializers.BooleanField(help_text="Some coder on it codes blind (project or assignment).")
    revealed = serializers.BooleanField()
    revealed_at = serializers.DateTimeField(allow_null=True)
    my_last_review = serializers.DateTimeField(allow_null=True)
    assignments = AssignmentOutput(many=True)


class EmptyInput(StrictSerializer):
    pass


class InterviewReviewViewSet(ProjectScopedViewSet):
    """One interview's review: its assignments and reveal, the sign-off, and what changed
    since the signed-in supervisor's last sign-off. Supervisors and owners only."""

    read_role = Role.SUPERVISOR
    write_role = Role.SUPERVISOR
    pagination_class = None
    filter_backends: list = []
    answers_one_object = True  # the schema shows one object, not an array (config/schema.py)

    def _interview(self) -> Interview:
        return get_object_or_404(
            Interview.objects.filter(project=self.project).defer("text"), pk=self.kwargs["interview_pk"]
        )

    def _state(self, interview: Interview) -> dict:
        revealed = Reveal.objects.filter(interview=interview).first()
        mark = review.last_review(interview, self.request.user)
        assignments = list(
            Assignment.objects.filter(interview=interview)
            .select_related("coder", "interview")
            .defer("interview__text")
        )
        return {
            "interview_id": interview.pk,
            "status": interview.status,
            "blind": self.project.blind_coding or any(a.blind for a in assignments),
            "revealed": revealed is not None,
            "revealed_at": revealed.revealed_at if revealed else None,
            "my_last_review": mark.reviewed_at if mark else None,
            "assignments": assignments,
        }

    @extend_schema(
        parameters=[OpenApiParameter("interview_pk", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses=ReviewStateOutput,
    )
    def list(self, request, project_pk=None, interview_pk=None):
        return Response(ReviewStateOutput(self._state(self._interview())).data)

    @extend_schema(request=EmptyInput, responses=ReviewStateOutput)
    @action(detail=False, methods=["post"], url_path="sign-off")
    def sign_off(self, request, project_pk=None, interview_pk=None):
        """Sign the interview off as reviewed (every assigned coder must be done)."""
        interview = self._interview()
        self.validated(EmptyInput)
        review.mark_reviewed(interview=interview, by=request.user)
        interview.refresh_from_db(fields=["status"])
        return Response(ReviewStateOutput(self._state(interview)).data)

    @extend_schema(request=EmptyInput, responses=ReviewStateOutput)
    @action(detail=False, methods=["post"])
    def reveal(self, request, project_pk=None, interview_pk=None):
        """Let its blind coders see each other's codings."""
        interview = self._interview()
        self.validated(EmptyInput)
        review.reveal(interview=interview, by=request.user)
        return Response(ReviewStateOutput(self._state(interview)).data)

    @extend_schema(request=EmptyInput, responses=ReviewStateOutput)
    @action(detail=False, methods=["post"])
    def unreveal(self, request, project_pk=None, interview_pk=None):
        """Hide other coders' codings from its blind coders again."""
        interview = self._interview()
        self.validated(EmptyInput)
        review.unreveal(interview=interview, by=request.user)
        return Response(ReviewStateOutput(self._state(interview)).data)

    @extend_schema(
        responses={
            200: OpenApiResponse(
                ChangesOutput,
                description="Codings added, removed and changed per coder since my last sign-off "
                "(since the start when I never signed it off).",
            )
        }
    )
    @action(detail=False, methods=["get"])
    def changes(self, request, project_pk=None, interview_pk=None):
        interview = self._interview()
        return Response(
            ChangesOutput(review.changes_since_review(interview=interview, reviewer=request.user)).data
        )
