"""Who may see or change what: the one place that answers it.

Every page, API endpoint and task trigger resolves the project through
``get_membership``: a user who is not a member gets 404, as if the project did
not exist. A member of a project that requires two-factor authentication who has
not given a second factor (in this session, or when their API token was issued)
gets ``SecondFactorRequired`` (403; pages redirect to setting it up or verifying
it). Within a project, ``require_role`` answers 403 when the member's role is
too low.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Membership, Role


class SecondFactorRequired(PermissionDenied):
    """The project requires two-factor authentication and this request has no verified second factor."""

    def __init__(self, project):
        super().__init__(
            f"The project “{project.name}” requires two-factor authentication: set it up "
            "or enter a code from your authenticator app to continue. API tokens for it must be "
            "requested with an otp code."
        )


def second_factor_verified(user) -> bool:
    """Whether this request's user gave a second factor: ``is_verified()`` comes from
    django-otp's middleware for sessions and from accounts.authentication for API tokens;
    a user object without it (e.g. a test's forced authentication) counts as unverified."""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def get_membership(*, user, project_id) -> Membership:
    """The user's membership of the project, or 404 (also for anonymous and inactive users);
    SecondFactorRequired (403) when the project requires a second factor the request lacks."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404("No such project.")
    try:
        project_id = int(project_id)
    except (TypeError, ValueError):
        raise Http404("No such project.") from None
    membership = Membership.objects.select_related("project").filter(user=user, project_id=project_id).first()
    if membership is None:
        raise Http404("No such project.")
    membership.user = user
    if membership.project.require_two_factor and not second_factor_verified(user):
        raise SecondFactorRequired(membership.project)
    return membership


def require_role(membership: Membership, minimum: str) -> None:
    if not membership.has_role(minimum):
        raise PermissionDenied(
            f"Your role in this project ({membership.get_role_display().lower()}) "
            f"does not allow this; it needs {Role(minimum).label.lower()} or above."
        )


def can_change_own_or_supervise(membership: Membership, author_id: int) -> bool:
    """Coders change their own codings and memos; supervisors and owners change anyone's."""
    if membership.has_role(Role.SUPERVISOR):
        return True
    return membership.has_role(Role.CODER) and membership.user_id == author_id


def require_own_or_supervise(membership: Membership, author_id: int, what: str) -> None:
    if not can_change_own_or_supervise(membership, author_id):
        raise PermissionDenied(f"Only its author or a supervisor can change this {what}.")
