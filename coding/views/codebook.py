"""The codebook page: the tree with counts; supervisors and owners reorganise it.

Every change is a POST to its own URL that calls one service and redirects
back to the code; a rejected change re-renders the page (400) with the message
next to the field of that code's form.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from interviews import audit
from interviews.access import get_membership, require_role
from interviews.api_base import etag_of
from interviews.forms import VersionedForm, add_service_errors
from interviews.models import Role
from interviews.pages import project_action

from .. import selectors, services
from ..models import Code

_TEXT_FIELDS = ("definition", "inclusion_criteria", "exclusion_criteria", "example")


class CodeForm(VersionedForm):
    name = forms.CharField(max_length=120, label="Name")
    colour = forms.CharField(
        max_length=7, initial="#4e79a7", label="Colour", widget=forms.TextInput(attrs={"type": "color"})
    )
    definition = forms.CharField(required=False, label="Definition", widget=forms.Textarea(attrs={"rows": 2}))
    inclusion_criteria = forms.CharField(
        required=False, label="Inclusion criteria", widget=forms.Textarea(attrs={"rows": 2})
    )
    exclusion_criteria = forms.CharField(
        required=False, label="Exclusion criteria", widget=forms.Textarea(attrs={"rows": 2})
    )
    example = forms.CharField(required=False, label="Example", widget=forms.Textarea(attrs={"rows": 2}))
    shortcut = forms.CharField(
        max_length=1, required=False, label="Shortcut key", help_text="One key that applies this code."
    )
    is_folder = forms.BooleanField(
        required=False, label="Folder", help_text="Groups codes; is not applied to passages itself."
    )

    def service_fields(self) -> dict:
        data = self.cleaned_data
        fields = {name: data[name] for name in ("name", "colour", "shortcut", *_TEXT_FIELDS)}
        fields["is_codable"] = not data["is_folder"]
        return fields

    field_map = {"is_codable": "is_folder"}


class NewCodeForm(CodeForm):
    parent = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Inside")

    def __init__(self, *args, parent_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "Top level"), *parent_choices]


class MoveForm(forms.Form):
    parent = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Move to")

    def __init__(self, *args, parent_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "Top level"), *parent_choices]


class MergeForm(forms.Form):
    target = forms.TypedChoiceField(coerce=int, label="Merge into")

    def __init__(self, *args, target_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "Choose a code…"), *target_choices]


def _label(code) -> str:
    return "\u2003" * code.depth + code.name


def _code_initial(code) -> dict:
    initial = {name: getattr(code, name) for name in ("name", "colour", "shortcut", *_TEXT_FIELDS)}
    initial["is_folder"] = not code.is_codable
    initial["version"] = etag_of(code)
    return initial


def _render_codebook(request, membership, *, bound=None, status=200):
    """The page; ``bound`` = ``(code_pk or "new", form_name, form)`` re-shows a rejected form."""
    project = membership.project
    roots = selectors.code_tree(project, membership=membership)
    flat = selectors.flatten_tree(roots)
    can_edit = membership.has_role(Role.SUPERVISOR)
    bound_key, bound_name, bound_form = bound or (None, None, None)
    new_form = None
    if can_edit:
        all_choices = [(c.pk, _label(c)) for c in flat]
        for code in flat:
            excluded = {c.pk for c in selectors.flatten_tree([code])}
            prefix = f"c{code.pk}"
            code.edit_form = CodeForm(initial=_code_initial(code), prefix=f"{prefix}-edit")
            code.move_form = MoveForm(
                initial={"parent": code.parent_id},
                prefix=f"{prefix}-move",
                parent_choices=[choice for choice in all_choices if choice[0] not in excluded],
            )
            code.merge_form = MergeForm(
                prefix=f"{prefix}-merge",
                target_choices=[choice for choice in all_choices if choice[0] != code.pk],
            )
            code.open = code.pk == bound_key
            if code.open:
                setattr(code, f"{bound_name}_form", bound_form)
        new_form = bound_form if bound_key == "new" else NewCodeForm(prefix="new", parent_choices=all_choices)
    context = {
        "project": project,
        "membership": membership,
        "roots": roots,
        "code_count": len(flat),
        "can_edit": can_edit,
        "new_form": new_form,
        "new_open": bound_key == "new",
    }
    return render(request, "coding/codebook.html", context, status=status)


def _code_page(code) -> str:
    return reverse("codebook", args=[code.project_id]) + f"#code-{code.pk}"


@login_required
@require_safe
def codebook(request, project_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    return _render_codebook(request, membership)


def _code_of(membership, code_pk) -> Code:
    return get_object_or_404(Code, pk=code_pk, project_id=membership.project_id)


def _parent(membership, parent_pk):
    if parent_pk is None:
        return None
    return Code.objects.filter(pk=parent_pk, project_id=membership.project_id).first()


@project_action(Role.SUPERVISOR, "codebook")
def code_create(request, membership):
    choices = [(c.pk, c.name) for c in membership.project.codes.all()]
    form = NewCodeForm(request.POST, prefix="new", parent_choices=choices)
    if form.is_valid():
        try:
            code = services.create_code(
                project=membership.project,
                parent=_parent(membership, form.cleaned_data["parent"]),
                **form.service_fields(),
            )
        except ValidationError as error:
            add_service_errors(form, error, form.field_map)
        else:
            messages.success(request, f"Code {code.name!r} created.")
            return redirect(_code_page(code))
    return _render_codebook(request, membership, bound=("new", "new", form), status=400)


@project_action(Role.SUPERVISOR, "codebook")
def code_update(request, membership, code_pk):
    code = _code_of(membership, code_pk)
    form = CodeForm(request.POST, prefix=f"c{code.pk}-edit")
    # Two supervisors editing the same definition in two tabs: the second is refused (no lost update).
    if form.is_valid() and form.version_holds(code, _code_initial):
        try:
            services.update_code(code=code, **form.service_fields())
        except ValidationError as error:
            add_service_errors(form, error, form.field_map)
        else:
            messages.success(request, f"Code {code.name!r} saved.")
            return redirect(_code_page(code))
    return _render_codebook(request, membership, bound=(code.pk, "edit", form), status=400)


@project_action(Role.SUPERVISOR, "codebook")
def code_move(request, membership, code_pk):
    code = _code_of(membership, code_pk)
    choices = [(c.pk, c.name) for c in membership.project.codes.all()]
    form = MoveForm(request.POST, prefix=f"c{code.pk}-move", parent_choices=choices)
    if form.is_valid():
        try:
            services.move_code(code=code, parent=_parent(membership, form.cleaned_data["parent"]))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Code {code.name!r} moved.")
            return redirect(_code_page(code))
    return _render_codebook(request, membership, bound=(code.pk, "move", form), status=400)


@project_action(Role.SUPERVISOR, "codebook")
def code_merge(request, membership, code_pk):
    code = _code_of(membership, code_pk)
    choices = [(c.pk, c.name) for c in membership.project.codes.exclude(pk=code.pk)]
    form = MergeForm(request.POST, prefix=f"c{code.pk}-merge", target_choices=choices)
    if form.is_valid():
        target = get_object_or_404(Code, pk=form.cleaned_data["target"], project_id=membership.project_id)
        try:
            services.merge_codes(source=code, target=target)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"{code.name!r} was merged into {target.name!r}; its codings were kept."
            )
            return redirect(_code_page(target))
    return _render_codebook(request, membership, bound=(code.pk, "merge", form), status=400)


class SplitForm(forms.Form):
    target = forms.TypedChoiceField(coerce=int, label="Move the ticked passages to")
    codings = forms.TypedMultipleChoiceField(
        coerce=int, widget=forms.CheckboxSelectMultiple, label="Passages", required=True
    )

    def __init__(self, *args, target_choices, coding_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "Choose a code…"), *target_choices]
        self.fields["codings"].choices = coding_choices
        self.fields["codings"].error_messages["required"] = "Tick at least one passage to move."


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def code_split(request, project_pk, code_pk):
    """Split a code: tick some of its passages and move them to another code."""
    membership = get_membership(user=request.user, project_id=project_pk)
    require_role(membership, Role.SUPERVISOR)
    code = _code_of(membership, code_pk)
    codings = selectors.attach_quotes(
        code.codings.select_related("interview", "coder")
        .defer("interview__text")
        .order_by("interview__title", "interview_id", "start", "id")
    )
    flat = selectors.flatten_tree(selectors.code_tree(membership.project))
    target_choices = [(c.pk, _label(c)) for c in flat if c.pk != code.pk and c.is_codable]
    form = SplitForm(
        request.POST or None,
        target_choices=target_choices,
        coding_choices=[(c.pk, c.pk) for c in codings],
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            target = get_object_or_404(Code, pk=form.cleaned_data["target"], project_id=membership.project_id)
            chosen = set(form.cleaned_data["codings"])
            try:
                moved = services.split_code(
                    source=code, target=target, codings=[c for c in codings if c.pk in chosen]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{moved} passage(s) moved from {code.name!r} to {target.name!r}.")
                return redirect(_code_page(target))
        status = 400
    # The page shows every passage of the code: a read of transcript text.
    audit.record_read(
        project=membership.project,
        action="passages.retrieved",
        target_type="code",
        target_id=code.pk,
        detail={"view": "code split", "role": membership.role, "passages": len(codings)},
    )
    chosen = {str(v) for v in form["codings"].value() or []}
    context = {
        "project": membership.project,
        "membership": membership,
        "code": code,
        "codings": codings,
        "chosen": chosen,
        "form": form,
    }
    return render(request, "coding/code_split.html", context, status=status)
