"""The audit trail: one way to record a change or a read.

``record`` writes an ``AuditEvent`` inside the caller's transaction, so a change and
its record commit or roll back together. Who and through what (page, api, admin)
come from the request being served (``AuditContextMiddleware`` puts it in a context
variable; DRF token authentication sets ``request.user`` on the same Django request,
so token users are named too). Tasks and commands pass ``actor=`` and ``source=``.

Never pass transcript text or a quote in ``before``/``after``: offsets, ids, names,
memo text and statuses only.
"""

import contextvars
import ipaddress
import logging
import re
from contextlib import contextmanager
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.utils import timezone

from .models import AuditEvent, AuditKind, Membership, RefusedAccess

_request = contextvars.ContextVar("audit_request", default=None)
_override = contextvars.ContextVar("audit_override", default=None)
_summarising = contextvars.ContextVar("audit_summarising", default=False)


# Refused requests for project data go to this log and to ``RefusedAccess``, never to the
# project's trail: the request's own transaction is rolled back, and a probe for a project
# that does not exist has no project to attach to.
refusals = logging.getLogger("security.refused")
_PROJECT_PATHS = ("/projects/", "/api/projects/")
_PROJECT_ID = re.compile(r"^/(?:api/)?projects/(\d{1,18})/")
_REFUSED = {401, 403, 404}
# Flood control: a scanner hammering refused URLs adds at most one row per person (or, when
# signed out, per address) and method, path and status a minute, and at most
# REFUSALS_PER_WINDOW rows a minute in all; the log line is still written for every refusal.
REFUSAL_WINDOW = timedelta(minutes=1)
REFUSALS_PER_WINDOW = 20


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        if response.status_code in _REFUSED and request.path_info.startswith(_PROJECT_PATHS):
            user = getattr(request, "user", None)
            # The path holds ids only; the query string (typed filters) is left out.
            refusals.warning(
                "refused %s %s with %s for user %s from %s",
                request.method,
                request.path_info,
                response.status_code,
                user.pk if user is not None and user.is_authenticated else "anonymous",
                request.META.get("REMOTE_ADDR", ""),
            )
            try:
                # After the answer and outside the request's (rolled back) transaction.
                with transaction.atomic(using=DEFAULT_DB_ALIAS):
                    record_refusal(request, response.status_code)
            except Exception:
                # The answer stays what it was: a refusal that could not be stored is still logged.
                refusals.exception("could not store the refused %s %s", request.method, request.path_info)
        return response


def _client_ip(request) -> str | None:
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


def record_refusal(request, status: int) -> RefusedAccess | None:
    """Store one refused request (no query string), unless the flood control skips it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        user = None
    ip = _client_ip(request)
    # (PostgreSQL text holds no NUL; a probe may send one.)
    method, path = request.method[:10], request.path_info.replace("\x00", "")[:500]
    who = {"user": user} if user is not None else {"user__isnull": True, "ip": ip}
    recent = list(
        RefusedAccess.objects.filter(at__gte=timezone.now() - REFUSAL_WINDOW, **who)
        .order_by()
        .values_list("method", "path", "status")[:REFUSALS_PER_WINDOW]
    )
    if len(recent) >= REFUSALS_PER_WINDOW or (method, path, status) in recent:
        return None
    project = _PROJECT_ID.match(path)
    return RefusedAccess.objects.create(
        user=user,
        username=user.get_username() if user is not None else "",
        project_id=int(project.group(1)) if project else None,
        method=method,
        path=path,
        status=status,
        ip=ip,
        source=_source_of(request),
    )


@transaction.atomic
def purge_refused_attempts(*, older_than_days: int, now=None) -> int:
    """Delete refused attempts recorded before ``now - older_than_days`` (the retention purge);
    the number deleted. On PostgreSQL the table's trigger (migration 0005) lets a row go only
    when it is older than the cut-off this transaction announces."""
    if older_than_days < 1:
        raise ValueError("Keep refused attempts for at least one day.")
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('app.refused_access_purge_before', %s, true)", [cutoff.isoformat()]
            )
    deleted, _ = RefusedAccess.objects.filter(at__lt=cutoff).delete()
    return deleted


def refused_attempts(*, project):
    """Refused requests for this project's data, newest first (for its owners)."""
    return RefusedAccess.objects.filter(project_id=project.pk).order_by("-at", "-id")


