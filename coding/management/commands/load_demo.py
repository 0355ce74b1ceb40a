"""``python manage.py load_demo``: the synthetic demo project and its logins."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coding.demo import DEMO_PROJECT_NAME, DEMO_URL, DEMO_USERS, load_demo
from interviews.audit import acting_as


class Command(BaseCommand):
    help = (
        "Create the demo project (synthetic, anonymised interviews coded by two coders) and its users. "
        "Idempotent: if the demo project exists, nothing changes; --reset deletes it and builds it again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo project (and every change made to it) and build it again.",
        )

    def handle(self, *args, reset: bool = False, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("The demo has public passwords; it cannot be loaded with APP_ENV=production.")
        with acting_as(None, "command"):
            result = load_demo(reset=reset)
        counts = result.counts
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"Created the demo project “{DEMO_PROJECT_NAME}”."))
        else:
            self.stdout.write(
                f"The demo project “{DEMO_PROJECT_NAME}” already exists; nothing changed "
                "(use --reset to rebuild it)."
            )
        per_coder = ", ".join(f"{name} {n}" for name, n in counts["codings"].items()) or "none"
        self.stdout.write(
            f"  {counts['participants']} participants, {counts['interviews']} interviews "
            f"({counts['words']} words), {counts['codes']} codes in {counts['folders']} groups, "
            f"codings: {per_coder}, {counts['memos']} memos."
        )
        self.stdout.write(f"\nOpen {DEMO_URL} and log in as:")
        width = max(len(username) for username, *_ in DEMO_USERS)
        for username, password, _role, label in DEMO_USERS:
            self.stdout.write(f"  {username.ljust(width)}  password: {password}   ({label})")
