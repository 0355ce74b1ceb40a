"""REST endpoints for transcript import, redaction review, sensitive terms and redaction after import.

Thin: validate input, call ``import_services``, serialise. Review and confirm
answers carry transcript text or the one-time key, so they are ``no-store``.
"""

import json

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from . import audit, import_services
from .api_base import ProjectRelatedField, ProjectScopedViewSet, StrictSerializer
from .importing.limits import limits
from .models import (
    AllowedWord,
    ImportBatch,
    ImportFile,
    InterviewMode,
    Participant,
    RedactionLog,
    Role,
    SensitiveTerm,
    SpeakerRole,
)

# ---------------------------------------------------------------- shapes


class ImportFileOutput(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = ImportFile
        fields = [
            "id",
            "name",
            "extension",
            "size",
            "status",
            "status_label",
            "reason",
            "participant_hint",
            "duplicate_of",
            "interview",
            "turn_count",
            "finding_count",
            "flagged_count",
            "created_at",
            "finished_at",
        ]


class ImportBatchOutput(serializers.ModelSerializer):
    files = ImportFileOutput(many=True, read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "status",
            "file_count",
            "processed_count",
            "progress",
            "created_at",
            "finished_at",
            "files",
        ]

    def get_progress(self, batch) -> float:
        return round(batch.processed_count / batch.file_count, 3) if batch.file_count else 1.0


class ImportUploadInput(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False)
    participants = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='JSON object mapping file names to participant pseudonyms, e.g. {"a.docx": "LV-07"}.',
    )


class FindingSerializer(serializers.Serializer):
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=1)
    category = serializers.CharField(max_length=30)
    source = serializers.CharField(read_only=True)
    accepted = serializers.BooleanField(read_only=True)
    placeholder = serializers.CharField(max_length=40, required=False, allow_blank=True)


class ProposedTurnOutput(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    speaker = serializers.CharField()
    label_start = serializers.IntegerField(allow_null=True)
    label_end = serializers.IntegerField(allow_null=True)
    time_start = serializers.FloatField(allow_null=True)
    time_end = serializers.FloatField(allow_null=True)


class ReviewOutput(serializers.Serializer):
    file = ImportFileOutput()
    text = serializers.CharField(help_text="The extracted text, before redaction (not stored).")
    turns = ProposedTurnOutput(many=True)
    roles = serializers.DictField(child=serializers.ChoiceField(choices=SpeakerRole.choices))
    findings = FindingSerializer(many=True)


class RedactionInput(StrictSerializer):
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=1)
    category = serializers.CharField(max_length=30, required=False, default="NAME")
    placeholder = serializers.CharField(max_length=40, required=False, allow_blank=True)


class ConfirmInput(StrictSerializer):
    title = serializers.CharField(max_length=200)
    redactions = RedactionInput(many=True, max_length=20000)
    roles = serializers.DictField(child=serializers.ChoiceField(choices=SpeakerRole.choices), required=False)
    participant = ProjectRelatedField(Participant, required=False, allow_null=True)
    new_pseudonym = serializers.CharField(max_length=40, required=False, allow_blank=True)
    allow_duplicate = serializers.BooleanField(required=False, default=False)
    interview_date = serializers.DateField(required=False, allow_null=True)
    language = serializers.CharField(max_length=40, required=False, allow_blank=True)
    mode = serializers.ChoiceField(choices=InterviewMode.choices, required=False, allow_blank=True)


class KeyRowOutput(serializers.Serializer):
    original = serializers.CharField()
    placeholder = serializers.CharField()
    category = serializers.CharField()


class ConfirmOutput(serializers.Serializer):
    interview = serializers.IntegerField()
    key = KeyRowOutput(
        many=True, help_text="Original → placeholder, shown this once for the team's key store; not kept."
    )


class SensitiveTermInput(StrictSerializer):
    term = serializers.CharField(max_length=200, write_only=True)
    category = serializers.CharField(max_length=30)
    placeholder = serializers.CharField(max_length=40, required=False, allow_blank=True)


class SensitiveTermOutput(serializers.ModelSerializer):
    class Meta:
        model = SensitiveTerm
        fields = ["id", "category", "placeholder", "word_count", "created_at"]


class AllowedWordInput(StrictSerializer):
    word = serializers.CharField(max_length=80)


class AllowedWordOutput(serializers.ModelSerializer):
    class Meta:
        model = AllowedWord
        fields = ["id", "word", "created_at"]


class RedactionLogOutput(serializers.ModelSerializer):
    class Meta:
        model = RedactionLog
        fields = ["id", "category", "start", "end", "placeholder", "text_version", "created_by", "created_at"]


class RedactInput(StrictSerializer):
    redactions = RedactionInput(many=True, allow_empty=False, max_length=20000)


