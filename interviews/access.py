"""Who may see or change what: the one place that answers it.

Every page, API endpoint and task trigger resolves the project through
``get_membership``: a user who is not a member gets 404, as if the project did
not exist. Within a project, ``require_role`` answers 403 when the member's role
is too low.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Membership, Role


def get_membership(*, user, project_id) -> Membership:
    """The user's membership of the project, or 404 (also for anonymous and inactive users)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404("No such project.")
    try:
        project_id = int(project_id)
    except (TypeError, ValueError):
        raise Http404("No such project.") from None
    membership = (
        Membership.objects.select_related("project", "user").filter(user=user, project_id=project_id).first()
    )
    if membership is None:
        raise Http404("No such project.")
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
