"""Pages of the codebook, the coding view, retrieval and memos."""

from django.urls import path  # noqa: F401

from .views import analytics, codebook, exchange, memos, retrieve
from .views.workbench import coding_view

urlpatterns: list = [
    path("projects/<int:project_pk>/interviews/<int:interview_pk>/code/", coding_view, name="coding-view"),
    path("projects/<int:project_pk>/codebook/", codebook.codebook, name="codebook"),
    path("projects/<int:project_pk>/codebook/new/", codebook.code_create, name="code-create"),
    path("projects/<int:project_pk>/codebook/<int:code_pk>/edit/", codebook.code_update, name="code-update"),
    path("projects/<int:project_pk>/codebook/<int:code_pk>/move/", codebook.code_move, name="code-move"),
    path("projects/<int:project_pk>/codebook/<int:code_pk>/merge/", codebook.code_merge, name="code-merge"),
    path("projects/<int:project_pk>/codebook/<int:code_pk>/split/", codebook.code_split, name="code-split"),
    path("projects/<int:project_pk>/retrieve/", retrieve.retrieve, name="retrieve"),
    path("projects/<int:project_pk>/memos/", memos.memo_list, name="memos-page"),
    path("projects/<int:project_pk>/analytics/", analytics.dashboard, name="analytics-dashboard"),
    path(
        "projects/<int:project_pk>/analytics/download/<str:table>.<str:fmt>",
        analytics.download,
        name="analytics-download",
    ),
    path("projects/<int:project_pk>/exchange/", exchange.exchange, name="exchange"),
    path("projects/import-qdpx/", exchange.import_project, name="project-import-qdpx-page"),
]
