"""The memos page: every memo of the project, filtered by kind and author; new project memos."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from interviews.access import get_membership, require_role
from interviews.forms import add_service_errors
from interviews.models import Role

from .. import selectors, services
from ..models import MemoKind

PAGE_SIZE = 50


class MemoFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, label="Kind")
    author = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Author")

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "All kinds"), *MemoKind.choices]
        self.fields["author"].choices = [("", "Anyone")] + [(m.user_id, m.user.username) for m in members]


class ProjectMemoForm(forms.Form):
    title = forms.CharField(max_length=200, required=False, label="Title")
    text = forms.CharField(label="Memo", widget=forms.Textarea(attrs={"rows": 5}), strip=False)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def memo_list(request, project_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    project = membership.project
    can_write = membership.has_role(Role.CODER)
    status = 200
    memo_form = ProjectMemoForm() if can_write else None
    if request.method == "POST":
        require_role(membership, Role.CODER)
        memo_form = ProjectMemoForm(request.POST)
        if memo_form.is_valid():
            try:
                services.create_memo(project=project, author=request.user, **memo_form.cleaned_data)
            except ValidationError as error:
                add_service_errors(memo_form, error)
            else:
                messages.success(request, "Memo saved.")
                return redirect("memos-page", project_pk=project.pk)
        status = 400
    members = list(project.memberships.select_related("user").order_by("user__username"))
    filter_form = MemoFilterForm(request.GET, members=members)
    if filter_form.is_valid():
        memos = selectors.visible_memos(
            membership,
            selectors.memos_filtered(
                project, kind=filter_form.cleaned_data["kind"], author_id=filter_form.cleaned_data["author"]
            ),
        )
    else:
        memos = project.memos.none()
        status = 400
    page = Paginator(memos, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "project": project,
        "membership": membership,
        "filter_form": filter_form,
        "memo_form": memo_form,
        "page": page,
        "query": query.urlencode(),
    }
    return render(request, "coding/memos.html", context, status=status)
