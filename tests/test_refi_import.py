"""QDPX/QDC import: other tools' conventions land on the right words; hostile files write nothing."""

import io
import struct
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from coding.models import Code, Coding, Memo
from coding.refi import export, import_
from coding.refi.offsets import utf16_offset
from interviews.models import Interview, InterviewStatus, Participant, Project

P = "urn:QDA-XML:project:1.0"
CODE_A = "8F2F6B3C-1111-4A5B-9C3D-000000000001"
CODE_B = "{8f2f6b3c-1111-4a5b-9c3d-000000000002}"
FOLDER = "8F2F6B3C-1111-4A5B-9C3D-000000000003"
USER = "AAAAAAAA-1111-4A5B-9C3D-000000000001"
SRC = "BBBBBBBB-1111-4A5B-9C3D-000000000001"
CASE = "CCCCCCCC-1111-4A5B-9C3D-000000000001"
VAR = "DDDDDDDD-1111-4A5B-9C3D-000000000001"

# A raw file as Windows tools write it: BOM, CRLF, an emoji, Arabic, a decomposed accent.
RAW = "\ufeffI crossed 🌲 near Grodno.\r\nقال لي: لا تخف.\r\nThe cafe\u0301 was closed.\r\nWe waited 😀 days."
WORDS = ["Grodno", "لا تخف", "cafe\u0301 was", "waited 😀 days"]
STORED = ["Grodno", "لا تخف", "café was", "waited 😀 days"]


def build_qdpx(qde: str, files: dict[str, bytes] | None = None, *, qde_name="project.qde") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(qde_name, qde.encode("utf-8"))
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def project_xml(origin: str, selections: str, *, ns=P, path=f"internal://{SRC}.txt", extra_sources="") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{ns}" name="Field study" origin="{origin}">
  <Users><User guid="{USER}" name="Ana"/></Users>
  <CodeBook><Codes>
    <Code guid="{FOLDER}" name="Route" isCodable="false" color="#123">
      <Code guid="{CODE_A}" name="Place" isCodable="true" color="#FF0000">
        <Description>A place.</Description></Code>
    </Code>
    <Code guid="{CODE_B}" name="Feeling" isCodable="true" color="rgb(1,2,3)"/>
  </Codes></CodeBook>
  <Variables><Variable guid="{VAR}" name="Age band" typeOfVariable="Text"/></Variables>
  <Cases><Case guid="{CASE}" name="LT-03">
    <VariableValue><VariableRef targetGUID="{VAR}"/><TextValue>30-39</TextValue></VariableValue>
    <SourceRef targetGUID="{SRC}"/></Case></Cases>
  <Sources>
    <TextSource guid="{SRC}" name="Interview LT-03" plainTextPath="{path}">{selections}</TextSource>
    {extra_sources}
  </Sources>
