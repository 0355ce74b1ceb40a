"""Session lifetime and caching rules for signed-in users (no domain logic)."""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.utils.cache import add_never_cache_headers, patch_cache_control

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
