"""Server-rendered pages for projects, members and participants.

Thin: resolve the project through ``access`` (404 for non-members, 403 for a
role too low), read through ``selectors``, write through ``services`` and show
their ``ValidationError`` next to the field it names.
"""

from functools import partial

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from . import selectors, services
from .access import get_membership, require_role
from .forms import (
    MemberAddForm,
    MemberRoleForm,
    MinCellSizeForm,
    ParticipantForm,
    add_service_errors,
    participant_initial,
)
from .models import InterviewStatus, Membership, ParticipantType, Role
from .pages import project_action


@login_required
@require_safe
def project_list(request):
    projects = selectors.projects_for_user(request.user).order_by("name", "id")
    return render(request, "interviews/project_list.html", {"projects": projects})


# ---------------------------------------------------------------- project home


def _render_home(request, membership, *, add_form=None, role_errors=None, status=200):
    project = membership.project
    members = list(selectors.members_of(project))
    coders = [m.user for m in members if m.has_role(Role.CODER)]
    progress = selectors.coding_progress(project, membership)
    interviews = list(selectors.interviews_for_list(project, membership))
    for interview in interviews:
        counts = progress.get(interview.pk, {})
        interview.per_coder = [counts.get(coder.pk, 0) for coder in coders]
    is_owner = membership.has_role(Role.OWNER)
    if is_owner:
        for member in members:
            member.role_form = MemberRoleForm(initial={"role": member.role}, prefix=f"m{member.pk}")
            member.role_errors = (role_errors or {}).get(member.pk, [])
    context = {
        "project": project,
        "membership": membership,
        "interviews": interviews,
        "coders": coders,
        "members": members,
        "participant_count": project.participants.count(),
        "is_owner": is_owner,
        "add_form": add_form or (MemberAddForm() if is_owner else None),
        "statuses": InterviewStatus,
    }
    return render(request, "interviews/project_home.html", context, status=status)


@login_required
@require_safe
def project_home(request, project_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    return _render_home(request, membership)


@project_action(Role.OWNER, "project-home")
def member_add(request, membership):
    form = MemberAddForm(request.POST)
    if form.is_valid():
        user = get_user_model().objects.filter(username=form.cleaned_data["username"], is_active=True).first()
        if user is None:
            form.add_error("username", "Nobody with that username has an account here.")
        else:
            try:
                services.add_member(project=membership.project, user=user, role=form.cleaned_data["role"])
            except ValidationError as error:
                add_service_errors(form, error, {"user": "username"})
            else:
                messages.success(request, f"{user.username} is now a member.")
                return redirect("project-home", project_pk=membership.project_id)
    return _render_home(request, membership, add_form=form, status=400)


def _member_of(membership, member_pk) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"), pk=member_pk, project_id=membership.project_id
    )


@project_action(Role.OWNER, "project-home")
def member_role(request, membership, member_pk):
    member = _member_of(membership, member_pk)
    form = MemberRoleForm(request.POST, prefix=f"m{member.pk}")
    errors = []
    if form.is_valid():
        try:
            services.change_member_role(membership=member, role=form.cleaned_data["role"])
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, f"{member.user.username} is now {member.get_role_display().lower()}.")
            return redirect("project-home", project_pk=membership.project_id)
    else:
        errors = [m for msgs in form.errors.values() for m in msgs]
    return _render_home(request, membership, role_errors={member.pk: errors}, status=400)


@project_action(Role.OWNER, "project-home")
def member_remove(request, membership, member_pk):
    member = _member_of(membership, member_pk)
    try:
        services.remove_member(membership=member)
    except ValidationError as error:
        return _render_home(request, membership, role_errors={member.pk: error.messages}, status=400)
    messages.success(request, f"{member.user.username} was removed from the project.")
    if member.pk == membership.pk:
        return redirect("project-list")
    return redirect("project-home", project_pk=membership.project_id)


@project_action(Role.OWNER, "project-home")
def min_cell_size(request, membership):
    """The owner's setting: viewers see analytics counts below k as suppressed (DP6)."""
    form = MinCellSizeForm(request.POST)
    if form.is_valid():
        try:
            services.update_project(
                project=membership.project, min_cell_size=form.cleaned_data["min_cell_size"]
            )
        except ValidationError as error:
            form.add_error("min_cell_size", error.messages)
    if not form.is_valid():
        for message in form.errors.get("min_cell_size", []):
            messages.error(request, f"Smallest count viewers see: {message}")
        return _render_home(request, membership, status=400)
    k = membership.project.min_cell_size
    messages.success(
        request, f"Viewers now see counts below {k} as “<{k}”." if k > 1 else "Viewers now see every count."
    )
    return redirect("project-home", project_pk=membership.project_id)


# ---------------------------------------------------------------- participants

_BASE_SORTS = {"pseudonym": "pseudonym", "type": "participant_type"}


