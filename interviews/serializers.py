"""Input and output shapes of the interviews API.

Input serializers only validate shape and types; business rules live in
``services``. Output serializers read what selectors prefetched.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .access import second_factor_verified
from .api_base import ProjectRelatedField, StrictSerializer
from .models import (
    AttributeDefinition,
    AttributeKind,
    Interview,
    InterviewMode,
    InterviewStatus,
    Membership,
    Participant,
    ParticipantType,
    Project,
    Role,
    SpeakerRole,
    SpeakerTurn,
)
from .selectors import attributes_of

# ---------------------------------------------------------------- projects


class ProjectInput(StrictSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    min_cell_size = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=100,
        help_text="Viewers see aggregate counts below this number as suppressed (0: show every count).",
    )
    blind_coding = serializers.BooleanField(
        required=False,
        help_text="Coders see only their own codings on an interview until a supervisor reveals it "
        "(supervisors may change this field alone; the other fields are the owner's).",
    )
    require_two_factor = serializers.BooleanField(
        required=False,
        help_text="Every member needs a verified second factor (API tokens: issued with an otp code). "
        "The owner turning it on must have verified one.",
    )


class ProjectOutput(serializers.ModelSerializer):
    my_role = serializers.SerializerMethodField()
    participant_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)
    interview_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "guid",
            "name",
            "description",
            "min_cell_size",
            "blind_coding",
            "require_two_factor",
            "created_at",
            "updated_at",
            "my_role",
            "participant_count",
            "interview_count",
        ]

    def to_representation(self, project):
        data = super().to_representation(project)
        request = self.context.get("request")
        if project.require_two_factor and request is not None and not second_factor_verified(request.user):
            # Listed so the member knows it is there, but nothing of its content until verified.
            data.update(description="", participant_count=None, interview_count=None)
        return data

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_my_role(self, project):
        role = getattr(project, "my_role", None)
        if role is None and self.context.get("membership") is not None:
            role = self.context["membership"].role
        return role


# ---------------------------------------------------------------- members


class MemberCreateInput(StrictSerializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)

    def validate_username(self, value):
        user = get_user_model().objects.filter(username=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError("No active account has this username.")
        return user


class MemberUpdateInput(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MemberOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    display_name = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "user", "username", "display_name", "role", "created_at"]

    def get_display_name(self, membership) -> str:
        return membership.user.get_full_name() or membership.user.username


# ---------------------------------------------------------------- attributes


class AttributeDefinitionInput(StrictSerializer):
    key = serializers.SlugField(max_length=60)
    label = serializers.CharField(max_length=120, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=AttributeKind.choices)
    choices = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    multiple = serializers.BooleanField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    order = serializers.IntegerField(required=False, min_value=0, max_value=100000)


class AttributeDefinitionOutput(serializers.ModelSerializer):
    class Meta:
        model = AttributeDefinition
        fields = ["id", "guid", "key", "label", "kind", "choices", "multiple", "description", "order"]


# ---------------------------------------------------------------- participants


class ParticipantInput(StrictSerializer):
    pseudonym = serializers.CharField(max_length=40)
    participant_type = serializers.ChoiceField(choices=ParticipantType.choices, required=False)
    attributes = serializers.DictField(
        required=False,
        help_text='Attribute values by key, e.g. {"nationality": "Iraq", "crossing_attempts": 4}.',
    )


class ParticipantOutput(serializers.ModelSerializer):
    attributes = serializers.SerializerMethodField()
    interview_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)

    class Meta:
        model = Participant
        fields = [
            "id",
            "guid",
            "pseudonym",
            "participant_type",
            "attributes",
            "interview_count",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_attributes(self, participant):
        return attributes_of(participant)


# ---------------------------------------------------------------- interviews


class TurnSerializer(StrictSerializer):
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=1)
    speaker = serializers.CharField(max_length=80, allow_blank=True, required=False)
    role = serializers.ChoiceField(choices=SpeakerRole.choices)
    time_start = serializers.DecimalField(max_digits=10, decimal_places=3, required=False, allow_null=True)
    time_end = serializers.DecimalField(max_digits=10, decimal_places=3, required=False, allow_null=True)


class TurnOutput(serializers.ModelSerializer):
    class Meta:
        model = SpeakerTurn
        fields = ["index", "start", "end", "speaker", "role", "time_start", "time_end"]


class InterviewCreateInput(StrictSerializer):
    participant = ProjectRelatedField(Participant)
    title = serializers.CharField(max_length=200)
    text = serializers.CharField(trim_whitespace=False, max_length=5_000_000)
    turns = TurnSerializer(many=True, required=False)
    interview_date = serializers.DateField(required=False, allow_null=True)
    language = serializers.CharField(max_length=40, required=False, allow_blank=True)
    mode = serializers.ChoiceField(choices=InterviewMode.choices, required=False, allow_blank=True)
    interviewer_pseudonym = serializers.CharField(max_length=40, required=False, allow_blank=True)
    already_anonymised = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Set only when the text has been anonymised before upload; coding can start at once.",
    )


class InterviewUpdateInput(StrictSerializer):
    participant = ProjectRelatedField(Participant, required=False)
    title = serializers.CharField(max_length=200, required=False)
    interview_date = serializers.DateField(required=False, allow_null=True)
    language = serializers.CharField(max_length=40, required=False, allow_blank=True)
    mode = serializers.ChoiceField(choices=InterviewMode.choices, required=False, allow_blank=True)
    interviewer_pseudonym = serializers.CharField(max_length=40, required=False, allow_blank=True)


class InterviewStatusInput(StrictSerializer):
    status = serializers.ChoiceField(choices=InterviewStatus.choices)


class TextEditInput(StrictSerializer):
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=0)
    replacement = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=10000)


class TranscriptRevisionInput(StrictSerializer):
    edits = TextEditInput(many=True, allow_empty=False, max_length=10000)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class TurnsInput(StrictSerializer):
    turns = TurnSerializer(many=True, max_length=100000)


class InterviewListOutput(serializers.ModelSerializer):
    participant_pseudonym = serializers.CharField(source="participant.pseudonym", read_only=True)
    coding_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)

    class Meta:
        model = Interview
        fields = [
            "id",
            "guid",
            "participant",
            "participant_pseudonym",
            "title",
            "interview_date",
            "language",
            "mode",
            "interviewer_pseudonym",
            "status",
            "text_sha256",
            "text_length",
            "text_version",
            "anonymised_at",
            "coding_count",
            "created_at",
            "updated_at",
        ]


class InterviewDetailOutput(InterviewListOutput):
    turns = TurnOutput(many=True, read_only=True)

    class Meta(InterviewListOutput.Meta):
        fields = [*InterviewListOutput.Meta.fields, "text", "turns"]