class RedactOutput(serializers.Serializer):
    interview = serializers.IntegerField()
    text_version = serializers.IntegerField()
    key = KeyRowOutput(many=True)


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- views


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Upload transcripts (one, many or a .zip) and follow the import: per file, imported or why not."""

    serializer_class = ImportBatchOutput
    read_role = Role.SUPERVISOR
    write_role = Role.SUPERVISOR
    http_method_names = ["get", "post", "head", "options"]
    parser_classes = [MultiPartParser, FormParser]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]
    filterset_fields = ["status"]

    def get_queryset(self):
        return self.scoped(ImportBatch.objects.prefetch_related("files"))

    @extend_schema(request={"multipart/form-data": ImportUploadInput}, responses={202: ImportBatchOutput})
    def create(self, request, project_pk=None):
        uploads = request.FILES.getlist("files")
        if not uploads:
            raise ValidationError({"files": "Choose at least one file."})
        lim = limits()
        if len(uploads) > lim.max_files:
            raise ValidationError({"files": f"At most {lim.max_files} files can be imported at once."})
        if sum(upload.size for upload in uploads) > lim.max_upload_bytes:
            raise ValidationError(
                {"files": f"One upload can hold at most {lim.max_upload_bytes // 1048576} MB; split it up."}
            )
        try:
            participants = json.loads(request.data.get("participants") or "{}")
            if not isinstance(participants, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in participants.items()
            ):
                raise ValueError
        except ValueError:
            raise ValidationError({"participants": "Give a JSON object of file name → pseudonym."})
        files = []
        for upload in uploads:
            # An oversize file is reported without being read into memory.
            files.append((upload.name, None if upload.size > lim.max_file_bytes else upload.read()))
        batch = import_services.start_import(
            project=self.project, by=request.user, files=files, participants=participants
        )
        batch = self.get_queryset().get(pk=batch.pk)
        return self.respond(batch, status_code=status.HTTP_202_ACCEPTED)


class ImportFileViewSet(mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """One staged file: its review data (text, proposed redactions and turns), confirm or discard."""

    serializer_class = ImportFileOutput
    read_role = Role.SUPERVISOR
    write_role = Role.SUPERVISOR
    http_method_names = ["get", "post", "head", "options"]
    parser_classes = [JSONParser]

    def get_queryset(self):
        return self.scoped(ImportFile.objects.all())

    @extend_schema(responses=ReviewOutput)
    def retrieve(self, request, project_pk=None, pk=None):
        import_file = self.get_object()
        data = import_services.review_data(import_file=import_file)
        audit.record_read(
            project=self.project,
            action="import.reviewed",
            target_type="import_file",
            target_id=import_file.pk,
            interview_id=import_file.interview_id,
            detail={"view": "import review", "role": self.membership.role},
        )
        return _no_store(Response(ReviewOutput({"file": import_file, **data}).data))

    @extend_schema(request=ConfirmInput, responses={201: ConfirmOutput})
    @action(detail=True, methods=["post"])
    def confirm(self, request, project_pk=None, pk=None):
        """Store the redacted transcript; the answer holds the key (original → placeholder) this once."""
        data = dict(self.validated(ConfirmInput))
        interview, key = import_services.confirm_import(
            import_file=self.get_object(),
            by=request.user,
            redactions=[dict(r) for r in data.pop("redactions")],
            **data,
        )
        return _no_store(Response({"interview": interview.pk, "key": key}, status=status.HTTP_201_CREATED))

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def discard(self, request, project_pk=None, pk=None):
        import_services.discard_import(import_file=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class SensitiveTermViewSet(mixins.ListModelMixin, ProjectScopedViewSet):
    """The project's sensitive terms. The terms themselves are write-only: only placeholders are shown."""

    serializer_class = SensitiveTermOutput
    read_role = Role.CODER
    http_method_names = ["get", "post", "delete", "head", "options"]
    ordering_fields = ["category", "placeholder", "created_at"]
    ordering = ["category", "placeholder", "id"]
    filterset_fields = ["category"]

    def get_queryset(self):
        return self.scoped(SensitiveTerm.objects.all())

    @extend_schema(request=SensitiveTermInput, responses={201: SensitiveTermOutput})
    def create(self, request, project_pk=None):
        data = self.validated(SensitiveTermInput)
        term = import_services.add_sensitive_term(project=self.project, by=request.user, **data)
        return self.respond(term, status_code=status.HTTP_201_CREATED)

    def destroy(self, request, project_pk=None, pk=None):
        import_services.delete_sensitive_term(term=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class AllowedWordViewSet(mixins.ListModelMixin, ProjectScopedViewSet):
    """Words never flagged as possible names in this project."""

    serializer_class = AllowedWordOutput
    read_role = Role.CODER
    http_method_names = ["get", "post", "delete", "head", "options"]
    ordering_fields = ["word", "created_at"]
    ordering = ["word"]
    filterset_fields: list[str] = []

    def get_queryset(self):
        return self.scoped(AllowedWord.objects.all())

    @extend_schema(request=AllowedWordInput, responses={201: AllowedWordOutput})
    def create(self, request, project_pk=None):
        data = self.validated(AllowedWordInput)
        word = import_services.add_allowed_word(project=self.project, by=request.user, **data)
        return self.respond(word, status_code=status.HTTP_201_CREATED)

    def destroy(self, request, project_pk=None, pk=None):
        import_services.delete_allowed_word(allowed=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    parameters=[
        OpenApiParameter("interview_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Interview id")
    ]
)
class InterviewRedactionViewSet(mixins.ListModelMixin, ProjectScopedViewSet):
    """The redaction log of an interview, and redaction of a stored (possibly coded) transcript."""

    serializer_class = RedactionLogOutput
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["start", "created_at"]
    ordering = ["text_version", "start", "id"]
    filterset_fields = ["category"]

    def _interview(self):
        return self.project.interviews.filter(pk=self.kwargs.get("interview_pk")).first()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RedactionLog.objects.none()
        interview = self._interview()
        if interview is None:
            raise Http404("No such interview.")
        return interview.redactions.all()

    @extend_schema(request=RedactInput, responses={200: RedactOutput})
    def create(self, request, project_pk=None, interview_pk=None):
        """Replace passages by placeholders; codings are re-anchored, touched ones flagged for review."""
        interview = self._interview()
        if interview is None:
            raise Http404("No such interview.")
        data = self.validated(RedactInput)
        interview, key = import_services.redact_interview(
            interview=interview, redactions=[dict(r) for r in data["redactions"]], by=request.user
        )
        return _no_store(
            Response({"interview": interview.pk, "text_version": interview.text_version, "key": key})
        )
