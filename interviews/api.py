"""REST endpoints for projects, members, attribute definitions, participants and interviews.

Thin: validate input with a serializer, call a service or selector, serialise.
"""

import django_filters
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import audit, selectors, services
from .access import get_membership, require_role, second_factor_verified
from .api_base import WRITE_METHODS, ProjectScopedViewSet
from .models import AttributeDefinition, Interview, Membership, Participant, Project, Role, SpeakerTurn
from .serializers import (
    AttributeDefinitionInput,
    AttributeDefinitionOutput,
    InterviewCreateInput,
    InterviewDetailOutput,
    InterviewListOutput,
    InterviewStatusInput,
    InterviewUpdateInput,
    MemberCreateInput,
    MemberOutput,
    MemberUpdateInput,
    ParticipantInput,
    ParticipantOutput,
    ProjectInput,
    ProjectOutput,
    TranscriptRevisionInput,
    TurnOutput,
    TurnsInput,
)
from .text import TextEdit


class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Projects the user is a member of. Anyone signed in may start a project and owns it."""

    serializer_class = ProjectOutput
    lookup_url_kwarg = "project_pk"
    lookup_value_regex = "[0-9]+"
    http_method_names = WRITE_METHODS
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name", "id"]
    filterset_fields: list[str] = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        return selectors.projects_for_user(self.request.user)

    def get_object(self):
        membership = get_membership(user=self.request.user, project_id=self.kwargs["project_pk"])
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            # Supervisors may switch blind coding (and only that); the rest is the owner's.
            only_blind = self.request.method == "PATCH" and set(self.request.data) <= {"blind_coding"}
            require_role(membership, Role.SUPERVISOR if only_blind else Role.OWNER)
        self.membership = membership
        return membership.project

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["membership"] = getattr(self, "membership", None)
        return context

    @extend_schema(request=ProjectInput, responses={201: ProjectOutput})
    def create(self, request):
        data = ProjectInput(data=request.data)
        data.is_valid(raise_exception=True)
        blind_coding = data.validated_data.pop("blind_coding", None)
        require_two_factor = data.validated_data.pop("require_two_factor", None)
        min_cell_size = data.validated_data.pop("min_cell_size", None)
        project = services.create_project(owner=request.user, **data.validated_data)
        if min_cell_size is not None:
            services.update_project(project=project, min_cell_size=min_cell_size)
        if blind_coding is not None:
            services.set_blind_coding(project=project, blind_coding=blind_coding)
        if require_two_factor is not None:
            services.set_two_factor_requirement(
                project=project, required=require_two_factor, verified=second_factor_verified(request.user)
            )
        project = selectors.projects_for_user(request.user).get(pk=project.pk)
        return Response(ProjectOutput(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProjectInput, responses=ProjectOutput)
    def partial_update(self, request, project_pk=None):
        project = self.get_object()
        data = ProjectInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            blind_coding = data.validated_data.pop("blind_coding", None)
            if blind_coding is not None:
                services.set_blind_coding(project=project, blind_coding=blind_coding)
            require_two_factor = data.validated_data.pop("require_two_factor", None)
            if require_two_factor is not None:
                services.set_two_factor_requirement(
                    project=project,
                    required=require_two_factor,
                    verified=second_factor_verified(request.user),
                )
            services.update_project(project=project, **data.validated_data)
        project = selectors.projects_for_user(request.user).get(pk=project.pk)
        return Response(ProjectOutput(project).data)

    def destroy(self, request, project_pk=None):
        services.delete_project(project=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Members of the project and their roles. Only owners add, change or remove members."""

    serializer_class = MemberOutput
    write_role = Role.OWNER
    http_method_names = WRITE_METHODS
    ordering_fields = ["created_at", "role"]
    ordering = ["user__username"]
    filterset_fields = ["role"]

    def get_queryset(self):
        return self.scoped(Membership.objects.select_related("user"))

    @extend_schema(request=MemberCreateInput, responses={201: MemberOutput})
    def create(self, request, project_pk=None):
        data = self.validated(MemberCreateInput)
        try:
            membership = services.add_member(project=self.project, user=data["username"], role=data["role"])
        except ValidationError as error:
            # The service names the person "user"; the client sent "username".
            raise type(error)({"username" if k == "user" else k: v for k, v in error.message_dict.items()})
        return self.respond(membership, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=MemberUpdateInput, responses=MemberOutput)
    def partial_update(self, request, project_pk=None, pk=None):
        instance = self.get_object()
        data = self.validated(MemberUpdateInput)
        membership = services.change_member_role(membership=instance, role=data["role"])
        return self.respond(membership)

    def destroy(self, request, project_pk=None, pk=None):
        services.remove_member(membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class AttributeDefinitionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """The typed participant attributes of the project (nationality, crossing attempts, …)."""

    serializer_class = AttributeDefinitionOutput
    http_method_names = WRITE_METHODS
    ordering_fields = ["order", "key", "label"]
    ordering = ["order", "id"]
    filterset_fields = ["kind"]

    def get_queryset(self):
        return self.scoped(AttributeDefinition.objects.all())

    @extend_schema(request=AttributeDefinitionInput, responses={201: AttributeDefinitionOutput})
    def create(self, request, project_pk=None):
        data = self.validated(AttributeDefinitionInput)
        definition = services.create_attribute_definition(project=self.project, **data)
        return self.respond(definition, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=AttributeDefinitionInput, responses=AttributeDefinitionOutput)
    def partial_update(self, request, project_pk=None, pk=None):
        instance = self.get_object()
        data = self.validated(AttributeDefinitionInput, partial=True)
        definition = services.update_attribute_definition(definition=instance, **data)
        return self.respond(definition)

    def destroy(self, request, project_pk=None, pk=None):
        services.delete_attribute_definition(definition=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ParticipantFilter(django_filters.FilterSet):
    pseudonym = django_filters.CharFilter(lookup_expr="icontains")
    attribute = django_filters.CharFilter(
        method="filter_attribute",
        help_text="key:value, e.g. nationality:Iraq; repeat the parameter to combine.",
    )

    class Meta:
        model = Participant
        fields = ["participant_type", "pseudonym"]

    def filter_attribute(self, queryset, name, value):
        project = self.request.parser_context["view"].project
        for item in self.request.query_params.getlist("attribute"):
            key, _, wanted = item.partition(":")
            queryset = selectors.filter_participants_by_attribute(queryset, project, key, wanted)
        return queryset


class ParticipantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Pseudonymous participants with their typed attributes."""

    serializer_class = ParticipantOutput
    http_method_names = WRITE_METHODS
    filterset_class = ParticipantFilter
    ordering_fields = ["pseudonym", "participant_type", "created_at", "updated_at"]
    ordering = ["pseudonym"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Participant.objects.none()
        return selectors.participants_with_attributes(self.project)

    def _fresh(self, participant):
        return selectors.participants_with_attributes(self.project).get(pk=participant.pk)

    @extend_schema(request=ParticipantInput, responses={201: ParticipantOutput})
    def create(self, request, project_pk=None):
        data = self.validated(ParticipantInput)
        participant = services.create_participant(project=self.project, **data)
        return self.respond(self._fresh(participant), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=ParticipantInput, responses=ParticipantOutput)
    def partial_update(self, request, project_pk=None, pk=None):
        instance = self.get_object()
        data = self.validated(ParticipantInput, partial=True)
        participant = services.update_participant(participant=instance, **data)
        return self.respond(self._fresh(participant))

    def destroy(self, request, project_pk=None, pk=None):
        services.delete_participant(participant=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class InterviewFilter(django_filters.FilterSet):
    title = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Interview
        fields = ["participant", "status", "language", "mode", "title"]


class InterviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Interviews with their transcript text and speaker turns (text only on the detail)."""

    http_method_names = WRITE_METHODS
    filterset_class = InterviewFilter
    ordering_fields = ["interview_date", "title", "created_at", "updated_at", "status"]
    ordering = ["interview_date", "title", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Interview.objects.none()
        if self.action == "list":
            return selectors.interviews_for_list(self.project, self.membership)
        return self.project.interviews.select_related("participant").prefetch_related(
            Prefetch("turns", queryset=SpeakerTurn.objects.order_by("index"))
        )

    def get_serializer_class(self):
        return InterviewListOutput if self.action == "list" else InterviewDetailOutput

    def _fresh(self, interview):
        return self.get_queryset().get(pk=interview.pk)

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        interview = self.get_object()
        audit.record_read(
            project=self.project,
            action="transcript.read",
            target_type="interview",
            target_id=interview.pk,
            interview_id=interview.pk,
            detail={"view": "interview API", "role": self.membership.role},
        )
        return response

    @extend_schema(request=InterviewCreateInput, responses={201: InterviewDetailOutput})
    def create(self, request, project_pk=None):
        data = dict(self.validated(InterviewCreateInput))
        anonymised = data.pop("already_anonymised", False)
        turns = [dict(t) for t in data.pop("turns", [])]
        interview = services.create_interview(
            **data, turns=turns, anonymised_by=request.user if anonymised else None
        )
        return self.respond(self._fresh(interview), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=InterviewUpdateInput, responses=InterviewDetailOutput)
    def partial_update(self, request, project_pk=None, pk=None):
        instance = self.get_object()
        data = self.validated(InterviewUpdateInput, partial=True)
        interview = services.update_interview(interview=instance, **data)
        return self.respond(self._fresh(interview))

    def destroy(self, request, project_pk=None, pk=None):
        services.delete_interview(interview=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=InterviewDetailOutput)
    @action(detail=True, methods=["post"], url_path="mark-anonymised")
    def mark_anonymised(self, request, project_pk=None, pk=None):
        """Confirm the transcript is anonymised; coding can start."""
        interview = services.mark_interview_anonymised(interview=self.get_object(), by=request.user)
        return self.respond(self._fresh(interview))

    @extend_schema(request=InterviewStatusInput, responses=InterviewDetailOutput)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, project_pk=None, pk=None):
        instance = self.get_object()
        data = self.validated(InterviewStatusInput)
        interview = services.set_interview_status(interview=instance, status=data["status"])
        return self.respond(self._fresh(interview))

    @extend_schema(request=TranscriptRevisionInput, responses=InterviewDetailOutput)
    @action(detail=True, methods=["post"], url_path="revise")
    def revise(self, request, project_pk=None, pk=None):
        """Replace ranges of the transcript; codings follow the text (see ARCHITECTURE.md)."""
        interview = self.get_object()
        data = self.validated(TranscriptRevisionInput)
        edits = [TextEdit(e["start"], e["end"], e["replacement"]) for e in data["edits"]]
        services.revise_transcript(
            interview=interview, edits=edits, by=request.user, reason=data.get("reason", "")
        )
        return self.respond(self._fresh(interview))

    @extend_schema(
        request=TurnsInput,
        responses=TurnOutput(many=True),
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path="turns", pagination_class=None)
    def set_turns(self, request, project_pk=None, pk=None):
        """Replace the speaker turns of the transcript."""
        instance = self.get_object()
        data = self.validated(TurnsInput)
        turns = services.set_turns(interview=instance, turns=[dict(t) for t in data["turns"]])
        return Response(TurnOutput(turns, many=True).data)
