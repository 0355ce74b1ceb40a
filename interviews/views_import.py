"""Pages for importing transcripts and reviewing redactions.

Thin: access through ``access`` (404 non-members, 403 below supervisor); the
pages carry ids and URLs only, and ``static/js/import.js`` talks to the import
API (so the extracted text travels only in ``no-store`` API answers).
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .access import get_membership, require_role
from .models import ImportFile, ImportFileStatus, Role


@login_required
@require_safe
@never_cache
def import_upload(request, project_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    require_role(membership, Role.SUPERVISOR)
    project = membership.project
    waiting = ImportFile.objects.filter(project=project, status=ImportFileStatus.READY).order_by(
        "-created_at"
    )
    data = {
        "uploadUrl": f"/api/projects/{project.pk}/imports/",
        "reviewUrl": reverse("import-review", args=[project.pk, 0]),
        "pseudonyms": list(project.participants.values_list("pseudonym", flat=True)),
    }
    return render(
        request,
        "interviews/import_upload.html",
        {"project": project, "membership": membership, "waiting": waiting, "page_data": data},
    )


@login_required
@require_safe
@never_cache
def import_review(request, project_pk, file_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    require_role(membership, Role.SUPERVISOR)
    project = membership.project
    import_file = get_object_or_404(ImportFile, project=project, pk=file_pk)
    data = {
        "fileUrl": f"/api/projects/{project.pk}/import-files/{import_file.pk}/",
        "codingUrl": reverse("coding-view", args=[project.pk, 0]),
        "participants": list(project.participants.order_by("pseudonym").values("id", "pseudonym")),
        "hint": import_file.participant_hint,
        "roles": [
            ["interviewer", "Interviewer"],
            ["participant", "Participant"],
            ["interpreter", "Interpreter"],
            ["other", "Other"],
        ],
    }
    return render(
        request,
        "interviews/import_review.html",
        {"project": project, "membership": membership, "import_file": import_file, "page_data": data},
    )
