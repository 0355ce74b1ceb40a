"""Shared helpers for browser tests: headless Debian Chromium driven by Playwright.

The ``browser`` and ``page`` fixtures in conftest.py are built on them.
Mark browser tests ``@pytest.mark.browser`` and use pytest-django's
``live_server`` (which makes the database transactional). Without
/usr/bin/chromium the tests skip with a message, except under ``CI=true``,
where a missing browser fails them.
"""

import contextlib
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# The password tests.factories.UserFactory gives every user.
PASSWORD = "a long test password 1"


@contextlib.contextmanager
def chromium():
    """A headless Chromium for the duration of the block (skips, or fails under CI, if missing)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the test's own
    # ORM calls (setting up data, checking rows) are still synchronous. Only for
    # this block: the variable must not leak into later tests or subprocesses.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class PageGuard:
    """What a page did that a test may want to refuse: dialogs, requests to other origins, JS errors."""

    def __init__(self, origin: str):
        self.origin = origin
        self.dialogs: list[str] = []
        self.foreign_requests: list[str] = []
        self.errors: list[str] = []  # uncaught JavaScript errors
        self.console_errors: list[str] = []  # includes failed loads such as /favicon.ico

    def on_request(self, request):
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign_requests.append(request.url)

    def on_dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def on_page_error(self, error):
        self.errors.append(str(error))


@contextlib.contextmanager
def new_page(browser, base_url: str, *, viewport=None):
    """A fresh context and page on ``base_url``; ``page.guard`` records dialogs, foreign requests, errors."""
    context = browser.new_context(base_url=base_url, viewport=viewport or {"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(10_000)
    guard = PageGuard(base_url.rstrip("/"))
    page.on("request", guard.on_request)
    page.on("dialog", guard.on_dialog)
    page.on("console", guard.on_console)
    page.on("pageerror", guard.on_page_error)
    page.guard = guard
    try:
        yield page
    finally:
        context.close()


def log_in(page, username: str, password: str = PASSWORD, next_path: str = "/") -> None:
    """Log in through the login form, as a person would."""
    page.goto(f"/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if "/accounts/login/" in page.url:
        raise AssertionError(f"logging in as {username} failed")


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (git-ignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
