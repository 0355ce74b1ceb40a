"""AC9: two-factor authentication (django-otp TOTP and backup codes) and the per-project policy.

Codes are real: computed from the device's key with django_otp.oath at the test's clock.
The clock moves on by a TOTP step between uses, since a device never accepts the same
time step twice.
"""

import time
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services as two_factor
from accounts.models import TokenGrant
from interviews import services
from interviews.models import AuditEvent, Role

from .browser import PASSWORD
from .test_access_matrix import (
    API_POLICY,
    PUBLIC,
    SIGNED_IN,
    call,
    concrete,
    page_request,
    page_url,
    project_page_operations,
    world,  # noqa: F401 - the matrix's objects of every kind, as a fixture
)

STEP = 30


class Clock:
    def __init__(self):
        self.now = float(int(time.time()) // STEP * STEP + 5)

    def tick(self, steps: int = 1) -> None:
        self.now += steps * STEP


@pytest.fixture
def clock(monkeypatch):
    """TOTP devices read time.time(); the test moves it on by whole time steps."""
    fixed = Clock()
    monkeypatch.setattr(time, "time", lambda: fixed.now)
    return fixed


def code_now(device, clock) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = clock.now
    return f"{totp.token():0{device.digits}d}"


def enrol(user, clock) -> tuple[TOTPDevice, list[str]]:
    """Two-factor authentication set up through the services, as the setup page does."""
    device = two_factor.start_authenticator(user=user)
    device, codes = two_factor.confirm_authenticator(user=user, code=code_now(device, clock))
    clock.tick()
    return device, codes


def sign_in(user, device=None, clock=None) -> Client:
    """A browser session signed in with the password, then (given a device) with a code."""
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    if device is not None:
        response = client.post(reverse("two-factor-verify"), {"code": code_now(device, clock)})
        assert response.status_code == 302, response.content.decode()
        clock.tick()
    return client


def token_for(user, otp=None) -> APIClient:
    data = {"username": user.username, "password": PASSWORD}
    if otp is not None:
        data["otp"] = otp
    response = APIClient().post("/api/auth/token/", data, format="json")
    assert response.status_code == 200, response.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def assert_token_refused(response, reason: str) -> None:
    # 403 rather than 401: session authentication comes first and sends no WWW-Authenticate.
    assert response.status_code in (401, 403)
    assert reason in response.json()["detail"]


@pytest.fixture
def guarded(team):
    """Project A requires two-factor authentication; the coder also belongs to an open project."""
    team.project.require_two_factor = True
    team.project.save()
    open_project = services.create_project(name="Open pilot study", owner=team.owner)
    services.add_member(project=open_project, user=team.coder, role=Role.CODER)
    team.open_project = open_project
    return team


# ---------------------------------------------------------------- enrolment


def test_member_sets_up_an_authenticator_with_a_code_it_shows_and_gets_ten_backup_codes(team, clock):
    client = Client()
    client.force_login(team.coder)
    page = client.get(reverse("two-factor-setup"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=team.coder)
    assert not device.confirmed
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html  # the QR code, drawn on the server
    assert "otpauth://totp/Interview%20coding%3Acora_coder?" in html
    # Reloading the page shows the same key until it is confirmed.
    client.get(reverse("two-factor-setup"))
    assert TOTPDevice.objects.filter(user=team.coder).count() == 1

    response = client.post(reverse("two-factor-setup"), {"code": code_now(device, clock)})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    codes = list(response.context["codes"])
    assert len(codes) == len(set(codes)) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=team.coder).values_list("token", flat=True)
    )
    assert all(code in response.content.decode() for code in codes)
    # Shown once: the backup codes page later tells how many are left, not which.
    later = client.get(reverse("two-factor-backup-codes")).content.decode()
    assert "10 unused backup codes" in later and codes[0] not in later
    # The session that confirmed the authenticator counts as verified.
    assert client.get(reverse("two-factor")).context["verified"]


def test_a_wrong_code_does_not_confirm_the_authenticator(team, clock):
    client = Client()
    client.force_login(team.coder)
    client.get(reverse("two-factor-setup"))
    device = TOTPDevice.objects.get(user=team.coder)
    wrong = f"{(int(code_now(device, clock)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("two-factor-setup"), {"code": wrong})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1
    assert not StaticToken.objects.filter(device__user=team.coder).exists()


# ---------------------------------------------------------------- sign-in


