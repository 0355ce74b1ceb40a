"""Export jobs: start a large export in the background, follow its progress, download the file.

Supervisors and owners only, as for the direct exports (``api_exchange``);
non-members get 404. The role is checked again on every request, so a member
removed (404) or demoted (403) after starting an export cannot download it.
"""

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException

from interviews import audit
from interviews.api_base import ProjectScopedViewSet, StrictSerializer
from interviews.models import Role

from . import exports
from .models import ExportJob, ExportJobStatus, ExportKind


class ExportNotReady(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This export is not ready to download."
    default_code = "not_ready"


class ExportInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=ExportKind.choices)


class ExportJobOutput(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "kind_label",
            "status",
            "status_label",
            "progress",
            "message",
            "filename",
            "size",
            "not_carried",
            "requested_by",
            "created_at",
            "finished_at",
            "download_url",
        ]

    def get_download_url(self, job) -> str | None:
        if job.status != ExportJobStatus.DONE:
            return None
        return reverse("api:export-download", args=[job.project_id, job.pk])


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


class ExportJobViewSet(mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Start an export (QDPX, QDC or a tidy table) as a background job and download it when done."""

    serializer_class = ExportJobOutput
    read_role = Role.SUPERVISOR
    write_role = Role.SUPERVISOR
    http_method_names = ["get", "post", "head", "options"]
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return self.scoped(ExportJob.objects.select_related("requested_by"))

    @extend_schema(request=ExportInput, responses={202: ExportJobOutput})
    def create(self, request, project_pk=None):
        kind = self.validated(ExportInput)["kind"]
        job = exports.start_export(project=self.project, by=request.user, kind=kind)
        return _no_store(self.respond(job, status_code=status.HTTP_202_ACCEPTED))

    @extend_schema(summary="An export job's status and progress (0–100)")
    def retrieve(self, request, *args, **kwargs):
        return _no_store(super().retrieve(request, *args, **kwargs))

    @extend_schema(
        summary="Download the finished export",
        responses={
            (200, media): OpenApiTypes.BINARY
            for media in ("application/zip", "application/xml", "text/csv", *exports.MEDIA_TYPES.values())
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, project_pk=None, pk=None):
        job = self.get_object()
        if job.status != ExportJobStatus.DONE:
            raise ExportNotReady(
                "This export has expired; start it again."
                if job.status == ExportJobStatus.EXPIRED
                else "This export is not finished yet."
            )
        try:
            handle = open(exports.file_path(job), "rb")  # noqa: SIM115 (FileResponse closes it)
        except FileNotFoundError:
            raise ExportNotReady("This export's file is gone; start it again.") from None
        audit.record_read(
            project=self.project,
            action="export.downloaded",
            target_type="export",
            target_id=job.pk,
            detail={"kind": job.kind, "role": self.membership.role},
        )
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=job.filename,
            content_type=exports.media_type(job.kind),
        )
        response["X-Content-Type-Options"] = "nosniff"
        return _no_store(response)
