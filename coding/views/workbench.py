"""The transcript coding view: a server-rendered shell whose data is passed to workbench.js."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from interviews import audit
from interviews.access import get_membership

from .. import workbench


@never_cache
@ensure_csrf_cookie
@login_required
@require_safe
def coding_view(request, project_pk: int, interview_pk: int):
    """Anonymous users go to log in; non-members get 404; viewers see the codings but no controls."""
    membership = get_membership(user=request.user, project_id=project_pk)
    interview = workbench.interview_with_version(
        project=membership.project, interview_id=interview_pk, membership=membership
    )
    data = workbench.page_data(membership=membership, interview=interview)
    audit.record_read(
        project=membership.project,
        action="transcript.read",
        target_type="interview",
        target_id=interview.pk,
        interview_id=interview.pk,
        detail={"view": "coding view", "role": membership.role},
    )
    data["etag"] = workbench.version_tag(interview, role=membership.role)
    api = f"/api/projects/{membership.project_id}"
    data["urls"] = {
        "data": reverse(
            "api:interview-coding-data", kwargs={"project_pk": membership.project_id, "pk": interview.pk}
        ),
        "codings": f"{api}/codings/",
        "codes": f"{api}/codes/",
        "memos": f"{api}/memos/",
    }
    return render(
        request,
        "coding/workbench.html",
        {
            "project": membership.project,
            "interview": interview,
            "membership": membership,
            "can_code": data["me"]["can_code"],
            "page_data": data,
        },
    )
