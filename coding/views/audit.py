"""The audit trail page: who changed and who read what, per project or per interview.

Supervisors and owners only. Filters by interview, person, change or read, action and
date; with an interview chosen it also lists who has read that transcript. A deleted
coding is restored from its event with a POST (``coding.services.restore_coding``).
Owners also see the latest refused requests for the project's data (one query).
"""

from datetime import datetime, time

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from interviews import audit
from interviews.access import get_membership, require_role
from interviews.models import AuditKind, Role

from .. import services

PAGE_SIZE = 50
# The latest refused attempts shown to owners; the API lists them all.
REFUSED_SHOWN = 20
# Long values (memo text, comments) are cut for the table; the API has them whole.
SHOWN_CHARS = 120


class AuditFilterForm(forms.Form):
    interview = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Interview")
    actor = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Person")
    kind = forms.ChoiceField(required=False, label="Changes or reads")
    action = forms.CharField(
        required=False, max_length=60, label="Action", help_text='e.g. "coding.deleted", or "coding" for all'
    )
    since = forms.DateField(required=False, label="Since", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, interviews, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interview"].choices = [("", "All interviews")] + [
            (pk, title) for pk, title in interviews
        ]
        self.fields["actor"].choices = [("", "Anyone")] + [(m.user_id, m.user.username) for m in members]
        self.fields["kind"].choices = [("", "Changes and reads"), *AuditKind.choices]


class RestoreForm(forms.Form):
    event = forms.IntegerField()


def _shown(value) -> str:
    text = "—" if value is None else str(value) or "(empty)"
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def changes_of(event) -> list[tuple[str, str, str]]:
    """(field, before, after) for the fields that differ, as short text (escaped by the template)."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    rows = []
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key), after.get(key)
        if before and after and old == new:
            continue
        rows.append((key, _shown(old) if before else None, _shown(new) if after else None))
    return rows


def _since(date):
    if date is None:
        return None
    return timezone.make_aware(datetime.combine(date, time.min))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def audit_trail(request, project_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    require_role(membership, Role.SUPERVISOR)
    project = membership.project
    status = 200
    restore_error = None
    if request.method == "POST":
        form = RestoreForm(request.POST)
        event = None
        if form.is_valid():
            event = audit.events(project=project).filter(pk=form.cleaned_data["event"]).first()
        if event is None:
            restore_error = "Choose a deleted coding of this project to restore."
        else:
            try:
                coding = services.restore_coding(event=event, by=request.user)
            except ValidationError as error:
                restore_error = " ".join(error.messages)
            else:
                messages.success(request, f"The coding {coding.code.name!r} is back (id {coding.pk}).")
                return redirect(request.get_full_path())
        status = 400
    members = list(project.memberships.select_related("user").order_by("user__username"))
    interviews = list(project.interviews.order_by("title", "id").values_list("pk", "title"))
    filter_form = AuditFilterForm(request.GET, interviews=interviews, members=members)
    readers = None
    if filter_form.is_valid():
        data = filter_form.cleaned_data
        events = audit.events(
            project=project,
            interview_id=data["interview"],
            actor_id=data["actor"],
            kind=data["kind"] or None,
            action=data["action"].strip() or None,
            since=_since(data["since"]),
        )
        if data["interview"] is not None:
            readers = list(
                audit.events(project=project, interview_id=data["interview"], kind=AuditKind.READ)
                .values("actor_name")
                .annotate(reads=Count("id"), last=Max("at"))
                .order_by("-last")
            )
    else:
        events = audit.events(project=project).none()
        status = 400
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    titles = dict(interviews)
    page.rows = [
        {"event": e, "changes": changes_of(e), "interview_title": titles.get(e.interview_id, "")}
        for e in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    refused = None
    if membership.role == Role.OWNER:
        refused = list(audit.refused_attempts(project=project)[: REFUSED_SHOWN + 1])
    context = {
        "project": project,
        "membership": membership,
        "filter_form": filter_form,
        "page": page,
        "query": query.urlencode(),
        "readers": readers,
        "restore_error": restore_error,
        "refused": refused[:REFUSED_SHOWN] if refused is not None else None,
        "more_refused": refused is not None and len(refused) > REFUSED_SHOWN,
    }
    return render(request, "coding/audit.html", context, status=status)
