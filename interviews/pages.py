"""Shared plumbing for server-rendered pages (no domain logic)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect

from .access import get_membership, require_role


def project_action(minimum: str, page: str):
    """A POST-only action URL of a project page, e.g. "merge this code".

    Access is checked before the method, so every request answers the same way
    as the pages do: anonymous → login, non-member → 404, role below
    ``minimum`` → 403. A GET (a bookmarked or reloaded action URL) then
    redirects to ``page``; other methods get 405. The view receives the
    membership: ``view(request, membership, **kwargs)``.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, project_pk, **kwargs):
            membership = get_membership(user=request.user, project_id=project_pk)
            require_role(membership, minimum)
            if request.method in ("GET", "HEAD"):
                return redirect(page, project_pk=membership.project_id)
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, membership, **kwargs)

        return wrapped

    return decorator
