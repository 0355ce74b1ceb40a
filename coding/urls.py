"""Pages of the codebook, the coding view, retrieval and memos."""

from django.urls import path  # noqa: F401

from .views import analytics, audit, codebook, consensus, exchange, memos, retrieve
from .views import review as review_pages
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
    path("projects/<int:project_pk>/agreement/", consensus.agreement, name="agreement-page"),
    path(
        "projects/<int:project_pk>/interviews/<int:interview_pk>/disagreements/",
        consensus.disagreements,
        name="disagreements-page",
    ),
    path(
        "projects/<int:project_pk>/analytics/download/<str:table>.<str:fmt>",
        analytics.download,
        name="analytics-download",
    ),
    path("projects/<int:project_pk>/exchange/", exchange.exchange, name="exchange"),
    path("projects/<int:project_pk>/audit/", audit.audit_trail, name="audit-trail"),
    path("projects/import-qdpx/", exchange.import_project, name="project-import-qdpx-page"),
    path("projects/<int:project_pk>/assignments/", review_pages.assignments, name="assignments"),
    path(
        "projects/<int:project_pk>/assignments/<int:assignment_pk>/remove/",
        review_pages.assignment_remove,
        name="assignment-remove",
    ),
    path(
        "projects/<int:project_pk>/assignments/<int:assignment_pk>/status/",
        review_pages.assignment_status,
        name="assignment-status",
    ),
    path("projects/<int:project_pk>/my-assignments/", review_pages.my_assignments, name="my-assignments"),
    path("projects/<int:project_pk>/blind-coding/", review_pages.blind_coding, name="project-blind-coding"),
    path(
        "projects/<int:project_pk>/interviews/<int:interview_pk>/reveal/",
        review_pages.interview_reveal,
        name="interview-reveal",
    ),
    path(
        "projects/<int:project_pk>/interviews/<int:interview_pk>/unreveal/",
        review_pages.interview_unreveal,
        name="interview-unreveal",
    ),
    path(
        "projects/<int:project_pk>/interviews/<int:interview_pk>/sign-off/",
        review_pages.interview_sign_off,
        name="interview-sign-off",
    ),
]
