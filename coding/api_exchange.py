"""Downloads and uploads for exchanging a project: REFI-QDA (QDPX, QDC) and tidy CSV/XLSX tables.

Who may do what (a decision; the issue was silent):

* exports (every download here) are for supervisors and owners: they carry
  whole transcripts and every coder's work; coders and viewers get 403;
* importing a codebook (QDC or CSV) into a project changes the codebook, so it
  needs a supervisor or owner, as any codebook edit does;
* importing a QDPX creates a new project owned by the uploader, so any signed-in
  user may do it (as anyone may start a project);
* non-members get 404 on every project endpoint, as everywhere.

Every download is an attachment with ``nosniff`` and ``Cache-Control: no-store``.
"""

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from interviews import audit
from interviews.api_base import ProjectScopedViewSet, StrictSerializer
from interviews.models import Role

from . import tabular
from .refi import export, import_

MEDIA_TYPES = {
    "qdpx": "application/zip",
    "qdc": "application/xml",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class _AnyClient(BaseContentNegotiation):
    """Downloads are files whatever the client accepts; errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _download(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _max_upload() -> int:
    return getattr(settings, "REFI_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)


class FileUpload(StrictSerializer):
    file = serializers.FileField()

    def validate_file(self, value):
        if value.size > _max_upload():
            raise serializers.ValidationError(f"The file is larger than {_max_upload() // (1024 * 1024)} MB.")
        return value


class ProjectUpload(FileUpload):
    already_anonymised = serializers.BooleanField(
        default=False,
        help_text="The transcripts in the file are already anonymised; otherwise they arrive as drafts.",
    )
    name = serializers.CharField(required=False, max_length=200, help_text="Name of the new project.")


ImportReportOutput = inline_serializer(
    "ExchangeImportReport",
    {
        "project": serializers.IntegerField(allow_null=True),
        "imported": serializers.DictField(child=serializers.IntegerField()),
        "warnings": serializers.ListField(child=serializers.CharField()),
        "skipped": serializers.ListField(child=serializers.CharField()),
    },
)
ExportReportOutput = inline_serializer(
    "ExchangeExportReport",
    {"not_carried": serializers.ListField(child=serializers.CharField())},
)


class ProjectExchangeViewSet(ProjectScopedViewSet):
    """Exports of a project and codebook imports into it (supervisors and owners)."""

    read_role = Role.SUPERVISOR
    write_role = Role.SUPERVISOR
    content_negotiation_class = _AnyClient
    parser_classes = [MultiPartParser]
    pagination_class = None
    filter_backends: list = []

    def _record_download(self, kind: str) -> None:
        audit.record_read(
            project=self.project,
            action="export.downloaded",
            target_type="project",
            target_id=self.project.pk,
            detail={"kind": kind, "role": self.membership.role},
        )

    @extend_schema(
        summary="Download the project as a REFI-QDA project (QDPX)",
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    def qdpx(self, request, project_pk=None):
        result = export.export_qdpx(self.project)
        self._record_download("qdpx")
        return _download(HttpResponse(result.data, content_type=MEDIA_TYPES["qdpx"]), result.filename)

    @extend_schema(summary="What a QDPX export cannot carry", responses=ExportReportOutput)
    def qdpx_report(self, request, project_pk=None):
        response = Response({"not_carried": export.not_carried_report(self.project)})
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="Download the codebook as REFI-QDA (QDC)",
        responses={(200, "application/xml"): OpenApiTypes.BINARY},
    )
    def qdc(self, request, project_pk=None):
        result = export.export_qdc(self.project)
        self._record_download("qdc")
        return _download(HttpResponse(result.data, content_type=MEDIA_TYPES["qdc"]), result.filename)

    @extend_schema(
        summary="Download a tidy table (codings, profiles or codebook) as CSV or XLSX",
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, MEDIA_TYPES["xlsx"]): OpenApiTypes.BINARY,
        },
    )
    def table(self, request, project_pk=None, table=None, fmt=None):
        built = tabular.TABLES[table](self.project)
        self._record_download(f"{table}.{fmt}")
        stem = export._safe_filename(self.project.name, f"-{table}.{fmt}")
        if fmt == "csv":
            response = StreamingHttpResponse(tabular.csv_chunks(built), content_type=MEDIA_TYPES["csv"])
        else:
            response = HttpResponse(tabular.xlsx_bytes(built), content_type=MEDIA_TYPES["xlsx"])
        return _download(response, stem)

    @extend_schema(
        summary="Merge a REFI-QDA codebook (QDC) into the project's codebook",
        request={"multipart/form-data": FileUpload},
        responses=ImportReportOutput,
    )
    def import_qdc(self, request, project_pk=None):
        upload = self.validated(FileUpload)["file"]
        report = import_.import_qdc(project=self.project, data=upload.read())
        return Response(report.as_dict())

    @extend_schema(
        summary="Merge a codebook CSV (as exported) into the project's codebook",
        request={"multipart/form-data": FileUpload},
        responses=ImportReportOutput,
    )
    def import_codebook_csv(self, request, project_pk=None):
        upload = self.validated(FileUpload)["file"]
        report = tabular.import_codebook_csv(project=self.project, data=upload.read())
        return Response(report.as_dict())


class ProjectImportView(APIView):
    """Create a new project from a REFI-QDA project file (QDPX); the uploader owns it."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Create a project from a REFI-QDA project (QDPX)",
        request={"multipart/form-data": ProjectUpload},
        responses={201: ImportReportOutput},
    )
    def post(self, request):
        serializer = ProjectUpload(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report = import_.import_qdpx(
            data=data["file"].read(),
            owner=request.user,
            already_anonymised=data["already_anonymised"],
            name=data.get("name"),
        )
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)


_project = "projects/<int:project_pk>"
urlpatterns = [
    path("projects/import/qdpx/", ProjectImportView.as_view(), name="project-import-qdpx"),
    path(
        f"{_project}/export/qdpx/",
        ProjectExchangeViewSet.as_view({"get": "qdpx"}),
        name="project-export-qdpx",
    ),
    path(
        f"{_project}/export/qdpx/report/",
        ProjectExchangeViewSet.as_view({"get": "qdpx_report"}),
        name="project-export-qdpx-report",
    ),
    path(
        f"{_project}/export/qdc/", ProjectExchangeViewSet.as_view({"get": "qdc"}), name="project-export-qdc"
    ),
    *[
        path(
            f"{_project}/export/{table}.{fmt}",
            ProjectExchangeViewSet.as_view({"get": "table"}),
            {"table": table, "fmt": fmt},
            name=f"project-export-{table}-{fmt}",
        )
        for table in tabular.TABLES
        for fmt in ("csv", "xlsx")
    ],
    path(
        f"{_project}/import/qdc/",
        ProjectExchangeViewSet.as_view({"post": "import_qdc"}),
        name="project-import-qdc",
    ),
    path(
        f"{_project}/import/codebook-csv/",
        ProjectExchangeViewSet.as_view({"post": "import_codebook_csv"}),
        name="project-import-codebook-csv",
    ),
]
