"""The second-factor gate for pages (the API answers 403 through DRF; see interviews.access)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from interviews.access import SecondFactorRequired

from . import services

# Reachable while the code after a password sign-in is still owed.
# (The token endpoint checks the password and the code itself.)
_OPEN_WHILE_PENDING = ("two-factor-verify", "logout", "login", "api-token")


def _to(name: str, request) -> str:
    return f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"


class SecondFactorMiddleware:
    """Two things, both before any project data is read:

    - someone who signed in with a password and has an authenticator app must give a code
      before anything else (pages redirect to the verification step, API calls get 403);
    - a page of a project that requires two-factor authentication, opened without a
      verified second factor (``SecondFactorRequired`` from ``access.get_membership``),
      redirects to setting up or verifying it, with a message saying why.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        blocked = self._gate(request)
        return blocked or self.get_response(request)

    def _gate(self, request):
        path = request.path_info
        if path.startswith(f"/{settings.STATIC_URL.strip('/')}/"):
            return None
        session = getattr(request, "session", None)
        user = request.user
        pending = session is not None and session.get(services.PENDING_SESSION_KEY)
        if pending and user.is_authenticated and not services.is_verified(user):
            try:
                name = resolve(path).url_name
            except Resolver404:
                name = None
            if name in _OPEN_WHILE_PENDING:
                return None
            if path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Enter the code from your authenticator app first (two-factor sign-in)."},
                    status=403,
                )
            return redirect(_to("two-factor-verify", request))
        if (
            path.startswith("/admin/")
            and settings.ADMIN_REQUIRES_TWO_FACTOR
            and user.is_authenticated
            and user.is_staff
            and not services.is_verified(user)
        ):
            messages.warning(request, "The admin needs two-factor authentication.")
            name = "two-factor-verify" if services.has_two_factor(user) else "two-factor-setup"
            return redirect(_to(name, request))
        return None

    def process_exception(self, request, exception):
        if not isinstance(exception, SecondFactorRequired):
            return None
        messages.warning(request, str(exception))
        name = "two-factor-verify" if services.has_two_factor(request.user) else "two-factor-setup"
        return redirect(_to(name, request))
