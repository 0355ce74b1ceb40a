"""The "Export and import" page of a project, and the page that makes a project from a QDPX.

Thin: access through ``interviews.access`` (404 for non-members, 403 below
supervisor). Exports run as jobs through the export API (``static/js/
exchange.js`` starts one and polls its progress); codebook and QDPX imports
are plain form posts whose report is rendered on the page.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from interviews.access import get_membership, require_role
from interviews.models import Role

from .. import exports, tabular
from ..api_exchange import _max_upload
from ..models import ExportJob, ExportKind
from ..refi import export, import_

RECENT_JOBS = 10
EXPORT_GROUPS = [
    ("REFI-QDA, for NVivo, ATLAS.ti, MAXQDA, QualCoder", [ExportKind.QDPX, ExportKind.QDC]),
    ("Codings, one row per coded passage", [ExportKind.CODINGS_CSV, ExportKind.CODINGS_XLSX]),
    ("Participant × code profiles", [ExportKind.PROFILES_CSV, ExportKind.PROFILES_XLSX]),
    ("Codebook", [ExportKind.CODEBOOK_CSV, ExportKind.CODEBOOK_XLSX]),
]


def _checked_upload(upload):
    if upload is not None and upload.size > _max_upload():
        raise forms.ValidationError(f"The file is larger than {_max_upload() // (1024 * 1024)} MB.")
    return upload


class CodebookImportForm(forms.Form):
    file = forms.FileField(
        label="Codebook file",
        help_text="A REFI-QDA codebook (.qdc) or a codebook CSV as this app exports it. "
        "Codes are merged by their name path; conflicts are reported.",
        widget=forms.ClearableFileInput(attrs={"accept": ".qdc,.xml,.csv"}),
    )

    def clean_file(self):
        upload = _checked_upload(self.cleaned_data["file"])
        if not upload.name.lower().endswith((".qdc", ".xml", ".csv")):
            raise forms.ValidationError("Choose a .qdc or .csv file.")
        return upload


class ProjectImportForm(forms.Form):
    file = forms.FileField(
        label="REFI-QDA project (.qdpx)",
        widget=forms.ClearableFileInput(attrs={"accept": ".qdpx,.zip"}),
    )
    name = forms.CharField(
        label="Name of the new project",
        required=False,
        max_length=200,
        help_text="Leave empty to use the file's.",
    )
    already_anonymised = forms.TypedChoiceField(
        label="Are the transcripts in this file already anonymised?",
        choices=[
            ("no", "No: import them as drafts for anonymisation review before coding"),
            ("yes", "Yes, they are already anonymised: import them ready for coding"),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the transcripts are already anonymised."},
    )

    def clean_file(self):
        return _checked_upload(self.cleaned_data["file"])


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field_name, messages in error.message_dict.items():
            form.add_error(field_name if field_name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def exchange(request, project_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    require_role(membership, Role.SUPERVISOR)
    project = membership.project
    report = None
    form = CodebookImportForm()
    if request.method == "POST":
        form = CodebookImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            try:
                if upload.name.lower().endswith(".csv"):
                    report = tabular.import_codebook_csv(project=project, data=data).as_dict()
                else:
                    report = import_.import_qdc(project=project, data=data).as_dict()
                form = CodebookImportForm()
            except ValidationError as error:
                _add_errors(form, error)
    labels = dict(ExportKind.choices)
    jobs = list(ExportJob.objects.filter(project=project).select_related("requested_by")[:RECENT_JOBS])
    unfinished = [j.pk for j in jobs if j.status in exports.UNFINISHED]
    page_data = {
        "startUrl": reverse("api:export-list", args=[project.pk]),
        "jobUrl": reverse("api:export-detail", args=[project.pk, 0]),
        # An export still running when the page was (re)loaded: its progress is followed again.
        "resume": unfinished[0] if unfinished else None,
    }
    context = {
        "project": project,
        "membership": membership,
        "export_groups": [(title, [(k, labels[k]) for k in kinds]) for title, kinds in EXPORT_GROUPS],
        "not_carried": export.not_carried_report(project),
        "jobs": jobs,
        "form": form,
        "report": report,
        "page_data": page_data,
    }
    return render(request, "coding/exchange.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def import_project(request):
    """Any signed-in user may make a project from a QDPX, as anyone may start a project; they own it."""
    report = None
    form = ProjectImportForm()
    if request.method == "POST":
        form = ProjectImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = import_.import_qdpx(
                    data=data["file"].read(),
                    owner=request.user,
                    already_anonymised=data["already_anonymised"],
                    name=data["name"] or None,
                ).as_dict()
                form = ProjectImportForm()
            except ValidationError as error:
                _add_errors(form, error)
    return render(
        request,
        "coding/import_project.html",
        {"form": form, "report": report},
        status=400 if form.errors else 200,
    )
