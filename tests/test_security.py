"""Accounts and deployment: login throttling (AC8), session lifetime, headers (AC11), CSRF (AC10)."""

import time

import pytest
from django.test import Client
from django.urls import get_resolver

from config import settings as config_settings

from .factories import UserFactory

PASSWORD = "a long test password 1"


@pytest.fixture
def account(db):
    return UserFactory(username="lena_locked")


def login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(account):
    client = Client()
    statuses = [login(client, account.username, "wrong password!!").status_code for _ in range(5)]
    assert statuses[:4] == [200] * 4 and statuses[4] == 429  # the fifth failure locks
    locked = login(client, account.username, PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_rotating_forwarded_for_does_not_reset_the_lockout(account):
    client = Client()
    for n in range(5):
        login(client, account.username, "wrong password!!", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    locked = login(client, account.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert locked.status_code == 429


def test_a_success_before_the_limit_resets_the_count(account):
    client = Client()
    for _ in range(4):
        login(client, account.username, "wrong password!!")
    assert login(client, account.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        login(client, account.username, "wrong password!!")
    assert login(client, account.username, PASSWORD).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_api_token_endpoint_is_throttled_too(account):
    # transactional: as in production, the view runs in autocommit, not inside a test transaction.
    client = Client()
    for _ in range(5):
        client.post("/api/auth/token/", {"username": account.username, "password": "wrong password!!"})
    response = client.post("/api/auth/token/", {"username": account.username, "password": PASSWORD})
    assert response.status_code in (403, 429)
    assert "token" not in response.content.decode()


def test_idle_session_is_signed_out(account, settings, monkeypatch):
    client = Client()
    assert login(client, account.username, PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + settings.SESSION_IDLE_TIMEOUT + 5)
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_background_polling_does_not_keep_an_idle_session_alive(account, settings, monkeypatch):
    client = Client()
    login(client, account.username, PASSWORD)
    start = time.time()
    for minutes in range(1, settings.SESSION_IDLE_TIMEOUT // 60 + 2):
        monkeypatch.setattr(time, "time", lambda m=minutes: start + 60 * m)
        client.get("/", HTTP_X_BACKGROUND_POLL="1")
    assert client.get("/").status_code == 302


def test_session_ends_after_the_absolute_limit_even_when_active(account, settings, monkeypatch):
    client = Client()
    login(client, account.username, PASSWORD)
    start = time.time()
    step = settings.SESSION_IDLE_TIMEOUT - 60
    elapsed = 0
    while elapsed + step < settings.SESSION_ABSOLUTE_TIMEOUT:
        elapsed += step
        monkeypatch.setattr(time, "time", lambda e=elapsed: start + e)
        assert client.get("/").status_code == 200
    monkeypatch.setattr(time, "time", lambda: start + settings.SESSION_ABSOLUTE_TIMEOUT + 1)
    assert client.get("/").status_code == 302


def test_signed_in_responses_are_never_cached(team, api):
    response = api.as_user(team.coder).get(f"/api/projects/{team.project.pk}/interviews/{team.interview.pk}/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_security_headers_are_enforced_on_pages_and_api(team, client):
    client.force_login(team.coder)
    for url in ("/", f"/api/projects/{team.project.pk}/codes/"):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "Content-Security-Policy-Report-Only" not in response
        script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"


def test_passwords_are_hashed_with_argon2_and_need_twelve_characters():
    # The module's value: tests themselves hash with a fast hasher (conftest).
    assert config_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("short pw 1")
    with pytest.raises(ValidationError):
        validate_password("password1234")  # common


def test_there_is_no_self_signup_route():
    names = {p.name for p in get_resolver().url_patterns if getattr(p, "name", None)}
    routes = [str(p.pattern) for p in get_resolver().url_patterns]
    assert not {"signup", "register"} & names
    assert not any("signup" in r or "register" in r for r in routes)


def test_unsafe_api_and_page_requests_without_csrf_token_are_refused(team):
    client = Client(enforce_csrf_checks=True)
    client.force_login(team.coder)
    before = team.project.codings.count()
    response = client.post(
        f"/api/projects/{team.project.pk}/codings/",
        {"interview": team.interview.pk, "code": team.code.pk, "start": 0, "end": 4},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert team.project.codings.count() == before
    assert client.post("/accounts/logout/").status_code == 403
