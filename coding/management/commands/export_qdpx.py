"""``manage.py export_qdpx <project_id> <file>``: write a project as a REFI-QDA project archive."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coding.refi import export
from interviews.models import Project


class Command(BaseCommand):
    help = "Export a project as a REFI-QDA project (QDPX) and list what the standard cannot carry."

    def add_arguments(self, parser):
        parser.add_argument("project_id", type=int)
        parser.add_argument("file", type=Path)

    def handle(self, *args, project_id, file, **options):
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise CommandError(f"There is no project {project_id}.")
        result = export.export_qdpx(project)
        file.write_bytes(result.data)
        counts = ", ".join(f"{n} {k}" for k, n in result.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Wrote {file} ({counts})."))
        self.stdout.write("Not carried by REFI-QDA:")
        for line in result.not_carried:
            self.stdout.write(f"  - {line}")
