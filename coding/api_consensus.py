"""Disagreement review and the consensus layer of one interview (supervisors)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from interviews import audit
from interviews.api_base import WRITE_METHODS, ProjectRelatedField, ProjectScopedViewSet, StrictSerializer
from interviews.models import Interview, Role

from . import consensus, selectors
from .models import Code, Coding
from .serializers import CodingOutput

INTERVIEW_PARAMETER = OpenApiParameter(
    "interview_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Interview id"
)


class DisagreementQuery(serializers.Serializer):
    coder = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="Coders to compare (user ids, two or more); by default everyone who coded the interview.",
    )
    code = serializers.ListField(child=ProjectRelatedField(Code), required=False)


class PassageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    coder = serializers.IntegerField(source="coder_id")
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    quote = serializers.CharField()


class GroupOutput(serializers.Serializer):
    code = serializers.IntegerField(source="code_id")
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=list(consensus.KIND_LABELS.items()))
    kind_label = serializers.CharField()
    settled = serializers.BooleanField()
    coders_with = serializers.ListField(child=serializers.IntegerField())
    coders_without = serializers.ListField(child=serializers.IntegerField())
    codings = PassageOutput(many=True)
    consensus = PassageOutput(many=True, help_text="Consensus codings of the code overlapping the group")


class DisagreementsOutput(serializers.Serializer):
    interview = serializers.IntegerField(source="interview.pk")
    coders = serializers.ListField(child=serializers.IntegerField())
    consensus_coder = serializers.IntegerField(
        source="consensus_coder_id",
        allow_null=True,
        help_text="The consensus layer's account; null before a first settlement.",
    )
    open = serializers.IntegerField(source="open_count", help_text="Disagreements not yet settled")
    groups = GroupOutput(many=True)


class SettleInput(StrictSerializer):
    code = ProjectRelatedField(Code)
    method = serializers.ChoiceField(
        choices=consensus.METHODS,
        help_text=(
            "accept: one coder's coding; union / intersection of the codings' ranges; new: start and end."
        ),
    )
    codings = serializers.ListField(
        child=ProjectRelatedField(Coding), required=False, default=list, help_text="The group's codings"
    )
    start = serializers.IntegerField(required=False, help_text="For a new range: code point offset")
    end = serializers.IntegerField(required=False, help_text="For a new range: code point offset (exclusive)")


class UndoOutput(serializers.Serializer):
    restored = CodingOutput(many=True, help_text="Consensus codings the settlement had replaced, put back")


def _interview(view) -> Interview:
    if getattr(view, "_interview", None) is None:
        view._interview = get_object_or_404(
            Interview.objects.select_related("project").defer("text"),
            project=view.project,
            pk=view.kwargs.get("interview_pk"),
        )
    return view._interview


def _record_passages_read(view, interview, name: str) -> None:
    """The answer carries the coded passages' quotes: a read of transcript text (DP3)."""
    audit.record_read(
        project=view.project,
        action="passages.retrieved",
        target_type="interview",
        target_id=interview.pk,
        interview_id=interview.pk,
        detail={"view": name, "role": view.membership.role},
    )


@extend_schema(parameters=[INTERVIEW_PARAMETER])
class DisagreementViewSet(ProjectScopedViewSet):
    """Per code, the groups of overlapping codings of the chosen coders and how they differ."""

    read_role = Role.SUPERVISOR
    http_method_names = ["get", "head", "options"]
    pagination_class = None
    filter_backends: list = []
    answers_one_object = True  # the schema shows one object, not an array (config/schema.py)

    @extend_schema(
        parameters=[DisagreementQuery],
        responses={200: DisagreementsOutput, 400: OpenApiResponse(description="A parameter is invalid.")},
    )
    def list(self, request, project_pk=None, interview_pk=None):
        interview = _interview(self)
        query = DisagreementQuery(
            data={
                key: request.query_params.getlist(key)
                for key in ("coder", "code")
                if key in request.query_params
            },
            context=self.get_serializer_context(),
        )
        query.is_valid(raise_exception=True)
        coders = query.validated_data.get("coder")
        if coders:
            members = set(selectors.coders_of(self.project).values_list("user_id", flat=True))
            unknown = [c for c in coders if c not in members]
            if unknown:
                raise serializers.ValidationError(
                    {"coder": [f"User {unknown[0]} is not a coder of this project."]}
                )
            if len(set(coders)) < 2:
                raise serializers.ValidationError({"coder": ["Choose two or more coders to compare."]})
        else:
            coders = (
                interview.codings.exclude(coder_id=self.project.consensus_user_id)
                .values_list("coder_id", flat=True)
                .distinct()
            )
        result = consensus.disagreements(interview, list(coders), query.validated_data.get("code"))
        _record_passages_read(self, interview, "disagreements API")
        return Response(DisagreementsOutput(result).data)


@extend_schema(parameters=[INTERVIEW_PARAMETER])
class ConsensusViewSet(mixins.ListModelMixin, ProjectScopedViewSet):
    """The consensus layer of one interview: settle a group (POST), take a settlement back (DELETE)."""

    read_role = Role.SUPERVISOR
    write_role = Role.SUPERVISOR
    serializer_class = CodingOutput
    http_method_names = WRITE_METHODS
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Coding.objects.none()
        # No layer yet: no consensus codings (reading never makes the layer).
        return (
            Coding.objects.filter(
                project=self.project, interview=_interview(self), coder_id=self.project.consensus_user_id
            )
            .select_related("code", "coder")
            .order_by("start", "end", "id")
        )

    def list(self, request, project_pk=None, interview_pk=None):
        codings = selectors.attach_quotes(self.get_queryset())
        _record_passages_read(self, _interview(self), "consensus API")
        return Response(self.get_serializer(codings, many=True).data)

    @extend_schema(request=SettleInput, responses={201: CodingOutput})
    def create(self, request, project_pk=None, interview_pk=None):
        interview = _interview(self)
        data = self.validated(SettleInput)
        coding = consensus.settle(interview=interview, by=request.user, **data)
        # Read afresh with its code and coder (a first settlement has just made the layer).
        coding = selectors.attach_quotes([Coding.objects.select_related("code", "coder").get(pk=coding.pk)])[
            0
        ]
        return self.respond(coding, status_code=status.HTTP_201_CREATED)

    @extend_schema(responses={200: UndoOutput})
    def destroy(self, request, project_pk=None, interview_pk=None, pk=None):
        restored = consensus.undo_settlement(coding=self.get_object(), by=request.user)
        fresh = self.get_queryset().filter(pk__in=[c.pk for c in restored])
        return Response(UndoOutput({"restored": fresh}, context=self.get_serializer_context()).data)