</Project>"""


def selection(start, end, code=CODE_A, guid_n=1, description=""):
    desc = f"<Description>{description}</Description>" if description else ""
    coding = (
        f'<Coding guid="EEEEEEEE-1111-4A5B-9C3D-{guid_n:012d}" creatingUser="{USER}">'
        f'<CodeRef targetGUID="{code}"/></Coding>'
        if code
        else ""
    )
    return (
        f'<PlainTextSelection guid="FFFFFFFF-1111-4A5B-9C3D-{guid_n:012d}" startPosition="{start}" '
        f'endPosition="{end}" creatingUser="{USER}">{desc}{coding}</PlainTextSelection>'
    )


def nvivo_positions(raw: str, word: str) -> tuple[int, int]:
    body = raw.lstrip("\ufeff")
    i = body.index(word)
    return utf16_offset(body, i), utf16_offset(body, i + len(word))


def atlas_positions(raw: str, word: str) -> tuple[int, int]:
    body = raw.lstrip("\ufeff").replace("\r\n", "\n")
    i = body.index(word.replace("\r\n", "\n"))
    return i, i + len(word)


def quotes(project):
    return sorted(
        (c.interview.text[c.start : c.end], c.code.name) for c in Coding.objects.filter(project=project)
    )


@pytest.fixture
def importer(db):
    return get_user_model().objects.create_user(username="ilse_importer", password="x" * 20)


def _import(data, user, **kw):
    report = import_.import_qdpx(data=data, owner=user, **kw)
    return Project.objects.get(pk=report.project_id), report


def test_nvivo_utf16_offsets_with_bom_and_crlf_land_on_the_right_words(importer):
    sels = "".join(
        selection(*nvivo_positions(RAW, w), code=CODE_A if i % 2 == 0 else CODE_B, guid_n=i)
        for i, w in enumerate(WORDS)
    )
    qde = project_xml("NVivo 12.6 (Windows)", sels, path=f"{SRC}.txt")
    data = build_qdpx(qde, {f"Sources/{SRC}.txt": RAW.encode("utf-8")}, qde_name="Field study.qde")
    project, report = _import(data, importer)
    assert sorted(q for q, _ in quotes(project)) == sorted(STORED)
    interview = project.interviews.get()
    assert "\r" not in interview.text and "\ufeff" not in interview.text
    assert report.counts["codings"] == 4


def test_nvivo_repeated_selection_per_code_gives_one_coding_per_code(importer):
    start, end = nvivo_positions(RAW, "Grodno")
    sels = selection(start, end, CODE_A, 1) + selection(start, end, CODE_B, 2)
    project, _ = _import(
        build_qdpx(project_xml("NVivo 12.7 Mac", sels), {f"sources/{SRC}.txt": RAW.encode()}), importer
    )
    assert quotes(project) == [("Grodno", "Feeling"), ("Grodno", "Place")]


def test_atlas_counts_crlf_once(importer):
    sels = "".join(selection(*atlas_positions(RAW, w), guid_n=i) for i, w in enumerate(WORDS))
    data = build_qdpx(project_xml("ATLAS.ti 23.2.3", sels), {f"sources/{SRC}.txt": RAW.encode()})
    project, _ = _import(data, importer)
    assert sorted(q for q, _ in quotes(project)) == sorted(STORED)


def test_code_point_files_with_crlf_count_every_character(importer):
    body = RAW.lstrip("\ufeff")
    sels = "".join(selection(body.index(w), body.index(w) + len(w), guid_n=i) for i, w in enumerate(WORDS))
    data = build_qdpx(project_xml("MAXQDA 2022", sels), {f"sources/{SRC}.txt": RAW.encode()})
    project, _ = _import(data, importer)
    assert sorted(q for q, _ in quotes(project)) == sorted(STORED)


def test_namespace_variants_braces_and_case_are_accepted(importer):
    body = RAW.lstrip("\ufeff")
    i = body.index("Grodno")
    for ns in ("urn:QDA-XML:project:1:0", "urn:QDA-XML:project:0:4"):
        qde = project_xml("QualCoder 3.5", selection(i, i + 6, code=CODE_B.upper().strip("{}")), ns=ns)
        project, report = _import(build_qdpx(qde, {f"SOURCES/{SRC.lower()}.TXT": RAW.encode()}), importer)
        assert quotes(project) == [("Grodno", "Feeling")]
        assert any("namespace" in w for w in report.warnings)


def test_codebook_hierarchy_colours_and_descriptions_are_imported(importer):
    project, report = _import(
        build_qdpx(project_xml("MAXQDA", ""), {f"sources/{SRC}.txt": RAW.encode()}), importer
    )
    folder = Code.objects.get(project=project, name="Route")
    place = Code.objects.get(project=project, name="Place")
    feeling = Code.objects.get(project=project, name="Feeling")
    assert not folder.is_codable and folder.colour == "#112233"
    assert place.parent == folder and place.colour == "#ff0000" and place.definition == "A place."
    assert feeling.colour == Code._meta.get_field("colour").default
    assert any("colour" in s for s in report.as_dict()["skipped"])


def test_case_becomes_participant_with_attributes_and_source(importer):
    project, _ = _import(
        build_qdpx(project_xml("MAXQDA", ""), {f"sources/{SRC}.txt": RAW.encode()}), importer
    )
    participant = Participant.objects.get(project=project)
    assert participant.pseudonym == "LT-03"
    assert project.interviews.get().participant == participant
    value = participant.attribute_values.get()
    assert (value.definition.label, value.value_text) == ("Age band", "30-39")


def test_import_is_draft_unless_declared_anonymised(importer):
    files = {f"sources/{SRC}.txt": RAW.encode()}
    project, report = _import(build_qdpx(project_xml("MAXQDA", ""), files), importer)
    interview = project.interviews.get()
    assert interview.status == InterviewStatus.DRAFT and not interview.is_codable
    assert any("drafts" in w for w in report.warnings)
    project2, _ = _import(build_qdpx(project_xml("MAXQDA", ""), files), importer, already_anonymised=True)
    interview2 = project2.interviews.get()
    assert interview2.status == InterviewStatus.ANONYMISED and interview2.anonymised_by == importer


def test_importer_owns_the_new_project_and_other_coders_are_inactive_placeholders(importer):
    body = RAW.lstrip("\ufeff")
    i = body.index("Grodno")
    project, report = _import(
        build_qdpx(project_xml("MAXQDA", selection(i, i + 6)), {f"sources/{SRC}.txt": RAW.encode()}), importer
    )
    assert project.memberships.get(user=importer).role == "owner"
    coding = Coding.objects.get(project=project)
    assert coding.coder != importer and not coding.coder.is_active
    assert not coding.coder.has_usable_password() and coding.coder.get_full_name() == "Ana"


def test_user_named_like_the_importer_is_the_importer(db):
    ana = get_user_model().objects.create_user(username="Ana", password="x" * 20)
    body = RAW.lstrip("\ufeff")
    i = body.index("Grodno")
    project, _ = _import(
        build_qdpx(project_xml("MAXQDA", selection(i, i + 6)), {f"sources/{SRC}.txt": RAW.encode()}), ana
    )
    assert Coding.objects.get(project=project).coder == ana


def test_selection_past_the_end_is_clamped_and_reported(importer):
    length = len(RAW.lstrip("\ufeff"))
    sel = selection(length - 5, length + 40)
    project, report = _import(
        build_qdpx(project_xml("MAXQDA", sel), {f"sources/{SRC}.txt": RAW.encode()}), importer
    )
    assert quotes(project) == [("days.", "Place")]
    assert any("clamped" in s for s in report.as_dict()["skipped"])


def test_selection_with_only_a_comment_becomes_an_interview_memo(importer):
    sel = selection(2, 9, code=None, description="Check this place")
    project, report = _import(
        build_qdpx(project_xml("MAXQDA", sel), {f"sources/{SRC}.txt": RAW.encode()}), importer
    )
    memo = Memo.objects.get(project=project)
    assert memo.kind == "interview" and memo.text.startswith("Check this place") and "crossed" in memo.text
    assert not Coding.objects.filter(project=project).exists()


def test_external_and_unsupported_sources_are_skipped_with_a_reason(importer):
    extra = (
        '<PDFSource guid="99999999-1111-4A5B-9C3D-000000000001" name="scan.pdf" path="relative:///scan.pdf"/>'
        '<TextSource guid="99999999-1111-4A5B-9C3D-000000000002" name="far" plainTextPath="absolute:///C:/x.txt"/>'
    )
    qde = project_xml("MAXQDA", "", extra_sources=extra)
    project, report = _import(build_qdpx(qde, {f"sources/{SRC}.txt": RAW.encode()}), importer)
    skipped = " ".join(report.as_dict()["skipped"])
    assert "PDFSource" in skipped and "outside the archive" in skipped
    assert project.interviews.count() == 1


def test_report_counts_everything_imported(importer):
    body = RAW.lstrip("\ufeff")
    i = body.index("Grodno")
    project, report = _import(
        build_qdpx(project_xml("MAXQDA", selection(i, i + 6)), {f"sources/{SRC}.txt": RAW.encode()}), importer
    )
    imported = report.as_dict()["imported"]
    assert {k: imported[k] for k in ("codes", "sources", "codings", "cases", "variables", "notes")} == {
        "codes": 3,
        "sources": 1,
        "codings": 1,
        "cases": 1,
        "variables": 1,
        "notes": 0,
    }


# ---------------------------------------------------------------- hostile files


def _nothing_written(before):
    assert Project.objects.count() == before["projects"]
    assert Interview.objects.count() == before["interviews"]
    assert get_user_model().objects.count() == before["users"]


def _counts():
    return {
        "projects": Project.objects.count(),
        "interviews": Interview.objects.count(),
        "users": get_user_model().objects.count(),
    }


HOSTILE_XML = {
    "xxe": '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    f'<Project xmlns="{P}" name="&x;"/>',
    "billion_laughs": '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">'
    f']><Project xmlns="{P}" name="&c;"/>',
    "external_dtd": '<?xml version="1.0"?><!DOCTYPE p SYSTEM "http://127.0.0.1:9/x.dtd">'
    f'<Project xmlns="{P}" name="x"/>',
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
def test_xml_with_dtd_or_entities_is_refused_and_nothing_written(importer, kind):
    before = _counts()
    with pytest.raises(ValidationError) as err:
        import_.import_qdpx(data=build_qdpx(HOSTILE_XML[kind]), owner=importer)
    assert "DTD or entities" in str(err.value)
    _nothing_written(before)


def test_zip_bomb_is_refused_before_extraction(importer):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", project_xml("x", ""))
        archive.writestr(f"sources/{SRC}.txt", b"0" * (20 * 1024 * 1024))
    before = _counts()
    with pytest.raises(ValidationError) as err:
        import_.import_qdpx(data=buffer.getvalue(), owner=importer)
    assert "zip bomb" in str(err.value)
    _nothing_written(before)


def test_member_lying_about_its_size_is_refused(importer):
    name = f"sources/{SRC}.txt".encode()
    data = bytearray(build_qdpx(project_xml("x", ""), {name.decode(): RAW.encode() * 10}))
    # Declare 10 bytes for the source in the central directory; it holds far more.
    entry = data.find(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.find(b"PK\x01\x02", entry + 1)
    data[entry + 24 : entry + 28] = struct.pack("<I", 10)
    assert zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(name.decode()).file_size == 10
    before = _counts()
    with pytest.raises(ValidationError) as err:
        import_.import_qdpx(data=bytes(data), owner=importer)
    assert "more than it declares" in str(err.value) or "damaged" in str(err.value)
    _nothing_written(before)


@pytest.mark.parametrize(
    "member",
    ["../../evil.txt", "/tmp/evil.txt", "sources/../../evil.txt", "C:\\evil.txt"],  # noqa: S108 - member names
)
def test_zip_slip_member_names_are_refused(importer, member):
    before = _counts()
    with pytest.raises(ValidationError) as err:
        import_.import_qdpx(data=build_qdpx(project_xml("x", ""), {member: b"x"}), owner=importer)
    assert "unsafe path" in str(err.value)
    _nothing_written(before)


def test_symlink_member_is_refused(importer):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", project_xml("x", ""))
        link = zipfile.ZipInfo(f"sources/{SRC}.txt")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    before = _counts()
    with pytest.raises(ValidationError) as err:
        import_.import_qdpx(data=buffer.getvalue(), owner=importer)
    assert "symbolic link" in str(err.value)
    _nothing_written(before)


@pytest.mark.parametrize("path", ["internal://../../settings.py", "internal://sub/../x.txt", "../x.txt"])
def test_source_path_outside_the_archive_is_refused(importer, path):
    before = _counts()
    with pytest.raises(ValidationError) as err:
        import_.import_qdpx(data=build_qdpx(project_xml("x", "", path=path)), owner=importer)
    assert "outside the archive" in str(err.value)
    _nothing_written(before)


def test_too_many_entries_are_refused(importer, settings):
    settings.REFI_ZIP_LIMITS = {"max_entries": 5}
    files = {f"sources/{n}.txt": b"x" for n in range(6)}
    with pytest.raises(ValidationError) as err:
        import_.import_qdpx(data=build_qdpx(project_xml("x", ""), files), owner=importer)
    assert "limit is 5" in str(err.value)


def test_not_a_zip_and_no_qde_are_refused_with_a_clear_message(importer):
    with pytest.raises(ValidationError) as err:
        import_.import_qdpx(data=b"hello", owner=importer)
    assert "not a valid zip" in str(err.value)
    with pytest.raises(ValidationError) as err:
        import_.import_qdpx(data=build_qdpx("<x/>", qde_name="readme.txt"), owner=importer)
    assert "no project file" in str(err.value)


def test_a_failure_midway_leaves_nothing_behind(importer, monkeypatch):
    body = RAW.lstrip("\ufeff")
    i = body.index("Grodno")
    data = build_qdpx(project_xml("MAXQDA", selection(i, i + 6)), {f"sources/{SRC}.txt": RAW.encode()})
    before = _counts()

    def broken(*args, **kwargs):
        raise ValidationError({"text": "simulated failure while writing memos"})

    monkeypatch.setattr(import_.Coding.objects, "bulk_create", broken)
    with pytest.raises(ValidationError):
        import_.import_qdpx(data=data, owner=importer)
    _nothing_written(before)
    assert not Code.objects.filter(name="Place").exists()


# ---------------------------------------------------------------- QDC


def test_qdc_merges_by_name_path_and_reports_conflicts(team):
    qdc = f"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1:0" origin="NVivo 12 For Mac"><Codes>
  <Code guid="{FOLDER}" name="visa route" isCodable="false">
    <Code guid="{CODE_A}" name="Belarusian tourist visa" isCodable="true" color="#000000"/>
    <Code guid="{CODE_B}" name="Russian visa" isCodable="true"/>
  </Code>
  <Code guid="99999999-1111-4A5B-9C3D-000000000009" name="Outcome" isCodable="false"/>
</Codes><Sets/></CodeBook>"""
    report = import_.import_qdc(project=team.project, data=qdc.encode())
    assert Code.objects.get(project=team.project, name="Russian visa").parent == team.code_group
    assert Code.objects.filter(project=team.project, name="Outcome", is_codable=False).exists()
    assert Code.objects.filter(project=team.project, name__iexact="visa route").count() == 1
    team.code.refresh_from_db()
    assert team.code.colour != "#000000"
    assert report.counts["codes"] == 2 and report.counts["matched"] == 2 and report.counts["conflicts"] == 1
    assert any("Belarusian tourist visa" in w and "colour" in w for w in report.warnings)


