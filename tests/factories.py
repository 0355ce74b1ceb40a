"""Factories for tests: real rows in a real database, built through the services where rules apply."""

import factory
from django.contrib.auth import get_user_model

from coding.models import Code
from interviews.models import Participant, Project


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("a long test password 1")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Study {n}")


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    project = factory.SubFactory(ProjectFactory)
    pseudonym = factory.Sequence(lambda n: f"LV-{n:02d}")


class CodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Code

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Code {n}")


def versioned(client, method, url, *args, **extra):
    """``client.<method>(url, ...)`` sent as a careful client sends a change: with the ETag that a
    GET of ``url`` answers now as ``If-Match`` (none when the GET is refused, so the change meets
    the same refusal). Changes of a versioned object without it get 428."""
    response = client.get(url)
    tag = response.headers.get("ETag") if response.status_code == 200 else None
    if tag:
        extra.setdefault("HTTP_IF_MATCH", tag)
    return getattr(client, method)(url, *args, **extra)
