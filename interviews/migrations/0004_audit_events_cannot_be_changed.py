"""The database itself refuses to change audit events (DP3).

PostgreSQL: a trigger refuses every UPDATE except the one Django makes when a user is
deleted (actor set to NULL; ``actor_name`` keeps who it was), and every DELETE except
while ``interviews.services.delete_project`` deletes the event's own project (it sets
``app.deleting_project`` for its transaction). SQLite: a trigger refuses the same
UPDATEs; deletes are guarded by the model and services only.
"""

from django.db import migrations

COLUMNS = (
    "id, project_id, interview_id, actor_name, at, kind, action, target_type, target_id, source, "
    "before::text, after::text"
)
_NEW = ", ".join(f"NEW.{c}" for c in COLUMNS.split(", "))
_OLD = ", ".join(f"OLD.{c}" for c in COLUMNS.split(", "))

POSTGRESQL = f"""
CREATE FUNCTION interviews_auditevent_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.actor_id IS NULL AND ROW({_NEW}) IS NOT DISTINCT FROM ROW({_OLD}) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'Audit events are never changed.';
    END IF;
    IF current_setting('app.deleting_project', true) = OLD.project_id::text THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'Audit events are deleted only with their project.';
END
$$ LANGUAGE plpgsql;
---
CREATE TRIGGER interviews_auditevent_guard BEFORE UPDATE OR DELETE ON interviews_auditevent
FOR EACH ROW EXECUTE FUNCTION interviews_auditevent_guard();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER IF EXISTS interviews_auditevent_guard ON interviews_auditevent;
---
DROP FUNCTION IF EXISTS interviews_auditevent_guard();
"""

_SQLITE_SAME = " AND ".join(
    f"NEW.{c} IS OLD.{c}" for c in COLUMNS.replace("::text", "").split(", ")
)
SQLITE = f"""
CREATE TRIGGER interviews_auditevent_guard BEFORE UPDATE ON interviews_auditevent
WHEN NOT (NEW.actor_id IS NULL AND {_SQLITE_SAME})
BEGIN SELECT RAISE(ABORT, 'Audit events are never changed.'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS interviews_auditevent_guard;"


def _run(schema_editor, script: str) -> None:
    for statement in script.split("---"):
        schema_editor.execute(statement.strip(), params=None)


def guard(apps, schema_editor):
    _run(schema_editor, POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE)


def unguard(apps, schema_editor):
    _run(schema_editor, POSTGRESQL_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("interviews", "0003_review_audit_and_options")]

    operations = [migrations.RunPython(guard, unguard)]
