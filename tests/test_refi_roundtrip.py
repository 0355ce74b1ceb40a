"""Export -> import -> export keeps the codebook, texts, codings, cases, variables and memos."""

import datetime as dt
import io
import itertools
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from coding import services as coding_services
from coding.models import Coding
from coding.refi import export, import_
from coding.refi.schema import PROJECT_NS, schema_errors
from interviews import services
from interviews.models import Project

from .test_refi_import import RAW, SRC, build_qdpx, nvivo_positions, project_xml, selection

NS = {"q": PROJECT_NS}


def summary(data: bytes) -> dict:
    """Everything a REFI-QDA reader sees, without GUIDs (a re-import makes new ones)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    root = etree.fromstring(archive.read("project.qde"))
    users = {u.get("guid"): u.get("name") for u in root.iterfind(".//q:User", NS)}
    variables = {v.get("guid"): v for v in root.iterfind(".//q:Variable", NS)}
    codes = {}

    def tree(parent, path):
        out = []
        for code in parent.findall("q:Code", NS):
            here = f"{path}/{code.get('name')}"
            codes[code.get("guid")] = here
            description = code.find("q:Description", NS)
            out.append(
                (
                    code.get("name"),
                    code.get("isCodable"),
                    code.get("color"),
                    "" if description is None else description.text,
                    tree(code, here),
                )
            )
        return out

    codes_el = root.find("q:CodeBook/q:Codes", NS)
    codebook = tree(codes_el, "") if codes_el is not None else []
    notes = {n.get("guid"): n for n in root.iterfind("q:Notes/q:Note", NS)}
    attached = {}

    def attach(element, where):
        for ref in element.findall("q:NoteRef", NS):
            attached[ref.get("targetGUID")] = where

    attach(root, "project")
    for code in root.iterfind(".//q:Code", NS):
        attach(code, f"code {codes[code.get('guid')]}")
    sources, codings, names = {}, [], {}
    for source in root.iterfind("q:Sources/q:TextSource", NS):
        path = source.get("plainTextPath").removeprefix("internal://")
        text = archive.read(f"sources/{path}").decode("utf-8")
        names[source.get("guid")] = source.get("name")
        sources[source.get("name")] = text
        attach(source, f"interview {source.get('name')}")
        for sel in source.findall("q:PlainTextSelection", NS):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            description = sel.find("q:Description", NS)
            for coding in sel.findall("q:Coding", NS):
                key = (
                    source.get("name"),
                    start,
                    end,
                    text[start:end],
                    codes[coding.find("q:CodeRef", NS).get("targetGUID")],
                    users[coding.get("creatingUser")],
                    "" if description is None else description.text,
                )
                codings.append(key)
                attach(coding, f"coding {key}")

    def values(element):
        return sorted(
            (
                variables[v.find("q:VariableRef", NS).get("targetGUID")].get("name"),
                etree.QName(v[1]).localname,
                v[1].text,
            )
            for v in element.findall("q:VariableValue", NS)
        )

    cases = sorted(
        (
            case.get("name"),
            values(case),
            sorted(names[r.get("targetGUID")] for r in case.findall("q:SourceRef", NS)),
        )
        for case in root.iterfind("q:Cases/q:Case", NS)
    )
    case_names = {c.get("guid"): c.get("name") for c in root.iterfind("q:Cases/q:Case", NS)}
    for link in root.iterfind("q:Links/q:Link", NS):
        attached[link.get("originGUID")] = f"participant {case_names[link.get('targetGUID')]}"
    source_values = sorted((s.get("name"), values(s)) for s in root.iterfind("q:Sources/q:TextSource", NS))
    memos = sorted(
        (
            n.get("name") or "",
            n.find("q:PlainTextContent", NS).text,
            users[n.get("creatingUser")],
            attached.get(guid, "unattached"),
        )
        for guid, n in notes.items()
    )
    return {
        "name": root.get("name"),
        "codebook": codebook,
        "variables": sorted(
            (v.get("name"), v.get("typeOfVariable"), getattr(v.find("q:Description", NS), "text", ""))
            for v in variables.values()
        ),
        "texts": sources,
        "codings": sorted(codings),
        "cases": cases,
        "source_values": source_values,
        "memos": memos,
    }


@pytest.fixture
def full(team):
    project = team.project
    services.update_project(project=project, description="Crossings 2021–22")
    services.create_attribute_definition(
        project=project,
        key="nationality",
        label="Nationality",
        kind="categorical",
        choices=["Iraqi", "Syrian"],
    )
    services.create_attribute_definition(
        project=project,
        key="languages",
        label="Languages",
        kind="categorical",
        choices=["Arabic", "Kurmanji", "Sorani"],
        multiple=True,
        description="Spoken at the interview",
    )
    services.create_attribute_definition(
        project=project, key="attempts", label="Crossing attempts", kind="integer"
    )
    services.create_attribute_definition(
        project=project, key="days", label="Days at the border", kind="decimal"
    )
    services.create_attribute_definition(project=project, key="first", label="First crossing", kind="date")
    services.create_attribute_definition(project=project, key="returned", label="Returned", kind="boolean")
    services.create_attribute_definition(project=project, key="note", label="Note", kind="text")
    services.set_participant_attributes(
        participant=team.participant,
        values={
            "nationality": "Iraqi",
            "languages": ["Arabic", "Sorani"],
            "attempts": 12,
            "days": "37.5",
            "first": "2021-11-02",
            "returned": True,
            "note": "=1+1 not a formula",
        },
    )
    services.update_interview(
        interview=team.interview, language="Arabic", mode="in_person", interview_date=dt.date(2022, 2, 1)
    )
    second = services.create_participant(project=project, pseudonym="LV-08", participant_type="ngo_staff")
    # Uploaded with Windows line endings; stored with \n.
    services.create_interview(
        participant=second,
        title="NGO interview",
        text="Interviewer: And you?\r\nParticipant: I help at the border. 😀\r\n",
        anonymised_by=team.owner,
    )
    text = team.interview.text
    spans = {
        "🌲": team.code,
        "قال لي: لا تخف.": team.code2,
        "café": team.code2,
        "👨‍👩‍👧": team.code,
        "Sorani: ئێمە لە شەنگالەوە هاتین.": team.code,
    }
    codings = []
    for quote, code in spans.items():
        start = text.index(quote)
        codings.append(
            coding_services.create_coding(
                interview=team.interview, code=code, coder=team.coder, start=start, end=start + len(quote)
            )
        )
    start = text.index("🌲")
    coding_services.create_coding(
        interview=team.interview,
        code=team.code,
        coder=team.coder2,
        start=start - 5,
        end=start + 1,
        comment="+ tree",
    )
    coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.owner, start=0, end=12, comment="line one"
    )
    coding_services.update_code(
        code=team.code, definition="On a tourist visa.", exclusion_criteria="Transit only.", colour="#aa3377"
    )
    coding_services.create_memo(project=project, author=team.owner, text="Project memo 🌲", title="Overview")
    coding_services.create_memo(project=project, author=team.coder, text="Code memo", target=team.code)
    coding_services.create_memo(project=project, author=team.coder, text="Coding memo", target=codings[1])
    coding_services.create_memo(
        project=project, author=team.coder2, text="Participant memo", target=team.participant
    )
    coding_services.create_memo(
        project=project, author=team.supervisor, text="Interview memo", target=team.interview
    )
    return team


def test_export_import_export_gives_the_same_project(full):
    first = export.export_qdpx(full.project)
    report = import_.import_qdpx(data=first.data, owner=full.owner, already_anonymised=True)
    copy = Project.objects.get(pk=report.project_id)
    second = export.export_qdpx(copy)
    assert schema_errors(export.project_qde(second.data)) == []
    a, b = summary(first.data), summary(second.data)
    for part in a:
        assert a[part] == b[part], part
    assert report.counts["codings"] == 7 and report.counts["notes"] == 5 and not report.skipped


def test_round_trip_keeps_quotes_in_the_database(full):
    before = sorted(
        (c.interview.text[c.start : c.end], c.code.name, c.coder.get_full_name() or c.coder.username)
        for c in Coding.objects.filter(project=full.project)
    )
    report = import_.import_qdpx(data=export.export_qdpx(full.project).data, owner=full.owner)
    after = sorted(
        (c.interview.text[c.start : c.end], c.code.name, c.coder.get_full_name() or c.coder.username)
        for c in Coding.objects.filter(project_id=report.project_id)
    )
    assert before == after
    assert any(q == "👨‍👩‍👧" for q, _, _ in after) and any(q == "café" for q, _, _ in after)


def test_round_trip_of_the_original_text_is_byte_identical(full):
    report = import_.import_qdpx(data=export.export_qdpx(full.project).data, owner=full.owner)
    ours = sorted(full.project.interviews.values_list("title", "text"))
    theirs = sorted(Project.objects.get(pk=report.project_id).interviews.values_list("title", "text"))
    assert ours == theirs


def test_nvivo_style_file_round_trips_through_our_export(db, django_user_model):
    user = django_user_model.objects.create_user(username="ilse_importer", password="x" * 20)
    words = ["Grodno", "لا تخف", "cafe\u0301 was", "waited 😀 days"]
    sels = "".join(selection(*nvivo_positions(RAW, w), guid_n=i) for i, w in enumerate(words))
    data = build_qdpx(project_xml("NVivo 12.6 Windows", sels), {f"Sources/{SRC}.txt": RAW.encode("utf-8")})
    report = import_.import_qdpx(data=data, owner=user, already_anonymised=True)
    ours = summary(export.export_qdpx(Project.objects.get(pk=report.project_id)).data)
    assert sorted(c[3] for c in ours["codings"]) == sorted(["Grodno", "لا تخف", "café was", "waited 😀 days"])
    again = import_.import_qdpx(
        data=export.export_qdpx(Project.objects.get(pk=report.project_id)).data,
        owner=user,
        already_anonymised=True,
    )
    assert (
        summary(export.export_qdpx(Project.objects.get(pk=again.project_id)).data)["codings"]
        == ours["codings"]
    )


TOKENS = [
    "word",
    " ",
    "🌲",
    "👨‍👩‍👧",
    "قال",
    "لا تخف",
    "café",
    "e\u0301",
    "\r\n",
    "\n",
    "Şengalê",
    "ئێمە",
    "=1+1",
]


_examples = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tokens=st.lists(st.sampled_from(TOKENS), min_size=3, max_size=60), data=st.data())
def test_random_unicode_texts_and_passages_survive_export_and_import(team, tokens, data):
    text = "x" + "".join(tokens)
    participant = services.create_participant(project=team.project, pseudonym=f"R-{next(_examples)}")
    interview = services.create_interview(
        participant=participant, title="Random", text=text, anonymised_by=team.owner
    )
    stored = interview.text
    spans = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(stored) - 1), st.integers(1, len(stored))).filter(
                lambda s: s[0] < s[1]
            ),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    for start, end in spans:
        coding_services.create_coding(
            interview=interview, code=team.code2, coder=team.coder, start=start, end=end
        )
    report = import_.import_qdpx(data=export.export_qdpx(team.project).data, owner=team.owner)
    copy = Project.objects.get(pk=report.project_id).interviews.get(
        title="Random", participant__pseudonym=participant.pseudonym
    )
    assert copy.text == stored
    assert sorted((c.start, c.end) for c in copy.codings.all()) == sorted(spans)
    interview.codings.all().delete()
    interview.delete()
