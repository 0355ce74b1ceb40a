"""The settings module: production refuses unsafe configuration; bad values fail loudly.

Each case imports the settings in a fresh interpreter with a controlled
environment, as a real start-up would.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE = Path(__file__).resolve().parent.parent
GOOD_KEY = secrets.token_urlsafe(45)[:60]
PROD = {
    "APP_ENV": "production",
    "SECRET_KEY": GOOD_KEY,
    "ALLOWED_HOSTS": "example.org",
    "DATABASE_URL": "postgres://app@127.0.0.1:5432/qc_settings_check",
}
CONTROLLED = {
    "APP_ENV",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "DEBUG",
    "CELERY_BROKER_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set while browser tests run; never in a deployment
    "DB_CONN_MAX_AGE",
    "SESSION_ABSOLUTE_TIMEOUT",
    "CELERY_TASK_TIME_LIMIT",
    "SECURE_SSL_REDIRECT",
    "BEHIND_TLS_PROXY",
    "DJANGO_SETTINGS_MODULE",
    "CELERY_RESULT_BACKEND",
}


def run(code: str, **env_vars) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CONTROLLED}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update({k: v for k, v in env_vars.items() if v is not None})
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE, env=env, capture_output=True, text=True, timeout=120
    )


START = "import django; django.setup(); from django.conf import settings; print('started')"


def assert_refuses(result, fragment):
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr, result.stderr[-2000:]
    assert fragment in result.stderr, result.stderr[-2000:]
    assert "started" not in result.stdout


def test_production_starts_with_a_complete_configuration():
    result = run(START, **PROD)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "started" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    assert_refuses(run(START, **{**PROD, "SECRET_KEY": None}), "SECRET_KEY must be set")


@pytest.mark.parametrize(
    "key",
    [
        "short-key",
        "x" * 49,
        "a" * 60,
        "django-insecure-" + "k" * 50,
    ],
)
def test_production_refuses_a_weak_secret_key(key):
    assert_refuses(run(START, **{**PROD, "SECRET_KEY": key}), "SECRET_KEY must be set")


def test_production_refuses_to_start_without_allowed_hosts():
    assert_refuses(run(START, **{**PROD, "ALLOWED_HOSTS": None}), "ALLOWED_HOSTS must be set")
    assert_refuses(run(START, **{**PROD, "ALLOWED_HOSTS": ""}), "ALLOWED_HOSTS must be set")


def test_production_refuses_sqlite():
    assert_refuses(run(START, **{**PROD, "DATABASE_URL": None}), "Production needs DATABASE_URL")
    sqlite = run(START, **{**PROD, "DATABASE_URL": "sqlite:////tmp/qc_settings.sqlite3"})
    assert_refuses(sqlite, "Production needs DATABASE_URL")


def test_production_refuses_debug():
    assert_refuses(run(START, **{**PROD, "DEBUG": "true"}), "DEBUG cannot be on")


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_bad_boolean_value_fails_loudly(value):
    assert_refuses(run(START, DEBUG=value), "DEBUG must be one of")
    assert_refuses(run(START, **{**PROD, "SECURE_SSL_REDIRECT": value}), "SECURE_SSL_REDIRECT must be one of")


@pytest.mark.parametrize(
    ("name", "value"), [("SESSION_ABSOLUTE_TIMEOUT", "eight hours"), ("CELERY_TASK_TIME_LIMIT", "1.5")]
)
def test_bad_whole_number_fails_loudly(name, value):
    assert_refuses(run(START, **{name: value}), f"{name} must be a whole number")


def test_bad_connection_age_fails_loudly_with_postgres():
    result = run(START, **{**PROD, "DB_CONN_MAX_AGE": "forever"})
    assert_refuses(result, "DB_CONN_MAX_AGE must be a whole number")


def test_unknown_app_env_fails_loudly():
    assert_refuses(run(START, APP_ENV="staging"), "APP_ENV must be development, test or production")


def test_development_defaults_are_sqlite_eager_celery_and_debug():
    code = (
        START + "; print(settings.DEBUG, settings.DATABASES['default']['ENGINE'],"
        " settings.CELERY_TASK_ALWAYS_EAGER, settings.PASSWORD_HASHERS[0], bool(settings.SECRET_KEY))"
    )
    result = run(code, APP_ENV="development")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-5:] == [
        "True",
        "django.db.backends.sqlite3",
        "True",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "True",
    ]


def test_database_url_and_broker_switch_backends():
    code = START + "; print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"
    result = run(
        code, DATABASE_URL="postgres://u@127.0.0.1:5432/x", CELERY_BROKER_URL="redis://127.0.0.1:6379/0"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["django.db.backends.postgresql", "False"]


def test_production_has_secure_cookies_hsts_and_argon2():
    code = START + (
        "; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE,"
        " settings.SECURE_HSTS_SECONDS >= 31536000, settings.SECURE_SSL_REDIRECT,"
        " settings.PASSWORD_HASHERS[0].endswith('Argon2PasswordHasher'))"
    )
    result = run(code, **PROD)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-6:] == ["False", "True", "True", "True", "True", "True"]


def test_no_secret_key_is_committed():
    tracked = subprocess.run(["git", "ls-files"], cwd=BASE, capture_output=True, text=True, check=True).stdout
    assert ".secret_key" not in tracked.split()
    assert "SECRET_KEY =" not in (BASE / "config" / "settings.py").read_text().replace(
        "SECRET_KEY = _secret_key()", ""
    )


def test_check_deploy_passes_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE,
        env={**{k: v for k, v in os.environ.items() if k not in CONTROLLED}, **PROD},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_serves_no_browsable_api_and_its_admin_needs_two_factor():
    code = START + (
        "; print(settings.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'], settings.ADMIN_REQUIRES_TWO_FACTOR)"
    )
    result = run(code, **PROD)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "BrowsableAPIRenderer" not in result.stdout
    assert "JSONRenderer" in result.stdout and result.stdout.split()[-1] == "True"
    development = run(code, APP_ENV="development")
    assert "BrowsableAPIRenderer" in development.stdout  # so the check above can fail
