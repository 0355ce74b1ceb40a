"""The exchange management commands: export and import from the command line."""

import pytest
from django.core.management import CommandError, call_command

from coding.models import Code
from coding.refi import export
from coding.refi.schema import schema_errors
from interviews.models import InterviewStatus, Project

from .test_refi_import import HOSTILE_XML, build_qdpx


def test_export_then_import_qdpx_from_the_command_line(team, tmp_path, capsys):
    target = tmp_path / "study.qdpx"
    call_command("export_qdpx", team.project.pk, str(target))
    assert schema_errors(export.project_qde(target.read_bytes())) == []
    assert "Not carried" in capsys.readouterr().out
    before = Project.objects.count()
    call_command("import_qdpx", str(target), "--owner", team.coder.username)
    out = capsys.readouterr().out
    assert "Imported:" in out and "Created project" in out
    copy = Project.objects.order_by("-pk").first()
    assert Project.objects.count() == before + 1
    assert copy.memberships.get(user=team.coder).role == "owner"
    assert copy.interviews.get().status == InterviewStatus.DRAFT


def test_import_qdpx_already_anonymised(team, tmp_path):
    target = tmp_path / "study.qdpx"
    target.write_bytes(export.export_qdpx(team.project).data)
    call_command("import_qdpx", str(target), "--owner", team.owner.username, "--already-anonymised")
    assert Project.objects.order_by("-pk").first().interviews.get().is_codable


def test_export_and_import_qdc(team, tmp_path):
    book = tmp_path / "book.qdc"
    call_command("export_qdc", team.project.pk, str(book))
    assert schema_errors(book.read_bytes(), codebook=True) == []
    call_command("import_qdc", team.other_project.pk, str(book))
    assert Code.objects.filter(project=team.other_project, name="Belarusian tourist visa").exists()


def test_hostile_file_fails_with_a_message_and_writes_nothing(team, tmp_path):
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(build_qdpx(HOSTILE_XML["xxe"]))
    before = Project.objects.count()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_qdpx", str(bad), "--owner", team.owner.username)
    assert Project.objects.count() == before


def test_unknown_project_or_owner_is_a_clear_error(team, tmp_path):
    with pytest.raises(CommandError, match="no project"):
        call_command("export_qdpx", 999999, str(tmp_path / "x.qdpx"))
    with pytest.raises(CommandError, match="no active user"):
        call_command("import_qdpx", str(tmp_path / "x.qdpx"), "--owner", "nobody")
