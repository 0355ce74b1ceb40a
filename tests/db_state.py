"""Snapshots of what is stored, so a refused request can be shown to have written nothing."""

from django.apps import apps
from django.contrib.auth import get_user_model

from interviews.models import RefusedAccess


def row_counts() -> dict[str, int]:
    """How many rows every model of our two apps (and users) has."""
    models = [*apps.get_app_config("interviews").get_models(), *apps.get_app_config("coding").get_models()]
    # The log of refused requests is written *because* a request was refused (DP3), after its
    # transaction rolled back: it is not data the request wrote.
    counts = {model._meta.label: model.objects.count() for model in models if model is not RefusedAccess}
    counts["auth.User"] = get_user_model().objects.count()
    return counts


def row_values(model) -> list[dict]:
    """Every row of a model as plain values, ordered by id (to compare before and after)."""
    return list(model.objects.order_by("pk").values())


def errors_of(response) -> dict:
    """The JSON body of an error answer, asserting it is an object."""
    body = response.json()
    assert isinstance(body, dict), body
    return body
