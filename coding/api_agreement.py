"""Inter-coder agreement over a chosen set of interviews, codes and coders."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from interviews.api_base import ProjectRelatedField, ProjectScopedViewSet
from interviews.models import Interview, Role

from .agreement import Unit, project_agreement
from .models import Code


class AgreementQuery(serializers.Serializer):
    unit = serializers.ChoiceField(
        choices=[(u.value, u.value) for u in Unit],
        default=Unit.CHARACTERS.value,
        help_text=(
            "characters: each character of counted speech is coded X or not, per coder; "
            "turns: a turn is coded X if any coding of X overlaps it; "
            "participants: a participant is coded X if X was applied in any of their interviews."
        ),
    )
    interview = serializers.ListField(child=ProjectRelatedField(Interview), required=False)
    code = serializers.ListField(child=ProjectRelatedField(Code), required=False)
    coder = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    count_interviewer = serializers.BooleanField(
        default=False, help_text="Count interviewer turns too (by default only participant speech counts)."
    )


class KappaOutput(serializers.Serializer):
    coders = serializers.ListField(child=serializers.IntegerField())
    kappa = serializers.FloatField(allow_null=True)


class FiguresOutput(serializers.Serializer):
    alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's α (nominal)")
    percent_agreement = serializers.FloatField(allow_null=True)
    units = serializers.FloatField()
    kappa = KappaOutput(many=True, help_text="Cohen's κ for each pair of coders")


class CodeFiguresOutput(FiguresOutput):
    code = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)


class AgreementOutput(serializers.Serializer):
    unit = serializers.CharField()
    coders = serializers.ListField(child=serializers.IntegerField())
    overall = FiguresOutput()
    codes = CodeFiguresOutput(many=True)


class AgreementViewSet(ProjectScopedViewSet):
    """Percentage agreement, Cohen's κ per pair and Krippendorff's α, per code and overall."""

    read_role = Role.SUPERVISOR
    http_method_names = ["get", "head", "options"]
    pagination_class = None
    answers_one_object = True  # the schema shows one report, not an array (config/schema.py)
    filter_backends: list = []

    @extend_schema(
        parameters=[AgreementQuery],
        responses={200: AgreementOutput, 400: OpenApiResponse(description="A parameter is invalid.")},
    )
    def list(self, request, project_pk=None):
        query = AgreementQuery(
            data={
                key: request.query_params.getlist(key)
                if key in ("interview", "code", "coder")
                else request.query_params.get(key)
                for key in request.query_params
            },
            context=self.get_serializer_context(),
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        codes = data.get("code")
        interviews = data.get("interview")
        result = project_agreement(
            self.project,
            unit=Unit(data["unit"]),
            interview_ids=[i.pk for i in interviews] if interviews else None,
            code_ids=[c.pk for c in codes] if codes else None,
            coder_ids=data.get("coder") or None,
            count_interviewer=data["count_interviewer"],
        )
        names = dict(self.project.codes.values_list("pk", "name"))
        return Response(result.as_dict(code_names=names))
