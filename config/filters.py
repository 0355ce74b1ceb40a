"""The API's filter backend (its own module: DRF resolves it while defining its generic views)."""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

_BOOLEAN_VALUES = {"true", "false", "1", "0"}


class FilterBackend(DjangoFilterBackend):
    """django-filter, except that a yes/no filter given something other than true/false is refused
    with 400 (django-filter would drop it silently and answer the unfiltered list)."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
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