def test_password_sign_in_asks_for_the_code_before_anything_else(team, clock):
    device, _ = enrol(team.coder, clock)
    client = sign_in(team.coder)
    response = client.get(f"/projects/{team.project.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor-verify"))
    api = client.get("/api/projects/")
    assert api.status_code == 403 and "authenticator" in api.json()["detail"]
    assert client.get(reverse("two-factor-verify")).status_code == 200

    response = client.post(
        reverse("two-factor-verify"),
        {"code": code_now(device, clock), "next": f"/projects/{team.project.pk}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/projects/{team.project.pk}/"
    assert client.get(f"/projects/{team.project.pk}/").status_code == 200
    assert client.get("/api/projects/").status_code == 200


def test_wrong_code_is_refused_and_the_session_stays_unverified(team, clock):
    device, _ = enrol(team.coder, clock)
    client = sign_in(team.coder)
    wrong = f"{(int(code_now(device, clock)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("two-factor-verify"), {"code": wrong})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert client.get("/").status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_the_verification_page_does_not_redirect_to_another_site(team, clock):
    device, _ = enrol(team.coder, clock)
    client = sign_in(team.coder)
    response = client.post(
        reverse("two-factor-verify"), {"code": code_now(device, clock), "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("project-list")


def test_a_backup_code_signs_in_once(team, clock):
    device, codes = enrol(team.coder, clock)
    client = sign_in(team.coder)
    assert client.post(reverse("two-factor-verify"), {"code": codes[3].upper()}).status_code == 302
    assert client.get("/").status_code == 200
    assert StaticToken.objects.filter(device__user=team.coder).count() == 9

    again = sign_in(team.coder)
    response = again.post(reverse("two-factor-verify"), {"code": codes[3]})
    assert response.status_code == 400
    assert again.get("/").status_code == 302


def test_wrong_codes_make_the_device_wait_before_it_accepts_the_right_one(team, clock, settings):
    """Throttling of OTP attempts: after a wrong code even the right one is refused for a while
    (django-otp's exponential back-off, here with a factor of a minute), on the page and
    the token endpoint alike."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device, _ = enrol(team.coder, clock)
    client = sign_in(team.coder)
    right = code_now(device, clock)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert client.post(reverse("two-factor-verify"), {"code": wrong}).status_code == 400
    refused = client.post(reverse("two-factor-verify"), {"code": right})
    assert refused.status_code == 400
    assert "Too many wrong codes (1)" in refused.content.decode()
    token = APIClient().post(
        "/api/auth/token/",
        {"username": team.coder.username, "password": PASSWORD, "otp": right},
        format="json",
    )
    assert token.status_code == 400 and "Too many wrong codes" in token.json()["otp"][0]
    assert client.get("/").status_code == 302

    # Once the wait is over, the right code works.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=61)
    )
    assert client.post(reverse("two-factor-verify"), {"code": right}).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_a_wrong_authenticator_code_does_not_hold_up_the_backup_codes(team, clock):
    device, codes = enrol(team.coder, clock)
    client = sign_in(team.coder)
    wrong = f"{(int(code_now(device, clock)) + 1) % 1_000_000:06d}"
    assert client.post(reverse("two-factor-verify"), {"code": wrong}).status_code == 400
    assert client.post(reverse("two-factor-verify"), {"code": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200


def test_removing_two_factor_needs_a_current_code(team, clock):
    device, _ = enrol(team.coder, clock)
    client = sign_in(team.coder, device, clock)
    wrong = f"{(int(code_now(device, clock)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("two-factor-remove"), {"code": wrong})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=team.coder, confirmed=True).exists()
    device.refresh_from_db()
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=None, throttling_failure_count=0
    )
    response = client.post(reverse("two-factor-remove"), {"code": code_now(device, clock)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=team.coder).exists()
    assert not StaticToken.objects.filter(device__user=team.coder).exists()
    assert client.get(reverse("two-factor")).context["enabled"] is False


# ---------------------------------------------------------------- the project's policy


def test_project_requiring_two_factor_sends_an_unverified_member_to_set_it_up(guarded):
    client = Client()
    client.force_login(guarded.coder)
    response = client.get(f"/projects/{guarded.project.pk}/", follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("two-factor-setup"))
    assert "requires two-factor authentication" in response.content.decode()
    # Another project without the requirement stays reachable.
    assert client.get(f"/projects/{guarded.open_project.pk}/").status_code == 200
    # Listed, but nothing of its content.
    listing = client.get("/").content.decode()
    assert guarded.project.name in listing and "needs two-factor authentication" in listing


def test_project_requiring_two_factor_sends_an_enrolled_member_to_verify(guarded, clock):
    enrol(guarded.coder, clock)
    client = Client()
    client.force_login(guarded.coder)
    # Past the sign-in step (as after a verification that has since lapsed): the project itself
    # sends the member to verify.
    session = client.session
    session.pop(two_factor.PENDING_SESSION_KEY, None)
    session.save()
    response = client.get(f"/projects/{guarded.project.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor-verify"))


def test_verified_member_reaches_the_project(guarded, clock):
    device, _ = enrol(guarded.coder, clock)
    client = sign_in(guarded.coder, device, clock)
    assert client.get(f"/projects/{guarded.project.pk}/").status_code == 200
    assert client.get(f"/api/projects/{guarded.project.pk}/interviews/").status_code == 200


def test_unverified_member_gets_403_with_a_clear_message_from_the_api(guarded, api):
    client = api.as_user(guarded.coder)
    response = client.get(f"/api/projects/{guarded.project.pk}/interviews/")
    assert response.status_code == 403
    assert "requires two-factor authentication" in response.json()["detail"]
    assert client.get(f"/api/projects/{guarded.open_project.pk}/interviews/").status_code == 200
    listed = {p["id"]: p for p in client.get("/api/projects/").json()["results"]}
    assert listed[guarded.project.pk]["require_two_factor"] is True
    assert listed[guarded.project.pk]["interview_count"] is None
    assert listed[guarded.open_project.pk]["interview_count"] == 0


def test_outsider_still_gets_404_not_a_two_factor_hint(guarded, api):
    response = api.as_user(guarded.outsider).get(f"/api/projects/{guarded.project.pk}/")
    assert response.status_code == 404


@pytest.fixture
def guarded_world(world):  # noqa: F811
    team, ids, other_ids = world
    team.project.require_two_factor = True
    team.project.save()
    return team, ids, other_ids


def test_no_data_endpoint_or_page_of_the_project_is_reachable_without_a_second_factor(guarded_world):
    """AC9: a password-only session and a token issued without a code, for every role, on every
    API operation and page of a project that requires two-factor authentication."""
    team, ids, _ = guarded_world
    failures = []
    for role in ("viewer", "coder", "supervisor", "owner"):
        user = team.member(role)
        session = APIClient()
        session.force_login(user)
        token = APIClient()
        token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        for who, client in (("session", session), ("token", token)):
            for (path, method), needed in sorted(API_POLICY.items()):
                if needed in (PUBLIC, SIGNED_IN) or "{project_pk}" not in path:
                    continue
                response = call(client, method, concrete(path, team.project.pk, ids))
                if response.status_code != 403:
                    failures.append(f"{role} {who} {method.upper()} {path}: {response.status_code}")
        pages = Client()
        pages.force_login(user)
        for pattern, method, _needed in project_page_operations():
            response = page_request(pages, method, page_url(pattern, team, ids))
            if response.status_code != 302 or "/account/two-factor/" not in response["Location"]:
                failures.append(f"{role} page {method} {pattern.name}: {response.status_code}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- API tokens


def test_token_for_a_two_factor_account_needs_a_code(team, clock):
    device, _ = enrol(team.coder, clock)
    client = APIClient()
    data = {"username": team.coder.username, "password": PASSWORD}
    response = client.post("/api/auth/token/", data, format="json")
    assert response.status_code == 400 and "otp" in response.json()
    wrong = f"{(int(code_now(device, clock)) + 1) % 1_000_000:06d}"
    response = client.post("/api/auth/token/", {**data, "otp": wrong}, format="json")
    assert response.status_code == 400 and "otp" in response.json()
    assert not Token.objects.filter(user=team.coder).exists()


def test_an_otp_for_an_account_without_two_factor_is_refused(team):
    response = APIClient().post(
        "/api/auth/token/",
        {"username": team.coder.username, "password": PASSWORD, "otp": "123456"},
        format="json",
    )
    assert response.status_code == 400 and "otp" in response.json()
    assert not Token.objects.filter(user=team.coder).exists()


def test_token_issued_with_a_code_reaches_the_project_and_one_without_does_not(guarded, clock):
    without = token_for(guarded.coder)  # before setting up two-factor
    refused = without.get(f"/api/projects/{guarded.project.pk}/interviews/")
    assert refused.status_code == 403 and "otp" in refused.json()["detail"]
    assert without.get(f"/api/projects/{guarded.open_project.pk}/interviews/").status_code == 200

    device, _ = enrol(guarded.coder, clock)
    with_code = token_for(guarded.coder, otp=code_now(device, clock))
    assert with_code.get(f"/api/projects/{guarded.project.pk}/interviews/").status_code == 200
    assert TokenGrant.objects.get(token__user=guarded.coder).second_factor
    # The token issued without a code was replaced: its key no longer works anywhere.
    assert_token_refused(without.get(f"/api/projects/{guarded.open_project.pk}/interviews/"), "Invalid token")


def test_a_backup_code_issues_a_token_once(guarded, clock):
    _, codes = enrol(guarded.coder, clock)
    client = token_for(guarded.coder, otp=codes[0])
    assert client.get(f"/api/projects/{guarded.project.pk}/").status_code == 200
    again = APIClient().post(
        "/api/auth/token/",
        {"username": guarded.coder.username, "password": PASSWORD, "otp": codes[0]},
        format="json",
    )
    assert again.status_code == 400


def test_removing_two_factor_ends_tokens_issued_with_it(guarded, clock):
    device, _ = enrol(guarded.coder, clock)
    client = token_for(guarded.coder, otp=code_now(device, clock))
    clock.tick()
    two_factor.remove_two_factor(user=guarded.coder, code=code_now(device, clock))
    assert_token_refused(client.get(f"/api/projects/{guarded.open_project.pk}/"), "Invalid token")


# ---------------------------------------------------------------- the owner's setting


def test_owner_must_have_verified_a_second_factor_to_require_it(team, api):
    response = api.as_user(team.owner).patch(
        f"/api/projects/{team.project.pk}/", {"require_two_factor": True}
    )
    assert response.status_code == 400 and "require_two_factor" in response.json()
    team.project.refresh_from_db()
    assert not team.project.require_two_factor


def test_owner_requires_two_factor_through_the_api_and_it_is_audited(team, clock):
    device, _ = enrol(team.owner, clock)
    client = token_for(team.owner, otp=code_now(device, clock))
    response = client.patch(f"/api/projects/{team.project.pk}/", {"require_two_factor": True}, format="json")
    assert response.status_code == 200 and response.json()["require_two_factor"] is True
    event = AuditEvent.objects.get(project=team.project, action="project.require_two_factor_changed")
    assert (event.before, event.after, event.actor) == (
        {"require_two_factor": False},
        {"require_two_factor": True},
        team.owner,
    )


def test_supervisor_cannot_change_the_requirement(team, clock):
    device, _ = enrol(team.supervisor, clock)
    client = token_for(team.supervisor, otp=code_now(device, clock))
    response = client.patch(f"/api/projects/{team.project.pk}/", {"require_two_factor": True}, format="json")
    assert response.status_code == 403
    team.project.refresh_from_db()
    assert not team.project.require_two_factor


def test_owner_turns_the_requirement_on_and_off_on_the_project_page(team, clock):
    device, _ = enrol(team.owner, clock)
    client = sign_in(team.owner, device, clock)
    home = client.get(f"/projects/{team.project.pk}/").content.decode()
    assert 'id="two-factor-form"' in home
    response = client.post(
        reverse("project-two-factor", args=[team.project.pk]), {"require_two_factor": "on"}
    )
    assert response.status_code == 302
    team.project.refresh_from_db()
    assert team.project.require_two_factor
    client.post(reverse("project-two-factor", args=[team.project.pk]), {})
    team.project.refresh_from_db()
    assert not team.project.require_two_factor


def test_unverified_owner_is_told_to_set_up_two_factor_first_on_the_page(team):
    client = Client()
    client.force_login(team.owner)
    response = client.post(
        reverse("project-two-factor", args=[team.project.pk]), {"require_two_factor": "on"}, follow=True
    )
    assert "Set up two-factor authentication for your own account" in response.content.decode()
    team.project.refresh_from_db()
    assert not team.project.require_two_factor


# ---------------------------------------------------------------- admin


def test_admin_needs_a_verified_second_factor_when_configured(db, settings, clock):
    from .factories import UserFactory

    settings.ADMIN_REQUIRES_TWO_FACTOR = True
    admin = UserFactory(username="ada_admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor-setup"))
    device, _ = enrol(admin, clock)
    verified = sign_in(admin, device, clock)
    assert verified.get("/admin/").status_code == 200


def test_logging_out_ends_the_verified_session(team, clock):
    device, _ = enrol(team.coder, clock)
    client = sign_in(team.coder, device, clock)
    client.post(reverse("logout"))
    assert SESSION_KEY not in client.session
    again = sign_in(team.coder)
    assert again.get("/").status_code == 302


# ---------------------------------------------------------------- browser


@pytest.mark.browser
def test_signing_in_with_an_authenticator_code_in_the_browser(page, team, clock):
    from .browser import log_in

    device, _ = enrol(team.coder, clock)
    log_in(page, team.coder.username, next_path=f"/projects/{team.project.pk}/")
    assert "/account/two-factor/verify/" in page.url
    page.fill("#id_code", code_now(device, clock))
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith(f"/projects/{team.project.pk}/")
    assert page.locator("h1").inner_text() == team.project.name
    assert not page.guard.errors and not page.guard.foreign_requests
