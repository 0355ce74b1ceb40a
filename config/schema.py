"""The OpenAPI schema generator (drf-spectacular), with the API's error answers documented."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

# The error answers every operation can give (documented so clients and schema fuzzing know them):
# 400, and 409 for a duplicate, name the fields at fault; the others carry {"detail": "..."}.
ERROR_RESPONSES = {
    "400": "The request is invalid; the answer names each field at fault.",
    "401": "Not signed in, or the token is not valid.",
    "403": "Signed in, but this role may not do this (or two-factor verification is needed).",
    "404": "No such object in a project you are a member of.",
    "405": "This method is not allowed here.",
    "409": "Conflicts with the current state: a duplicate (named by field) or others depend on it.",
    "412": "The object changed since you read it (If-Match did not match).",
    "414": "The URL is too long (answered by the web server).",
    "429": "Too many requests; try again later.",
    "503": "The database is unavailable for a moment; nothing was saved. Retry after Retry-After seconds.",
}
# Only where a version is required: a PATCH or DELETE of an object that answers an ETag.
PRECONDITION_REQUIRED = {
    "428": "If-Match is missing: send the ETag of your last GET (or * to overwrite whatever is there).",
}
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "The ETag of your last GET of this object (412 if it changed since), "
        "or * to change whatever is there now. Without it: 428, nothing written."
    ),
)
_ERROR_BODY = {"application/json": {"schema": {"type": "object", "additionalProperties": {}}}}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, with the error answers above added to every operation."""

    def _is_list_view(self, serializer=None):
        # A viewset whose `list` answers one object (a report, not a collection) says so with
        # `answers_one_object = True`, so its schema is that object rather than an array of it.
        if getattr(self.view, "answers_one_object", False):
            return False
        return super()._is_list_view(serializer)

    def _needs_if_match(self) -> bool:
        """Whether this operation answers 428 without If-Match (see interviews/api_base.py)."""
        # Imported here: api_base's decorators need this module's AutoSchema when it loads.
        from interviews.api_base import VERSIONED_WRITES, ProjectScopedViewSet, is_versioned

        view = self.view
        if self.method not in VERSIONED_WRITES or not isinstance(view, ProjectScopedViewSet):
            return False
        lookup = view.lookup_url_kwarg or view.lookup_field
        # (drf-spectacular writes a "pk" path parameter as "id".)
        if f"{{{lookup}}}" not in self.path and not (lookup == "pk" and "{id}" in self.path):
            return False
        queryset = view.get_queryset()
        return is_versioned(getattr(queryset, "model", None))

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._needs_if_match():
            parameters.append(IF_MATCH)
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response":
            errors = {**ERROR_RESPONSES, **(PRECONDITION_REQUIRED if self._needs_if_match() else {})}
            for code, description in errors.items():
                responses.setdefault(code, {"description": description, "content": _ERROR_BODY})
        return responses