def test_qdc_with_entities_is_refused(team):
    before = Code.objects.count()
    with pytest.raises(ValidationError):
        import_.import_qdc(
            project=team.project, data=HOSTILE_XML["billion_laughs"].replace("Project", "CodeBook").encode()
        )
    assert Code.objects.count() == before


def test_our_qdc_imports_into_an_empty_project_unchanged(team):
    from coding import services as coding_services
    from interviews import services

    coding_services.update_code(
        code=team.code, definition="Tourist visa.", inclusion_criteria="Says so.", example="I had one."
    )
    target = services.create_project(name="Copy", owner=team.owner)
    import_.import_qdc(project=target, data=export.export_qdc(team.project).data)
    copy = Code.objects.get(project=target, name="Belarusian tourist visa")
    assert (copy.definition, copy.inclusion_criteria, copy.exclusion_criteria, copy.example) == (
        "Tourist visa.",
        "Says so.",
        "",
        "I had one.",
    )
    assert copy.parent.name == "Visa route" and not copy.parent.is_codable and copy.colour == team.code.colour


def test_unnamed_cases_carry_attributes_as_participants(importer):
    """MAXQDA/Quirkos style: one unnamed case per source holding the source's attributes."""
    v_int, v_bool, v_dt = (f"DDDDDDDD-1111-4A5B-9C3D-00000000000{n}" for n in (2, 3, 4))
    src2 = "BBBBBBBB-1111-4A5B-9C3D-000000000002"
    qde = f"""<Project xmlns="{P}" name="Survey" origin="MAXQDA 2022">
  <Variables>
    <Variable guid="{v_int}" name="Attempts" typeOfVariable="Integer"/>
    <Variable guid="{v_bool}" name="Returned" typeOfVariable="Boolean"/>
    <Variable guid="{v_dt}" name="Interviewed" typeOfVariable="DateTime"/>
  </Variables>
  <Cases>
    <Case guid="{CASE}">
      <VariableValue><VariableRef targetGUID="{v_int}"/><IntegerValue>4</IntegerValue></VariableValue>
      <VariableValue><VariableRef targetGUID="{v_bool}"/><BooleanValue>true</BooleanValue></VariableValue>
      <VariableValue><VariableRef targetGUID="{v_dt}"/>
        <DateTimeValue>2022-01-05T10:00:00Z</DateTimeValue></VariableValue>
      <SourceRef targetGUID="{src2}"/>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid="{src2}" name="Respondent 1">
      <PlainTextContent>Inline answer 🌲.</PlainTextContent></TextSource>
  </Sources>
</Project>"""
    project, report = _import(build_qdpx(qde), importer)
    participant = Participant.objects.get(project=project)
    assert participant.pseudonym == "P001"
    values = {v.definition.label: v for v in participant.attribute_values.select_related("definition")}
    assert int(values["Attempts"].value_number) == 4
    assert values["Returned"].value_bool is True
    assert values["Interviewed"].value_date.isoformat() == "2022-01-05"
    assert project.interviews.get().text == "Inline answer 🌲."
    assert any("time was dropped" in s for s in report.as_dict()["skipped"])


def test_nvivo_annotation_note_linked_to_a_selection_becomes_a_coding_memo(importer):
    start, end = nvivo_positions(RAW, "Grodno")
    note = "99999999-2222-4A5B-9C3D-000000000001"
    extra = f"""<Notes><Note guid="{note}" name="Annotation" creatingUser="{USER}">
      <PlainTextContent>Town near the border</PlainTextContent></Note></Notes>
    <Links><Link guid="99999999-3333-4A5B-9C3D-000000000001" direction="OneWay"
      originGUID="{note}" targetGUID="FFFFFFFF-1111-4A5B-9C3D-000000000001"/></Links>"""
    qde = project_xml("NVivo 12.6", selection(start, end, guid_n=1)).replace(
        "</Sources>", "</Sources>" + extra
    )
    project, report = _import(build_qdpx(qde, {f"Sources/{SRC}.txt": RAW.encode()}), importer)
    memo = Memo.objects.get(project=project)
    assert (
        memo.kind == "coding" and memo.coding.interview.text[memo.coding.start : memo.coding.end] == "Grodno"
    )
    assert memo.title == "Annotation" and report.counts["notes"] == 1