def _participant_rows(request, project, definitions):
    """The filtered, sorted participant list; query parameters are checked against the project."""
    participants = selectors.participants_with_attributes(project)
    keys = {d.key: d for d in definitions}
    type_filter = request.GET.get("type", "")
    if type_filter in ParticipantType.values:
        participants = participants.filter(participant_type=type_filter)
    else:
        type_filter = ""
    attr_filter = request.GET.get("attr", "")
    value_filter = request.GET.get("value", "")
    if attr_filter in keys and value_filter:
        participants = selectors.filter_participants_by_attribute(
            participants, project, attr_filter, value_filter
        )
    elif attr_filter not in keys:
        attr_filter = ""
    sort = request.GET.get("sort", "pseudonym")
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name in _BASE_SORTS:
        field = _BASE_SORTS[name]
        participants = participants.order_by(f"-{field}" if descending else field, "pseudonym")
    elif name.startswith("attr:") and name[5:] in keys:
        participants = selectors.sort_participants_by_attribute(participants, keys[name[5:]], descending)
    else:
        sort = "pseudonym"
        participants = participants.order_by("pseudonym")
    rows = []
    for participant in participants:
        attributes = selectors.attributes_of(participant)
        rows.append((participant, [_display(attributes.get(d.key)) for d in definitions]))
    filters = {"type": type_filter, "attr": attr_filter, "value": value_filter}
    return rows, sort, filters


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _sort_links(sort, definitions, filters):
    """(label, query value, current direction) for each sortable column header."""
    columns = [("Pseudonym", "pseudonym"), ("Type", "type")] + [
        (d.label, f"attr:{d.key}") for d in definitions
    ]
    links = []
    for label, key in columns:
        if sort == key:
            links.append({"label": label, "sort": f"-{key}", "aria": "ascending"})
        elif sort == f"-{key}":
            links.append({"label": label, "sort": key, "aria": "descending"})
        else:
            links.append({"label": label, "sort": key, "aria": "none"})
    return links


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def participant_list(request, project_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    project = membership.project
    definitions = list(project.attribute_definitions.all())
    can_edit = membership.has_role(Role.SUPERVISOR)
    status = 200
    form = None
    if request.method == "POST":
        require_role(membership, Role.SUPERVISOR)
        form = ParticipantForm(request.POST, definitions=definitions)
        if form.is_valid():
            try:
                participant = services.create_participant(
                    project=project,
                    pseudonym=form.cleaned_data["pseudonym"],
                    participant_type=form.cleaned_data["participant_type"],
                    attributes={k: v for k, v in form.attribute_values().items() if v is not None},
                )
            except ValidationError as error:
                add_service_errors(form, error, form.service_field_map())
            else:
                messages.success(request, f"Participant {participant.pseudonym} was added.")
                return redirect("participant-detail", project_pk=project.pk, participant_pk=participant.pk)
        status = 400
    elif can_edit:
        form = ParticipantForm(definitions=definitions)
    rows, sort, filters = _participant_rows(request, project, definitions)
    context = {
        "project": project,
        "membership": membership,
        "definitions": definitions,
        "rows": rows,
        "sort": sort,
        "sort_links": _sort_links(sort, definitions, filters),
        "filters": filters,
        "types": ParticipantType.choices,
        "form": form,
        "can_edit": can_edit,
    }
    return render(request, "interviews/participant_list.html", context, status=status)


def _stored_values(participant, *, definitions) -> dict:
    return participant_initial(participant, selectors.attributes_of(participant), definitions)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def participant_detail(request, project_pk, participant_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    project = membership.project
    participant = get_object_or_404(selectors.participants_with_attributes(project), pk=participant_pk)
    definitions = list(project.attribute_definitions.all())
    attributes = selectors.attributes_of(participant)
    can_edit = membership.has_role(Role.SUPERVISOR)
    status = 200
    form = None
    if request.method == "POST":
        require_role(membership, Role.SUPERVISOR)
        form = ParticipantForm(request.POST, definitions=definitions)
        stored = partial(_stored_values, definitions=definitions)
        if form.is_valid() and form.version_holds(participant, stored):
            try:
                services.update_participant(
                    participant=participant,
                    pseudonym=form.cleaned_data["pseudonym"],
                    participant_type=form.cleaned_data["participant_type"],
                    attributes=form.attribute_values(),
                )
            except ValidationError as error:
                add_service_errors(form, error, form.service_field_map())
            else:
                messages.success(request, "Participant saved.")
                return redirect("participant-detail", project_pk=project.pk, participant_pk=participant.pk)
        status = 400
        # Show what is stored, not the rejected input, in the read-only part.
        participant.refresh_from_db()
        attributes = selectors.attributes_of(participant)
    elif can_edit:
        form = ParticipantForm(
            initial=participant_initial(participant, attributes, definitions), definitions=definitions
        )
    context = {
        "project": project,
        "membership": membership,
        "participant": participant,
        "attributes": [(d, _display(attributes.get(d.key))) for d in definitions],
        "interviews": participant.interviews.defer("text").order_by("interview_date", "title", "id"),
        "profile": selectors.participant_code_profile(participant, membership),
        "form": form,
        "can_edit": can_edit,
    }
    return render(request, "interviews/participant_detail.html", context, status=status)
