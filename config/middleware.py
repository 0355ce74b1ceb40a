"""Session lifetime and caching rules for signed-in users, and the answer while the database
is unreachable (no domain logic)."""

import json
import logging
import sys
import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control

logger = logging.getLogger(__name__)

# Refresh the idle clock at most this often, so a polling page does not write
# the session on every request.
_TOUCH_EVERY = 60


def _signed_in_by_session(request) -> bool:
    """A browser session sign-in (API tokens carry no session and never get one)."""
    session = getattr(request, "session", None)
    return session is not None and SESSION_KEY in session


class SessionTimeoutMiddleware:
    """Sign out after SESSION_IDLE_TIMEOUT seconds without a request, and in any case
    SESSION_ABSOLUTE_TIMEOUT seconds after signing in (the cookie itself lasts that long)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _signed_in_by_session(request):
            now = int(time.time())
            started = request.session.setdefault("_signed_in_at", now)
            last_seen = request.session.get("_last_seen", now)
            if (
                now - started > settings.SESSION_ABSOLUTE_TIMEOUT
                or now - last_seen > settings.SESSION_IDLE_TIMEOUT
            ):
                logout(request)
            elif not request.headers.get("X-Background-Poll") and (
                now - last_seen >= _TOUCH_EVERY or "_last_seen" not in request.session
            ):
                # A page polling for updates is not the researcher being active.
                request.session["_last_seen"] = now
        response = self.get_response(request)
        # Stamp a sign-in that happened during this request (the login view).
        if _signed_in_by_session(request) and "_signed_in_at" not in request.session:
            now = int(time.time())
            request.session["_signed_in_at"] = now
            request.session["_last_seen"] = now
        return response


class NoStoreForSignedInMiddleware:
    """Pages and API answers for signed-in users can hold transcript text: never cache them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(settings.STATIC_URL):
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response


# A lost or refused database connection (server restarting, crashed, failing over): the request
# wrote nothing (ATOMIC_REQUESTS rolls it back), so the honest answer is "try again", not a 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
DATABASE_UNAVAILABLE_MESSAGE = (
    "The database is unavailable for a moment, so nothing was saved. Please try again in a few seconds."
)
RETRY_AFTER_SECONDS = 5


def database_unavailable_response(request) -> HttpResponse:
    """503 with Retry-After: JSON under /api/, plain text for pages."""
    if request.path.startswith("/api/"):
        response = HttpResponse(
            json.dumps({"detail": DATABASE_UNAVAILABLE_MESSAGE}), content_type="application/json", status=503
        )
    else:
        response = HttpResponse(
            DATABASE_UNAVAILABLE_MESSAGE, content_type="text/plain; charset=utf-8", status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def _note_database_failure(sender, request=None, **kwargs):
    """Mark a request whose unhandled exception (in a view or any middleware) was the database."""
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        request._database_unavailable = True


got_request_exception.connect(_note_database_failure, dispatch_uid="config.middleware.database_unavailable")


class DatabaseUnavailableMiddleware:
    """Answer 503 (with Retry-After and a clear message) instead of 500 when the database cannot be
    reached. Views' errors are caught in process_exception; errors raised inside other middleware
    (session or user look-ups) become Django's 500 first, and are swapped here by the mark above.
    Connections recover by themselves: CONN_HEALTH_CHECKS drops a dead one before the next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, "_database_unavailable", False):
            logger.warning("database unavailable during %s %s", request.method, request.path)
            return database_unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_UNAVAILABLE):
            logger.warning("database unavailable during %s %s", request.method, request.path)
            return database_unavailable_response(request)
        return None


class JsonErrorsForApiMiddleware:
    """Under /api/ every answer is JSON: Django's own HTML 404 (a path that matches no route, e.g.
    a non-numeric id) and 500 pages become {"detail": ...} with the same status."""

    MESSAGES = {404: "Not found.", 405: "Method not allowed.", 500: "Server error."}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in self.MESSAGES
            and response.get("Content-Type", "").startswith("text/html")
        ):
            replaced = HttpResponse(
                json.dumps({"detail": self.MESSAGES[response.status_code]}),
                content_type="application/json",
                status=response.status_code,
            )
            for header in ("Allow", "Cache-Control"):
                if header in response:
                    replaced[header] = response[header]
            return replaced
        return response
