"""Pages of the review workflow: the supervisors' assignments page and a coder's own list.

Thin: access through ``interviews.access``, writes through ``coding.review`` (whose
``ValidationError`` is shown on the page with a 400), reads in a fixed number of queries.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from interviews import services as interview_services
from interviews.access import get_membership, require_role
from interviews.forms import add_service_errors
from interviews.models import Interview, Role
from interviews.pages import project_action
from interviews.selectors import coding_progress

from .. import review, selectors
from ..models import Assignment, AssignmentStatus, Reveal


class AssignForm(forms.Form):
    interview = forms.TypedChoiceField(coerce=int, label="Interview")
    coders = forms.TypedMultipleChoiceField(
        coerce=int,
        label="Coders",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one coder."},
    )
    blind = forms.BooleanField(
        required=False,
        label="Blind",
        help_text="These coders see only their own codings on the interview until you reveal it.",
    )

    def __init__(self, *args, interviews, coders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interview"].choices = [("", "Choose an interview")] + [
            (i.pk, i.title) for i in interviews
        ]
        self.fields["coders"].choices = [(m.user_id, m.user.username) for m in coders]


class BlindCodingForm(forms.Form):
    blind_coding = forms.BooleanField(required=False, label="Code every interview of this project blind")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=AssignmentStatus.choices)
    next = forms.ChoiceField(choices=[("my-assignments", ""), ("assignments", "")], required=False)


def _render_assignments(request, membership, *, assign_form=None, errors=None, status=200):
    project = membership.project
    interviews = list(project.interviews.select_related("participant").defer("text").order_by("title", "id"))
    coders = list(selectors.coders_of(project))
    assignments = {
        (a.interview_id, a.coder_id): a for a in Assignment.objects.filter(project=project).order_by()
    }
    revealed = set(Reveal.objects.filter(interview__project=project).values_list("interview_id", flat=True))
    progress = coding_progress(project)
    changes = review.changes_for_interviews(
        project=project, reviewer=request.user, interview_ids=[i.pk for i in interviews]
    )
    for interview in interviews:
        counts = progress.get(interview.pk, {})
        interview.cells = [
            {
                "coder": m.user,
                "assignment": assignments.get((interview.pk, m.user_id)),
                "codings": counts.get(m.user_id, 0),
            }
            for m in coders
        ]
        assigned = [c["assignment"] for c in interview.cells if c["assignment"]]
        interview.assigned = bool(assigned)
        interview.blind = project.blind_coding or any(a.blind for a in assigned)
        interview.revealed = interview.pk in revealed
        interview.changes = changes[interview.pk]
    context = {
        "project": project,
        "membership": membership,
        "interviews": interviews,
        "coders": coders,
        "assign_form": assign_form
        or AssignForm(interviews=[i for i in interviews if i.is_codable], coders=coders),
        "blind_form": BlindCodingForm(initial={"blind_coding": project.blind_coding}),
        "errors": errors or [],
    }
    return render(request, "coding/assignments.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def assignments(request, project_pk):
    """Supervisors: who codes which interview, assign, reveal, sign off, see what changed."""
    membership = get_membership(user=request.user, project_id=project_pk)
    require_role(membership, Role.SUPERVISOR)
    if request.method != "POST":
        return _render_assignments(request, membership)
    project = membership.project
    codable = project.interviews.filter(anonymised_at__isnull=False).defer("text").order_by("title", "id")
    form = AssignForm(request.POST, interviews=codable, coders=list(selectors.coders_of(project)))
    if form.is_valid():
        interview = codable.get(pk=form.cleaned_data["interview"])
        users = list(project.members.filter(pk__in=form.cleaned_data["coders"]).order_by("username"))
        try:
            review.assign_interview(
                interview=interview, coders=users, blind=form.cleaned_data["blind"], by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"{interview.title} is assigned to {', '.join(u.username for u in users)}."
            )
            return redirect("assignments", project_pk=project.pk)
    return _render_assignments(request, membership, assign_form=form, status=400)


def _interview_of(membership, interview_pk) -> Interview:
    return get_object_or_404(
        Interview.objects.filter(project_id=membership.project_id).defer("text"), pk=interview_pk
    )


@project_action(Role.SUPERVISOR, "assignments")
def assignment_remove(request, membership, assignment_pk):
    assignment = get_object_or_404(
        Assignment.objects.select_related("coder", "interview").defer("interview__text"),
        pk=assignment_pk,
        project_id=membership.project_id,
    )
    review.unassign(assignment=assignment, by=request.user)
    messages.success(
        request, f"{assignment.coder.username} is no longer assigned {assignment.interview.title}."
    )
    return redirect("assignments", project_pk=membership.project_id)


@project_action(Role.SUPERVISOR, "assignments")
def interview_reveal(request, membership, interview_pk):
    interview = _interview_of(membership, interview_pk)
    review.reveal(interview=interview, by=request.user)
    messages.success(request, f"The coders of {interview.title} now see each other's codings.")
    return redirect("assignments", project_pk=membership.project_id)


@project_action(Role.SUPERVISOR, "assignments")
def interview_unreveal(request, membership, interview_pk):
    interview = _interview_of(membership, interview_pk)
    review.unreveal(interview=interview, by=request.user)
    messages.success(request, f"Blind coders of {interview.title} see only their own codings again.")
    return redirect("assignments", project_pk=membership.project_id)


@project_action(Role.SUPERVISOR, "assignments")
def interview_sign_off(request, membership, interview_pk):
    interview = _interview_of(membership, interview_pk)
    try:
        review.mark_reviewed(interview=interview, by=request.user)
    except ValidationError as error:
        return _render_assignments(request, membership, errors=error.messages, status=400)
    messages.success(request, f"{interview.title} is signed off as reviewed.")
    return redirect("assignments", project_pk=membership.project_id)


@project_action(Role.SUPERVISOR, "assignments")
def blind_coding(request, membership):
    form = BlindCodingForm(request.POST)
    form.is_valid()  # a missing checkbox is False: the form cannot be invalid
    on = form.cleaned_data.get("blind_coding", False)
    interview_services.set_blind_coding(project=membership.project, blind_coding=on)
    messages.success(request, "Blind coding is on for the whole project." if on else "Blind coding is off.")
    return redirect("assignments", project_pk=membership.project_id)


def _render_mine(request, membership, *, errors=None, status=200):
    project = membership.project
    mine = list(
        Assignment.objects.filter(project=project, coder_id=membership.user_id)
        .select_related("interview__participant")
        .defer("interview__text")
        .order_by("interview__title", "interview_id")
    )
    counts = dict(
        project.codings.filter(coder_id=membership.user_id)
        .order_by()
        .values("interview_id")
        .annotate(n=Count("id"))
        .values_list("interview_id", "n")
    )
    revealed = set(
        Reveal.objects.filter(interview_id__in=[a.interview_id for a in mine]).values_list(
            "interview_id", flat=True
        )
    )
    steps = list(AssignmentStatus)
    for assignment in mine:
        assignment.my_codings = counts.get(assignment.interview_id, 0)
        assignment.blind_now = (
            project.blind_coding or assignment.blind
        ) and assignment.interview_id not in revealed
        index = steps.index(AssignmentStatus(assignment.status))
        assignment.forward = steps[index + 1] if index + 1 < len(steps) else None
        assignment.back = steps[index - 1] if index > 0 else None
    context = {"project": project, "membership": membership, "assignments": mine, "errors": errors or []}
    return render(request, "coding/my_assignments.html", context, status=status)


@login_required
@require_safe
def my_assignments(request, project_pk):
    """A coder's interviews to code, with their status and how many codings they have made."""
    membership = get_membership(user=request.user, project_id=project_pk)
    require_role(membership, Role.CODER)
    return _render_mine(request, membership)


@project_action(Role.CODER, "my-assignments")
def assignment_status(request, membership, assignment_pk):
    """Move an assignment a step: a coder their own (others' are 404 to them), supervisors any."""
    assignments = Assignment.objects.filter(project_id=membership.project_id)
    if not membership.has_role(Role.SUPERVISOR):
        assignments = assignments.filter(coder_id=membership.user_id)
    assignment = get_object_or_404(assignments, pk=assignment_pk)
    form = StatusForm(request.POST)
    back = "my-assignments"
    if form.is_valid():
        back = form.cleaned_data["next"] or back
        try:
            review.set_assignment_status(
                assignment=assignment, status=form.cleaned_data["status"], by=request.user
            )
        except ValidationError as error:
            errors = error.messages
        else:
            return redirect(back, project_pk=membership.project_id)
    else:
        errors = [f"{name}: {message}" for name, msgs in form.errors.items() for message in msgs]
    if back == "assignments" and membership.has_role(Role.SUPERVISOR):
        return _render_assignments(request, membership, errors=errors, status=400)
    return _render_mine(request, membership, errors=errors, status=400)
