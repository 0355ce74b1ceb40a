"""Server-rendered pages for projects, participants and interviews."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import selectors


@login_required
def project_list(request):
    projects = selectors.projects_for_user(request.user).order_by("name", "id")
    return render(request, "interviews/project_list.html", {"projects": projects})
