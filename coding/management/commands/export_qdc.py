"""``manage.py export_qdc <project_id> <file>``: write a project's codebook as a REFI-QDA codebook."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from coding.refi import export
from interviews.models import Project


class Command(BaseCommand):
    help = "Export a project's codebook as REFI-QDA (QDC)."

    def add_arguments(self, parser):
        parser.add_argument("project_id", type=int)
        parser.add_argument("file", type=Path)

    def handle(self, *args, project_id, file, **options):
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise CommandError(f"There is no project {project_id}.")
        try:
            result = export.export_qdc(project)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages))
        file.write_bytes(result.data)
        self.stdout.write(self.style.SUCCESS(f"Wrote {file} ({result.counts['codes']} codes)."))
