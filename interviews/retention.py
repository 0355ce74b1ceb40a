"""Deleting a project (or an import batch) deletes the staging files of its open imports (DP4).

A staged upload and its parsed text live in ``IMPORT_STAGING_DIR`` until the import is
confirmed or discarded; a project deleted in between would otherwise leave them for the
sweep. The files go when the deletion commits. ``InterviewsConfig.ready`` connects this.
"""

from django.db import transaction
from django.db.models.signals import post_delete

from . import import_services
from .models import ImportFile


def delete_staging_of_deleted_import(sender, instance: ImportFile, **kwargs) -> None:
    guid = instance.guid
    transaction.on_commit(lambda: import_services._delete_staging(guid))


def connect() -> None:
    post_delete.connect(
        delete_staging_of_deleted_import, sender=ImportFile, dispatch_uid="interviews.retention.import"
    )
