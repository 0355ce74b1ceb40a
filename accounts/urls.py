from django.urls import path

from . import views

urlpatterns = [
    path("account/two-factor/", views.overview, name="two-factor"),
    path("account/two-factor/setup/", views.setup, name="two-factor-setup"),
    path("account/two-factor/verify/", views.verify, name="two-factor-verify"),
    path("account/two-factor/backup-codes/", views.backup_codes, name="two-factor-backup-codes"),
    path("account/two-factor/remove/", views.remove, name="two-factor-remove"),
    path("projects/<int:project_pk>/two-factor/", views.project_requirement, name="project-two-factor"),
]
