"""The API's filter backend (its own module: DRF resolves it while defining its generic views)."""

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

_BOOLEAN_VALUES = {"true", "false", "1", "0"}


def _in_project(queryset, project):
    """The objects of ``queryset`` that belong to ``project`` (users: its members), ids only,
    and the message for an id that is not among them."""
    model = queryset.model
    if model is get_user_model():
        return queryset.filter(memberships__project=project).only("pk"), "No such member of this project."
    if not any(field.name == "project" for field in model._meta.fields):
        raise ImproperlyConfigured(f"{model.__name__} has no project to scope an id filter to")
    return queryset.filter(project=project).only("pk"), f"No such {model._meta.verbose_name} in this project."


class FilterBackend(DjangoFilterBackend):
    """django-filter, except that:

    - a filter by an object's id (``?interview=``, ``?coder=``) knows only the objects of the
      request's project: another project's id is refused with 400, exactly as an id that does
      not exist, so that a member cannot learn which ids exist elsewhere;
    - a yes/no filter given something other than true/false is refused with 400 (django-filter
      would drop it silently and answer the unfiltered list)."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        project = getattr(view, "project", None)
        for field in filterset.filters.values():
            if project is not None and isinstance(
                field, django_filters.ModelChoiceFilter | django_filters.ModelMultipleChoiceFilter
            ):
                field.queryset, unknown = _in_project(field.queryset, project)
                field.extra["error_messages"] = {"invalid_choice": unknown}
        wrong = sorted(
            name
            for name, field in filterset.filters.items()
            if isinstance(field, django_filters.BooleanFilter)
            and name in request.query_params
            and request.query_params[name].lower() not in _BOOLEAN_VALUES
        )
        if wrong:
            raise ValidationError({name: ["Give true or false."] for name in wrong})
        return filterset
