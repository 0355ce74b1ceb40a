"""QDPX and QDC export: schema-valid, stable GUIDs, everything the standard can carry."""

import io
import uuid
import zipfile

import pytest
from lxml import etree

from coding import services as coding_services
from coding.refi import export
from coding.refi.schema import CODEBOOK_NS, PROJECT_NS, schema_errors
from interviews import services

NS = {"q": PROJECT_NS}


@pytest.fixture
def rich(team):
    """The team project with attributes, codings by two coders, a comment and memos of every kind."""
    project = team.project
    services.create_attribute_definition(
        project=project,
        key="nationality",
        label="Nationality",
        kind="categorical",
        choices=["Iraqi", "Syrian"],
    )
    services.create_attribute_definition(
        project=project, key="attempts", label="Crossing attempts", kind="integer"
    )
    services.set_participant_attributes(
        participant=team.participant, values={"nationality": "Iraqi", "attempts": 7}
    )
    services.update_interview(interview=team.interview, language="Arabic", mode="video_call")
    text = team.interview.text
    start = text.index("🌲")
    c1 = coding_services.create_coding(
        interview=team.interview,
        code=team.code,
        coder=team.coder,
        start=start,
        end=start + 1,
        comment="=tree",
    )
    coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder2, start=start, end=start + 1
    )
    coding_services.create_memo(project=project, author=team.supervisor, text="Project memo")
    coding_services.create_memo(project=project, author=team.coder, text="On the code", target=team.code)
    coding_services.create_memo(project=project, author=team.coder, text="On the coding", target=c1)
    coding_services.create_memo(project=project, author=team.coder, text="On LV-07", target=team.participant)
    coding_services.create_memo(
        project=project, author=team.coder, text="On the interview", target=team.interview
    )
    return team


def _qde(result):
    return etree.fromstring(export.project_qde(result.data))


def test_qdpx_export_validates_against_project_schema(rich):
    result = export.export_qdpx(rich.project)
    assert schema_errors(export.project_qde(result.data)) == []


def test_qdpx_sources_are_utf8_without_bom_with_lf_and_code_point_offsets(rich):
    result = export.export_qdpx(rich.project)
    archive = zipfile.ZipFile(io.BytesIO(result.data))
    guid = str(rich.interview.guid)
    assert sorted(archive.namelist()) == ["project.qde", f"sources/{guid}.txt"]
    raw = archive.read(f"sources/{guid}.txt")
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    text = raw.decode("utf-8")
    root = _qde(result)
    source = root.find("q:Sources/q:TextSource", NS)
    assert source.get("plainTextPath") == f"internal://{guid}.txt"
    for selection in source.findall("q:PlainTextSelection", NS):
        start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
        assert text[start:end] == "🌲"


def test_qdpx_carries_codebook_hierarchy_folders_colours_and_descriptions(rich):
    coding_services.update_code(code=rich.code, definition="Came on a tourist visa.", example="I had a visa.")
    root = _qde(export.export_qdpx(rich.project))
    folder = root.find("q:CodeBook/q:Codes/q:Code[@name='Visa route']", NS)
    assert folder.get("isCodable") == "false"
    child = folder.find("q:Code", NS)
    assert child.get("name") == "Belarusian tourist visa" and child.get("isCodable") == "true"
    assert child.get("color") == rich.code.colour.upper()
    assert child.get("guid") == str(rich.code.guid)
    assert child.find("q:Description", NS).text == "Came on a tourist visa.\n\nExample:\nI had a visa."


def test_qdpx_codings_keep_their_coder_and_comment(rich):
    root = _qde(export.export_qdpx(rich.project))
    users = {u.get("guid"): u.get("name") for u in root.findall("q:Users/q:User", NS)}
    coders = sorted(users[s.get("creatingUser")] for s in root.iter(f"{{{PROJECT_NS}}}PlainTextSelection"))
    assert coders == ["cody_coder", "cora_coder"]
    described = [
        s for s in root.iter(f"{{{PROJECT_NS}}}PlainTextSelection") if s.find("q:Description", NS) is not None
    ]
    assert [s.find("q:Description", NS).text for s in described] == ["=tree"]


def test_qdpx_cases_carry_attributes_and_sources(rich):
    root = _qde(export.export_qdpx(rich.project))
    variables = {v.get("guid"): v for v in root.findall("q:Variables/q:Variable", NS)}
    case = root.find("q:Cases/q:Case", NS)
    assert case.get("name") == "LV-07"
    got = {}
    for value in case.findall("q:VariableValue", NS):
        variable = variables[value.find("q:VariableRef", NS).get("targetGUID")]
        got[variable.get("name")] = (variable.get("typeOfVariable"), value[1].text)
    assert got == {
        "Participant type": ("Text", "Border crosser"),
        "Nationality": ("Text", "Iraqi"),
        "Crossing attempts": ("Integer", "7"),
    }
    assert case.find("q:SourceRef", NS).get("targetGUID") == str(rich.interview.guid)


