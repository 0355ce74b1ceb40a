"""``manage.py import_qdc <project_id> <file>``: merge a REFI-QDA codebook into a project's codebook."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from coding.refi import import_
from interviews.audit import acting_as
from interviews.models import Project


class Command(BaseCommand):
    help = "Merge a REFI-QDA codebook (QDC) into a project's codebook by name path; conflicts are reported."

    def add_arguments(self, parser):
        parser.add_argument("project_id", type=int)
        parser.add_argument("file", type=Path)

    def handle(self, *args, project_id, file, **options):
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise CommandError(f"There is no project {project_id}.")
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        try:
            with acting_as(None, "command"):
                report = import_.import_qdc(project=project, data=file.read_bytes())
        except ValidationError as exc:
            raise CommandError("Nothing was imported: " + "; ".join(exc.messages))
        for line in report.lines():
            self.stdout.write(line)
