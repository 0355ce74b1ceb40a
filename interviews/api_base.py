"""API plumbing shared by every endpoint: project scoping, strict input, errors, paging.

``ProjectScopedViewSet`` owns project scoping: it resolves ``project_pk`` from
the URL once per request through ``access.get_membership`` (404 for
non-members) and checks the member's role for the action. Subclasses build
their querysets from ``self.project`` only, so no endpoint can forget the
project filter.

Optimistic concurrency (no lost updates): every object with an ``updated_at``
(code, coding, memo, participant, interview, comment, assignment, saved query)
answers an ``ETag`` made of its id and ``updated_at`` (detail GET, create, PATCH).
A ``PATCH``, ``PUT`` or ``DELETE`` of such an object must send it back as
``If-Match``: without it the answer is **428** and nothing is written, so no
client can overwrite a change it never saw. With it, the row is locked and
compared, and the answer is **412** with nothing written when someone changed
it since. ``If-Match: *`` says "whatever is there now" and is accepted. An
action on an object (``POST .../merge/``) checks ``If-Match`` when it is sent.
"""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.http import Http404
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from .access import get_membership, require_role
from .models import Role

# PUT is not offered: partial updates (PATCH) only, so a client never blanks
# fields it did not send.
WRITE_METHODS = ["get", "post", "patch", "delete", "head", "options"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def etag_for(pk, updated_at) -> str:
    """The version tag of a row: its id and ``updated_at`` (a datetime, or the text a raw
    SQLite cursor gives, which is UTC), the same on SQLite and PostgreSQL."""
    if isinstance(updated_at, str):
        updated_at = parse_datetime(updated_at)
    if updated_at.tzinfo is None:
        updated_at = updated_at.replace(tzinfo=UTC)
    micro = (updated_at - _EPOCH) // _MICROSECOND
    return f'"{pk}-{micro:x}"'


def etag_of(instance) -> str | None:
    updated_at = getattr(instance, "updated_at", None)
    if instance is None or instance.pk is None or updated_at is None:
        return None
    return etag_for(instance.pk, updated_at)


def locked_version(instance) -> str | None:
    """The row's version now (None if it is gone), locked for the rest of the transaction, so
    comparing it with the client's and writing are one step (API If-Match and page forms)."""
    rows = type(instance)._base_manager.filter(pk=instance.pk)
    if connection.in_atomic_block:
        rows = rows.select_for_update()
    current = rows.values_list("updated_at", flat=True).first()
    return None if current is None else etag_for(instance.pk, current)


def if_match_holds(header: str, etag: str) -> bool:
    """RFC 9110 If-Match: ``*`` or any listed tag (a weak ``W/`` prefix is tolerated)."""
    candidates = [c.strip() for c in header.split(",")]
    return "*" in candidates or etag in {c.removeprefix("W/") for c in candidates}


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "changed_since_read"
    default_detail = (
        "Someone changed this since you loaded it, so your change was not saved. "
        "Reload it, check their change, and make yours again."
    )


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "if_match_required"
    default_detail = (
        "Send the version you read in an If-Match header (the ETag of your last GET), "
        "so that nobody's change is overwritten. Nothing was saved."
    )


# The methods that must name the version they change (an action's POST may; these must).
VERSIONED_WRITES = frozenset({"PATCH", "PUT", "DELETE"})


def is_versioned(model) -> bool:
    """Whether rows of ``model`` carry a version (an ``updated_at``) and so answer an ETag."""
    return model is not None and any(f.name == "updated_at" for f in model._meta.concrete_fields)


class StrictSerializer(serializers.Serializer):
    """Input serializer that refuses fields it does not know (including read-only ones)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field cannot be set here."] for name in unknown}
                )
            # DRF's CharField turns 12 into "12"; the schema says text, so a number is refused.
            not_text = sorted(
                name
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and not isinstance(field, serializers.ChoiceField)
                and data.get(name) is not None
                and not isinstance(data.get(name), str)
            )
            if not_text:
                raise serializers.ValidationError({name: ["Give text here."] for name in not_text})
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.INT)
class ProjectRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id to an object of the request's project; any other id is 'not found'."""

    default_error_messages = {
        "does_not_exist": "No such {model} in this project (id {pk_value}).",
        "incorrect_type": "Give the id as a whole number.",
    }

    def __init__(self, model, project_field="project", defer=(), **kwargs):
        self.model = model
        self.project_field = project_field
        self.defer = defer
        super().__init__(**kwargs)

    def get_queryset(self):
        project = self.context["project"]
        queryset = self.model.objects.filter(**{self.project_field: project})
        return queryset.defer(*self.defer) if self.defer else queryset

    def fail(self, key, **kwargs):
        kwargs.setdefault("model", self.model._meta.verbose_name)
        super().fail(key, **kwargs)


@extend_schema(
    parameters=[
        OpenApiParameter("project_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Project id")
    ]
)
class ProjectScopedViewSet(viewsets.GenericViewSet):
    """Base for every endpoint under /api/projects/{project_pk}/.

    ``read_role`` is needed for safe methods, ``write_role`` for the rest;
    ``action_roles`` overrides either per action.
    """

    read_role = Role.VIEWER
    write_role = Role.SUPERVISOR
    action_roles: dict[str, str] = {}
    # Objects that are updated or deleted by id are looked up within the project.
    lookup_value_regex = "[0-9]+"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.membership = get_membership(user=request.user, project_id=kwargs.get("project_pk"))
        self.project = self.membership.project
        needed = self.action_roles.get(
            self.action, self.read_role if request.method in SAFE_METHODS else self.write_role
        )
        require_role(self.membership, needed)
        # Detail routes find their object now, before any input is read: an id
        # from another project is 404 whatever the body says.
        lookup = self.lookup_url_kwarg or self.lookup_field
        has_queryset = self.queryset is not None or type(self).get_queryset is not GenericAPIView.get_queryset
        # (A method the route does not take is left to answer 405.)
        if (
            self.action
            and lookup in kwargs
            and has_queryset
            and not getattr(self, "swagger_fake_view", False)
        ):
            self._object = super().get_object()
            if_match = request.headers.get("If-Match")
            if request.method not in SAFE_METHODS and if_match:
                self._check_if_match(if_match)
            elif request.method in VERSIONED_WRITES and is_versioned(type(self._object)):
                raise PreconditionRequired()

    def _check_if_match(self, header: str) -> None:
        """Lock the row and compare its version with the client's; 412 when it moved on.

        The lock (for the rest of the request's transaction) makes check-and-write one step:
        of two writers holding the same tag, the second waits, then sees the first's version.
        """
        instance = self._object
        if getattr(instance, "updated_at", None) is None:
            return  # this kind of object has no version to compare
        current = locked_version(instance)
        if current is None:
            raise Http404
        if not if_match_holds(header, current):
            raise PreconditionFailed()
        if current != etag_of(instance):
            # Changed between the lookup and the lock, to the version the client has: re-read.
            self._object = super().get_object()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if 200 <= response.status_code < 300 and not response.has_header("ETag"):
            instance = getattr(self, "_etag_instance", None)
            if instance is None and request.method in SAFE_METHODS and self.action == "retrieve":
                instance = getattr(self, "_object", None)
            tag = etag_of(instance)
            if tag:
                response["ETag"] = tag
        return response

    def filter_queryset(self, queryset):
        # Filters and ordering narrow lists; a detail route finds its object by id alone
        # (DRF would build the list's filter set for every PATCH and DELETE too).
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)

    def get_object(self):
        if getattr(self, "_object", None) is None:
            self._object = super().get_object()
        return self._object

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["project"] = getattr(self, "project", None)
        return context

    def scoped(self, queryset):
        """Restrict to this project's rows; an empty queryset while generating the schema."""
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(project=self.project)

    def validated(self, serializer_class, *, partial=False):
        serializer = serializer_class(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def respond(self, instance, *, status_code=status.HTTP_200_OK, serializer_class=None):
        serializer_class = serializer_class or self.get_serializer_class()
        if self.action in ("create", "retrieve", "partial_update"):
            self._etag_instance = instance  # its version goes out as the ETag
        return Response(
            serializer_class(instance, context=self.get_serializer_context()).data,
            status=status_code,
        )
