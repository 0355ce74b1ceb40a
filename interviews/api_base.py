"""API plumbing shared by every endpoint: project scoping, strict input, errors, paging.

``ProjectScopedViewSet`` owns project scoping: it resolves ``project_pk`` from
the URL once per request through ``access.get_membership`` (404 for
non-members) and checks the member's role for the action. Subclasses build
their querysets from ``self.project`` only, so no endpoint can forget the
project filter.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from .access import get_membership, require_role
from .models import Role

# PUT is not offered: partial updates (PATCH) only, so a client never blanks
# fields it did not send.
WRITE_METHODS = ["get", "post", "patch", "delete", "head", "options"]


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
        return Response(
            serializer_class(instance, context=self.get_serializer_context()).data,
            status=status_code,
        )