def test_qdpx_memos_are_notes_attached_where_they_belong(rich):
    root = _qde(export.export_qdpx(rich.project))
    notes = {n.get("guid"): n.find("q:PlainTextContent", NS).text for n in root.findall("q:Notes/q:Note", NS)}
    assert sorted(notes.values()) == sorted(
        ["Project memo", "On the code", "On the coding", "On LV-07", "On the interview"]
    )

    def refs(xpath):
        return [notes[r.get("targetGUID")] for r in root.findall(xpath, NS)]

    assert refs("q:NoteRef") == ["Project memo"]
    assert refs(".//q:Code/q:NoteRef") == ["On the code"]
    assert refs(".//q:Coding/q:NoteRef") == ["On the coding"]
    assert refs("q:Sources/q:TextSource/q:NoteRef") == ["On the interview"]
    link = root.find("q:Links/q:Link", NS)
    assert notes[link.get("originGUID")] == "On LV-07"
    assert link.get("targetGUID") == str(rich.participant.guid)


def test_qdpx_has_origin_and_no_empty_containers(team):
    empty = services.create_project(name="Empty study", owner=team.owner)
    root = _qde(export.export_qdpx(empty))
    assert root.get("origin")
    assert [etree.QName(child).localname for child in root] == ["Users"]
    assert schema_errors(export.project_qde(export.export_qdpx(empty).data)) == []


def test_qdpx_export_is_stable_between_exports(rich):
    first = export.export_qdpx(rich.project).data
    second = export.export_qdpx(rich.project).data
    assert first == second
    root = _qde(export.export_qdpx(rich.project))
    user_guids = {u.get("guid") for u in root.findall("q:Users/q:User", NS)}
    assert export.user_guid(rich.project, rich.coder.pk) in user_guids
    assert all(uuid.UUID(g) for g in user_guids)


def test_qdpx_report_lists_what_the_standard_cannot_carry(rich):
    report = " ".join(export.export_qdpx(rich.project).not_carried)
    for topic in ("Speaker turns", "redaction", "Agreement", "flagged for review"):
        assert topic in report


def test_qdc_export_validates_against_codebook_schema(rich):
    result = export.export_qdc(rich.project)
    assert schema_errors(result.data, codebook=True) == []
    root = etree.fromstring(result.data)
    assert root.tag == f"{{{CODEBOOK_NS}}}CodeBook" and root.get("origin")
    names = [c.get("name") for c in root.iter(f"{{{CODEBOOK_NS}}}Code")]
    assert names == ["Prior pushback", "Visa route", "Belarusian tourist visa"]


def test_qdc_export_of_an_empty_codebook_is_refused(team):
    from django.core.exceptions import ValidationError

    empty = services.create_project(name="Empty study", owner=team.owner)
    with pytest.raises(ValidationError):
        export.export_qdc(empty)


def test_shared_schema_copies_match_the_published_ones():
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "shared" / "refi-qda"
    if not shared.exists():
        pytest.skip("../shared/refi-qda is not mounted here")
    ours = Path(export.__file__).parent / "schemas"
    for name in ("Project.xsd", "Codebook.xsd"):
        assert (ours / name).read_bytes() == (shared / name).read_bytes()


def test_coder_who_left_the_project_is_still_named_on_their_codings(rich):
    from interviews.models import Membership

    Membership.objects.filter(project=rich.project, user=rich.coder2).delete()
    root = _qde(export.export_qdpx(rich.project))
    users = {u.get("guid"): u.get("name") for u in root.findall("q:Users/q:User", NS)}
    assert export.user_guid(rich.project, rich.coder2.pk) in users
    assert schema_errors(export.project_qde(export.export_qdpx(rich.project).data)) == []


def test_draft_transcripts_do_not_leave_the_app(rich):
    draft = services.create_interview(
        participant=rich.participant, title="Draft with a real name", text="Ahmed said"
    )
    from coding.models import Coding

    Coding.objects.create(
        project=rich.project, interview=draft, code=rich.code, coder=rich.coder, start=0, end=5
    )
    coding_services.create_memo(
        project=rich.project, author=rich.coder, text="Memo on the draft", target=draft
    )
    result = export.export_qdpx(rich.project)
    archive = zipfile.ZipFile(io.BytesIO(result.data))
    assert f"sources/{draft.guid}.txt" not in archive.namelist()
    qde = export.project_qde(result.data)
    assert b"Ahmed" not in qde and b"Memo on the draft" not in qde and str(draft.guid).encode() not in qde
    assert schema_errors(qde) == []
    assert any("Draft transcripts" in line and "(1)" in line for line in result.not_carried)

    from coding import tabular

    assert "Ahmed" not in tabular.csv_text(tabular.codings_table(rich.project))
