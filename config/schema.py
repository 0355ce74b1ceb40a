"""The OpenAPI schema generator (drf-spectacular), with the API's error answers documented."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

# The error answers every operation can give (documented so clients and schema fuzzing know them):
# 400 names the fields at fault; the others carry {"detail": "..."}.
ERROR_RESPONSES = {
    "400": "The request is invalid; the answer names each field at fault.",
    "401": "Not signed in, or the token is not valid.",
    "403": "Signed in, but this role may not do this (or two-factor verification is needed).",
    "404": "No such object in a project you are a member of.",
    "405": "This method is not allowed here.",
    "409": "Conflicts with the current state (a duplicate, or others depend on it).",
    "412": "The object changed since you read it (If-Match did not match).",
    "414": "The URL is too long (answered by the web server).",
    "429": "Too many requests; try again later.",
    "503": "The database is unavailable for a moment; nothing was saved. Retry after Retry-After seconds.",
}
_ERROR_BODY = {"application/json": {"schema": {"type": "object", "additionalProperties": {}}}}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, with the error answers above added to every operation."""

    def _is_list_view(self, serializer=None):
        # A viewset whose `list` answers one object (a report, not a collection) says so with
        # `answers_one_object = True`, so its schema is that object rather than an array of it.
        if getattr(self.view, "answers_one_object", False):
            return False
        return super()._is_list_view(serializer)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response":
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(code, {"description": description, "content": _ERROR_BODY})
        return responses
