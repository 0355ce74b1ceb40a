"""One test base for everyone: a project with a named person in each role, and an outsider.

``team`` gives project A (with owner, supervisor, coder, second coder, viewer)
and project B (a different team, whose owner is ``outsider`` for A). Content
is created through the services, so tests see what users would.
"""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from coding import services as coding_services
from interviews import services
from interviews.models import Role

from .factories import UserFactory

MIXED_TEXT = (
    "Interviewer: Where did you cross?\n"
    "Participant: Near the river 🌲 with my brother. قال لي: لا تخف.\n"
    "Participant: Kurmanji: Em ji Şengalê hatin. Sorani: ئێمە لە شەنگالەوە هاتین.\n"
    "Participant: The word cafe\u0301 has a combining accent; 👨‍👩‍👧 is one family.\n"
)


@dataclass
class Team:
    project: object
    owner: object
    supervisor: object
    coder: object
    coder2: object
    viewer: object
    outsider: object
    other_project: object
    participant: object
    interview: object
    code_group: object
    code: object
    code2: object
    other_code: object
    other_interview: object

    def member(self, role: str):
        return {
            "owner": self.owner,
            "supervisor": self.supervisor,
            "coder": self.coder,
            "viewer": self.viewer,
            "outsider": self.outsider,
        }[role]


def make_interview(participant, text=MIXED_TEXT, by=None, **extra):
    lines = text.split("\n")
    turns, pos = [], 0
    for line in lines:
        if line:
            role = "interviewer" if line.startswith("Interviewer:") else "participant"
            turns.append({"start": pos, "end": pos + len(line), "speaker": line.split(":")[0], "role": role})
        pos += len(line) + 1
    return services.create_interview(
        participant=participant,
        title=extra.pop("title", f"Interview with {participant.pseudonym}"),
        text=text,
        turns=turns,
        anonymised_by=by,
        **extra,
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is the production hasher (see test_settings); tests hash with a fast one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team(db):
    owner = UserFactory(username="olga_owner")
    project = services.create_project(name="Belarus border study", owner=owner)
    supervisor = UserFactory(username="sam_supervisor")
    coder = UserFactory(username="cora_coder")
    coder2 = UserFactory(username="cody_coder")
    viewer = UserFactory(username="vera_viewer")
    services.add_member(project=project, user=supervisor, role=Role.SUPERVISOR)
    services.add_member(project=project, user=coder, role=Role.CODER)
    services.add_member(project=project, user=coder2, role=Role.CODER)
    services.add_member(project=project, user=viewer, role=Role.VIEWER)

    outsider = UserFactory(username="otto_outsider")
    other_project = services.create_project(name="Another team's study", owner=outsider)

    participant = services.create_participant(project=project, pseudonym="LV-07")
    interview = make_interview(participant, by=owner)
    code_group = coding_services.create_code(project=project, name="Visa route", is_codable=False)
    code = coding_services.create_code(project=project, name="Belarusian tourist visa", parent=code_group)
    code2 = coding_services.create_code(project=project, name="Prior pushback")

    other_participant = services.create_participant(project=other_project, pseudonym="PL-01")
    other_interview = make_interview(other_participant, by=outsider)
    other_code = coding_services.create_code(project=other_project, name="Secret code")
    return Team(
        project=project,
        owner=owner,
        supervisor=supervisor,
        coder=coder,
        coder2=coder2,
        viewer=viewer,
        outsider=outsider,
        other_project=other_project,
        participant=participant,
        interview=interview,
        code_group=code_group,
        code=code,
        code2=code2,
        other_code=other_code,
        other_interview=other_interview,
    )


@pytest.fixture
def api():
    """An API client; ``api.as_user(user)`` logs in by forcing authentication."""

    client = APIClient()

    def as_user(user):
        client.force_authenticate(user=user)
        return client

    client.as_user = as_user
    return client


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for a module of browser tests (see tests/browser.py)."""
    from .browser import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser, live_server):
    from .browser import new_page

    with new_page(browser, live_server.url) as page:
        yield page