@contextmanager
def acting_as(actor, source: str):
    """Name the actor and source for records made outside a request (tasks, commands)."""
    token = _override.set((actor, source))
    try:
        yield
    finally:
        _override.reset(token)


@contextmanager
def summarised():
    """Inside, changes record nothing: a bulk path (a QDPX import making a new project, the
    demo) records one summary event with counts itself. Reads are still recorded."""
    token = _summarising.set(True)
    try:
        yield
    finally:
        _summarising.reset(token)


def is_background_poll(request) -> bool:
    """A page refreshing itself (``X-Background-Poll``), not a person opening something."""
    return bool(request.headers.get("X-Background-Poll"))


def _source_of(request) -> str:
    path = request.path_info or ""
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "page"


def current_actor_and_source():
    override = _override.get()
    if override is not None:
        return override
    request = _request.get()
    if request is None:
        return None, "system"
    user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    return user, _source_of(request)


def record(
    *,
    project,
    action: str,
    target_type: str,
    target_id=None,
    interview_id=None,
    before=None,
    after=None,
    actor=None,
    source: str | None = None,
    kind: str = AuditKind.CHANGE,
) -> AuditEvent | None:
    if kind == AuditKind.CHANGE and _summarising.get():
        return None
    who, where = current_actor_and_source()
    actor = actor if actor is not None else who
    return AuditEvent.objects.create(
        # A project or its id: services that hold only ``project_id`` need no query.
        project_id=getattr(project, "pk", project),
        interview_id=interview_id,
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        kind=kind,
        action=action,
        target_type=target_type,
        target_id=target_id,
        source=source or where,
        before=before,
        after=after,
    )


def _role_of(user, project_id) -> str | None:
    """The reader's role in the project, for the few callers that do not hold the membership
    (the admin, the export service); ``staff`` for an admin reading a project they are not in."""
    if user is None or not user.is_authenticated:
        return None
    role = Membership.objects.filter(user=user, project_id=project_id).values_list("role", flat=True).first()
    return role or ("staff" if user.is_staff else None)


def record_read(*, project, action: str, target_type: str, target_id=None, interview_id=None, detail=None):
    """A read (transcript opened, export run, file downloaded): who, what, when, never the text.

    ``detail`` says what was read (a view name, filters, an export kind); the reader's
    role in the project and the client address are added when a request is being served.
    """
    detail = dict(detail or {})
    request = _request.get()
    if request is not None and _override.get() is None:
        detail.setdefault("ip", request.META.get("REMOTE_ADDR"))
        if "role" not in detail:
            detail["role"] = _role_of(getattr(request, "user", None), getattr(project, "pk", project))
    return record(
        project=project,
        action=action,
        target_type=target_type,
        target_id=target_id,
        interview_id=interview_id,
        after=detail,
        kind=AuditKind.READ,
    )


def events(*, project, interview_id=None, actor_id=None, kind=None, action=None, since=None):
    """The project's audit events, newest first, filtered (a selector for the audit page and API).

    ``action`` is an exact action ("coding.deleted") or a family without a dot ("coding").
    """
    queryset = AuditEvent.objects.filter(project=project)
    if interview_id is not None:
        queryset = queryset.filter(interview_id=interview_id)
    if actor_id is not None:
        queryset = queryset.filter(actor_id=actor_id)
    if kind:
        queryset = queryset.filter(kind=kind)
    if action:
        queryset = (
            queryset.filter(action=action)
            if "." in action
            else queryset.filter(action__startswith=f"{action}.")
        )
    if since is not None:
        queryset = queryset.filter(at__gte=since)
    return queryset.order_by("-at", "-id")
