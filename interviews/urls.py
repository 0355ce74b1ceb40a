from django.urls import path

from . import views, views_import

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("projects/<int:project_pk>/", views.project_home, name="project-home"),
    path("projects/<int:project_pk>/members/add/", views.member_add, name="member-add"),
    path("projects/<int:project_pk>/members/<int:member_pk>/role/", views.member_role, name="member-role"),
    path(
        "projects/<int:project_pk>/members/<int:member_pk>/remove/", views.member_remove, name="member-remove"
    ),
    path("projects/<int:project_pk>/min-cell-size/", views.min_cell_size, name="project-min-cell-size"),
    path("projects/<int:project_pk>/participants/", views.participant_list, name="participant-list"),
    path("projects/<int:project_pk>/import/", views_import.import_upload, name="import-upload"),
    path(
        "projects/<int:project_pk>/import/<int:file_pk>/review/",
        views_import.import_review,
        name="import-review",
    ),
    path(
        "projects/<int:project_pk>/participants/<int:participant_pk>/",
        views.participant_detail,
        name="participant-detail",
    ),
]
