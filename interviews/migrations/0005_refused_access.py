"""Refused requests for project data, recorded in the database (DP3), append-only.

PostgreSQL: a trigger refuses every UPDATE except the one Django makes when a user is
deleted (user set to NULL; ``username`` keeps who it was), and every DELETE except of
rows older than the cut-off ``manage.py purge_refused_access`` sets for its transaction
(``app.refused_access_purge_before``). SQLite: a trigger refuses the same UPDATEs;
deletes are guarded by the model and the admin only (as for audit events, 0004).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

COLUMNS = "id, at, username, project_id, method, path, status, ip, source"
_NEW = ", ".join(f"NEW.{c}" for c in COLUMNS.split(", "))
_OLD = ", ".join(f"OLD.{c}" for c in COLUMNS.split(", "))

POSTGRESQL = f"""
CREATE FUNCTION interviews_refusedaccess_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.user_id IS NULL AND ROW({_NEW}) IS NOT DISTINCT FROM ROW({_OLD}) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'Refused attempts are never changed.';
    END IF;
    IF OLD.at < NULLIF(current_setting('app.refused_access_purge_before', true), '')::timestamptz THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'Refused attempts are deleted only by the retention purge, once expired.';
END
$$ LANGUAGE plpgsql;
---
CREATE TRIGGER interviews_refusedaccess_guard BEFORE UPDATE OR DELETE ON interviews_refusedaccess
FOR EACH ROW EXECUTE FUNCTION interviews_refusedaccess_guard();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER IF EXISTS interviews_refusedaccess_guard ON interviews_refusedaccess;
---
DROP FUNCTION IF EXISTS interviews_refusedaccess_guard();
"""

_SQLITE_SAME = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in COLUMNS.split(", "))
SQLITE = f"""
CREATE TRIGGER interviews_refusedaccess_guard BEFORE UPDATE ON interviews_refusedaccess
WHEN NOT (NEW.user_id IS NULL AND {_SQLITE_SAME})
BEGIN SELECT RAISE(ABORT, 'Refused attempts are never changed.'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS interviews_refusedaccess_guard;"


def _run(schema_editor, script: str) -> None:
    for statement in script.split("---"):
        schema_editor.execute(statement.strip(), params=None)


def guard(apps, schema_editor):
    _run(schema_editor, POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE)


def unguard(apps, schema_editor):
    _run(schema_editor, POSTGRESQL_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE)


class Migration(migrations.Migration):

    dependencies = [
        ('interviews', '0004_audit_events_cannot_be_changed'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RefusedAccess',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(auto_now_add=True)),
                ('username', models.CharField(blank=True, max_length=150)),
                ('project_id', models.BigIntegerField(blank=True, null=True)),
                ('method', models.CharField(max_length=10)),
                ('path', models.CharField(max_length=500)),
                ('status', models.PositiveSmallIntegerField()),
                ('ip', models.GenericIPAddressField(blank=True, null=True)),
                ('source', models.CharField(help_text='page or api', max_length=10)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name_plural': 'refused accesses',
                'ordering': ['-at', '-id'],
                'indexes': [models.Index(fields=['project_id', 'at'], name='interviews__project_1c76f3_idx'), models.Index(fields=['user', 'at'], name='interviews__user_id_0f997b_idx'), models.Index(fields=['ip', 'at'], name='interviews__ip_e9c1e7_idx'), models.Index(fields=['at'], name='interviews__at_1f61f7_idx')],
            },
        ),
        migrations.RunPython(guard, unguard),
    ]
