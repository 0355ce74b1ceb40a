"""The coding view's data endpoint: one GET with everything the page shows, polled with an ETag."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from interviews import audit
from interviews.api_base import ProjectScopedViewSet

from . import workbench


def _etag_matches(header: str, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    candidates = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return etag in candidates


def coder_filter(request) -> int | None:
    """The ``coder`` query parameter as a user id; a malformed value is a 400, not a silent 'all'."""
    raw = request.query_params.get("coder", "")
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise serializers.ValidationError({"coder": "Give the coder as a user id."}) from None
    return value


class CodingDataViewSet(ProjectScopedViewSet):
    """Page data of the transcript coding view: text, turns, codings, codebook, members, memos."""

    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Interview id"),
            OpenApiParameter(
                "coder", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Only this coder's codings"
            ),
            OpenApiParameter(
                "If-None-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="The ETag of the last answer: 304 if nothing changed since.",
            ),
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="Page data; offsets in code points."),
            304: OpenApiResponse(description="Nothing changed since the ETag given."),
        },
    )
    def retrieve(self, request, project_pk=None, pk=None):
        coder_id = coder_filter(request)
        interview = workbench.interview_with_version(
            project=self.project, interview_id=pk, membership=self.membership
        )
        etag = workbench.version_tag(interview, role=self.membership.role, coder_id=coder_id)
        headers = {"ETag": etag, "Cache-Control": "private, no-store"}
        if _etag_matches(request.headers.get("If-None-Match", ""), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        data = workbench.page_data(membership=self.membership, interview=interview, coder_id=coder_id)
        if not audit.is_background_poll(request):
            # The coding view's own polls are part of the reading its page load recorded.
            audit.record_read(
                project=self.project,
                action="transcript.read",
                target_type="interview",
                target_id=interview.pk,
                interview_id=interview.pk,
                detail={"view": "coding data", "role": self.membership.role, "coder": coder_id},
            )
        data["etag"] = etag
        return Response(data, headers=headers)
