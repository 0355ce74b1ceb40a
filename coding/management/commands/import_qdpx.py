"""``manage.py import_qdpx <file> --owner <username> [--already-anonymised]``: a new project from QDPX."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from coding.refi import import_
from interviews.audit import acting_as


class Command(BaseCommand):
    help = (
        "Create a new project from a REFI-QDA project (QDPX). Transcripts arrive as drafts unless "
        "--already-anonymised is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--owner", required=True, help="Username of the new project's owner.")
        parser.add_argument("--already-anonymised", action="store_true", dest="already_anonymised")
        parser.add_argument("--name", help="Name of the new project (default: the name in the file).")

    def handle(self, *args, file, owner, already_anonymised, name=None, **options):
        user = get_user_model().objects.filter(username=owner, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user {owner!r}.")
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        try:
            with acting_as(user, "command"):
                report = import_.import_qdpx(
                    data=file.read_bytes(), owner=user, already_anonymised=already_anonymised, name=name
                )
        except ValidationError as exc:
            raise CommandError("Nothing was imported: " + "; ".join(exc.messages))
        self.stdout.write(self.style.SUCCESS(f"Created project {report.project_id}."))
        for line in report.lines():
            self.stdout.write(line)
