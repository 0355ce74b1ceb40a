"""Input and output shapes of the codebook, coding and memo API."""

from django.db.models import F
from django.utils import timezone
from django.utils.functional import cached_property
from rest_framework import serializers

from interviews.api_base import ProjectRelatedField, StrictSerializer
from interviews.models import Interview, Participant

from .models import Code, Coding, Memo, MemoKind, colour_validator


class CodeInput(StrictSerializer):
    name = serializers.CharField(max_length=120)
    parent = ProjectRelatedField(Code, required=False, allow_null=True)
    colour = serializers.CharField(max_length=7, required=False, validators=[colour_validator])
    definition = serializers.CharField(required=False, allow_blank=True)
    inclusion_criteria = serializers.CharField(required=False, allow_blank=True)
    exclusion_criteria = serializers.CharField(required=False, allow_blank=True)
    example = serializers.CharField(required=False, allow_blank=True)
    is_codable = serializers.BooleanField(required=False)
    order = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)
    shortcut = serializers.CharField(max_length=1, required=False, allow_blank=True)


class CodeUpdateInput(CodeInput):
    name = serializers.CharField(max_length=120, required=False)
    parent = None  # moving is its own action


class CodeMoveInput(StrictSerializer):
    parent = ProjectRelatedField(Code, allow_null=True)
    order = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)


class CodeMergeInput(StrictSerializer):
    target = ProjectRelatedField(Code, help_text="The code that receives the codings.")


class CodeOutput(serializers.ModelSerializer):
    coding_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)
    interview_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)
    participant_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)

    class Meta:
        model = Code
        fields = [
            "id",
            "guid",
            "parent",
            "name",
            "colour",
            "definition",
            "inclusion_criteria",
            "exclusion_criteria",
            "example",
            "is_codable",
            "order",
            "shortcut",
            "coding_count",
            "interview_count",
            "participant_count",
            "created_at",
            "updated_at",
        ]


class CodingInput(StrictSerializer):
    # Coding needs the interview's length and state, not its (possibly long) text.
    interview = ProjectRelatedField(Interview, defer=("text",))
    code = ProjectRelatedField(Code)
    start = serializers.IntegerField(help_text="Code point offset of the first character.")
    end = serializers.IntegerField(help_text="Code point offset after the last character.")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10000)


class CodingUpdateInput(StrictSerializer):
    code = ProjectRelatedField(Code, required=False)
    start = serializers.IntegerField(required=False)
    end = serializers.IntegerField(required=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    needs_review = serializers.BooleanField(required=False)


class CodingOutput(serializers.ModelSerializer):
    coder_username = serializers.CharField(source="coder.username", read_only=True)
    code_name = serializers.CharField(source="code.name", read_only=True)
    quote = serializers.CharField(read_only=True, default=None, allow_null=True, help_text="text[start:end]")

    class Meta:
        model = Coding
        fields = [
            "id",
            "guid",
            "interview",
            "code",
            "code_name",
            "coder",
            "coder_username",
            "start",
            "end",
            "quote",
            "comment",
            "needs_review",
            "created_at",
            "updated_at",
        ]

    @cached_property
    def _moment(self):
        """DateTimeField's ISO 8601 answer, with the current time zone looked up once per list
        rather than twice per coding (that lookup was a tenth of a page's time)."""
        zone = timezone.get_current_timezone()

        def moment(value):
            text = value.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return moment

    @classmethod
    def rows(cls, codings):
        """``codings`` as dicts keyed by this answer's fields (but ``quote``, which
        ``selectors.attach_quotes`` cuts), for lists: a page holds up to 500 codings, and
        dicts cost half of what model instances do."""
        related = {"code_name": F("code__name"), "coder_username": F("coder__username")}
        return codings.values(*(f for f in cls.Meta.fields if f not in {*related, "quote"}), **related)

    def to_representation(self, coding):
        # The fields read directly: DRF's field-by-field path took five times as long. The
        # declared fields still define the schema, and a test holds this equal to the
        # generic output.
        moment = self._moment
        if isinstance(coding, dict):  # a row of ``rows``, its quote attached
            coding["guid"] = str(coding["guid"])
            coding["created_at"] = moment(coding["created_at"])
            coding["updated_at"] = moment(coding["updated_at"])
            return coding
        return {
            "id": coding.pk,
            "guid": str(coding.guid),
            "interview": coding.interview_id,
            "code": coding.code_id,
            "code_name": coding.code.name,
            "coder": coding.coder_id,
            "coder_username": coding.coder.username,
            "start": coding.start,
            "end": coding.end,
            "quote": getattr(coding, "quote", None),
            "comment": coding.comment,
            "needs_review": coding.needs_review,
            "created_at": moment(coding.created_at),
            "updated_at": moment(coding.updated_at),
        }


class MemoInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=MemoKind.choices)
    participant = ProjectRelatedField(Participant, required=False, allow_null=True)
    interview = ProjectRelatedField(Interview, required=False, allow_null=True)
    code = ProjectRelatedField(Code, required=False, allow_null=True)
    coding = ProjectRelatedField(Coding, required=False, allow_null=True)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    text = serializers.CharField(max_length=100_000)

    def validate(self, data):
        kind = data["kind"]
        targets = {k: data.get(k) for k in ("participant", "interview", "code", "coding")}
        if kind == MemoKind.PROJECT:
            extra = [k for k, v in targets.items() if v is not None]
            if extra:
                raise serializers.ValidationError({extra[0]: "A project memo has no target."})
            data["target"] = None
        else:
            if targets[kind] is None:
                raise serializers.ValidationError({kind: f"Say which {kind} the memo is on."})
            extra = [k for k, v in targets.items() if v is not None and k != kind]
            if extra:
                raise serializers.ValidationError({extra[0]: f"A {kind} memo is on one {kind} only."})
            data["target"] = targets[kind]
        for key in targets:
            data.pop(key, None)
        data.pop("kind")
        return data


class MemoUpdateInput(StrictSerializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    text = serializers.CharField(max_length=100_000, required=False)


class MemoOutput(serializers.ModelSerializer):
    author_username = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = Memo
        fields = [
            "id",
            "guid",
            "kind",
            "participant",
            "interview",
            "code",
            "coding",
            "author",
            "author_username",
            "title",
            "text",
            "created_at",
            "updated_at",
        ]
