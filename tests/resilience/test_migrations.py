"""FT6: the newest migrations keep every row of a seeded database, forward and back.

The database is migrated back to the state before the newest migrations of our apps, seeded there
through the historical models (with canary text in every kind of row), migrated forward, compared
column by column with what was seeded, migrated back again (the newest migrations declare
themselves reversible) and compared again; at the end it is left fully migrated.
"""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_NEWEST = [("interviews", "0002_import_and_anonymisation"), ("coding", "0003_export_job")]
CANARY = "canary-ft6 Şengal 🌲 قال"
TABLES = [
    "auth_user",
    "interviews_project",
    "interviews_membership",
    "interviews_participant",
    "interviews_interview",
    "coding_code",
    "coding_coding",
    "coding_memo",
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def rows(table: str, columns: list[str] | None = None) -> list[dict]:
    with connection.cursor() as cursor:
        cols = ", ".join(connection.ops.quote_name(c) for c in columns) if columns else "*"
        cursor.execute(f"SELECT {cols} FROM {connection.ops.quote_name(table)} ORDER BY id")  # noqa: S608
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def seed_old_schema(apps) -> None:
    User = apps.get_model("auth", "User")
    Project = apps.get_model("interviews", "Project")
    Membership = apps.get_model("interviews", "Membership")
    Participant = apps.get_model("interviews", "Participant")
    Interview = apps.get_model("interviews", "Interview")
    Code = apps.get_model("coding", "Code")
    Coding = apps.get_model("coding", "Coding")
    Memo = apps.get_model("coding", "Memo")

    owner = User.objects.create(username="olga_owner", first_name=CANARY)
    coder = User.objects.create(username="cora_coder")
    text = f"Interviewer: Where?\nParticipant: {CANARY} near the river."
    for n in range(3):
        project = Project.objects.create(name=f"{CANARY} project {n}", description=CANARY)
        Membership.objects.create(project=project, user=owner, role="owner")
        Membership.objects.create(project=project, user=coder, role="coder")
        participant = Participant.objects.create(project=project, pseudonym=f"P{n:03d}")
        interview = Interview.objects.create(
            project=project,
            participant=participant,
            title=f"{CANARY} interview",
            text=text,
            text_sha256="0" * 64,
            text_length=len(text),
            status="anonymised",
        )
        code = Code.objects.create(project=project, name=f"{CANARY} code", definition=CANARY)
        for start in range(0, 30, 3):
            Coding.objects.create(
                project=project,
                interview=interview,
                code=code,
                coder=coder,
                start=start,
                end=start + 5,
                comment=CANARY,
            )
        Memo.objects.create(project=project, author=owner, kind="project", title=CANARY, text=CANARY)


@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
def test_seeded_rows_survive_the_newest_migrations_forward_and_back():
    newest = latest()
    try:
        old_apps = migrate(BEFORE_NEWEST)
        seed_old_schema(old_apps)
        seeded = {table: rows(table) for table in TABLES}
        assert all(seeded.values())

        new_apps = migrate(newest)
        for table, before in seeded.items():
            assert rows(table, list(before[0])) == before, table
        Project = new_apps.get_model("interviews", "Project")
        assert not Project.objects.filter(blind_coding=True).exists()
        Coding = new_apps.get_model("coding", "Coding")
        assert set(Coding.objects.values_list("request_key", flat=True)) == {""}

        migrate(BEFORE_NEWEST)
        for table, before in seeded.items():
            assert rows(table) == before, table
    finally:
        migrate(newest)
    assert rows("coding_coding")


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
