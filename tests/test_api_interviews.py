"""Interviews through the API: the stored text form, turns inside the text, status rules, roles."""

import hashlib

import pytest

from interviews.models import Interview, InterviewStatus, SpeakerTurn

from .db_state import row_counts, row_values
from .factories import versioned


def url(project, pk=None, action=None):
    base = f"/api/projects/{project.pk}/interviews/"
    if pk is None:
        return base
    return f"{base}{pk}/{action}/" if action else f"{base}{pk}/"


def assert_refused(response, field, fragment=None):
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    message = " ".join(str(m) for m in body[field]) if isinstance(body[field], list) else str(body[field])
    if fragment:
        assert fragment in message, message
    return message


def create(api, team, user=None, **payload):
    payload.setdefault("participant", team.participant.pk)
    payload.setdefault("title", "Second interview")
    payload.setdefault("text", "Interviewer: Hello.\nParticipant: Hello.")
    return api.as_user(user or team.supervisor).post(url(team.project), payload)


def test_supervisor_uploads_an_interview_with_turns(team, api):
    text = "Interviewer: Where?\nParticipant: قال لي: لا تخف 🌲"
    turns = [
        {"start": 0, "end": 19, "speaker": "Interviewer", "role": "interviewer"},
        {"start": 20, "end": len(text), "speaker": "LV-07", "role": "participant", "time_start": "12.5"},
    ]
    response = create(api, team, text=text, turns=turns, language="ar", mode="in_person")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["text"] == text
    assert body["text_length"] == len(text)
    assert body["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert body["status"] == "draft" and body["anonymised_at"] is None
    assert [(t["start"], t["end"], t["role"]) for t in body["turns"]] == [
        (0, 19, "interviewer"),
        (20, len(text), "participant"),
    ]


def test_text_is_stored_nfc_with_newlines_and_without_bom(team, api):
    raw = "\ufeffInterviewer: Cafe\u0301?\r\nParticipant: Yes.\rEnd"
    response = create(api, team, text=raw)
    assert response.status_code == 201
    stored = Interview.objects.get(pk=response.json()["id"]).text
    assert stored == "Interviewer: Café?\nParticipant: Yes.\nEnd"
    assert "\r" not in stored and "\ufeff" not in stored and "\u0301" not in stored


def test_already_anonymised_upload_can_be_coded_at_once(team, api):
    response = create(api, team, already_anonymised=True)
    assert response.json()["status"] == "anonymised"
    interview = Interview.objects.get(pk=response.json()["id"])
    assert interview.is_codable and interview.anonymised_by == team.supervisor


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({"text": ""}, "text", None),
        ({"text": "   \n\r\n\t "}, "text", "empty"),
        ({"text": "\ufeff"}, "text", "empty"),
        ({"title": ""}, "title", None),
        ({"participant": None}, "participant", None),
        ({"participant": 987654}, "participant", "No such participant in this project"),
        ({"mode": "telepathy"}, "mode", None),
        ({"interview_date": "03/11/2021"}, "interview_date", None),
        ({"turns": [{"start": 0, "end": 500, "role": "participant"}]}, "turns", "outside the text"),
        ({"turns": [{"start": 5, "end": 5, "role": "participant"}]}, "turns", None),
        ({"turns": [{"start": -1, "end": 5, "role": "participant"}]}, "turns", None),
        (
            {
                "turns": [
                    {"start": 0, "end": 10, "role": "interviewer"},
                    {"start": 9, "end": 20, "role": "participant"},
                ]
            },
            "turns",
            "overlaps",
        ),
        ({"turns": [{"start": 0, "end": 5, "role": "judge"}]}, "turns", None),
        ({"turns": [{"start": 0, "end": 5, "role": "participant", "text": "x"}]}, "turns", "cannot be set"),
        ({"status": "coded"}, "status", "cannot be set"),
        ({"project": 2}, "project", "cannot be set"),
        ({"text_sha256": "0" * 64}, "text_sha256", "cannot be set"),
        ({"text_version": 7}, "text_version", "cannot be set"),
        ({"anonymised_by": 1}, "anonymised_by", "cannot be set"),
    ],
)
def test_bad_interview_upload_is_refused_and_nothing_is_written(team, api, payload, field, fragment):
    before = row_counts()
    assert_refused(create(api, team, **payload), field, fragment)
    assert row_counts() == before


def test_participant_of_another_project_is_not_found(team, api):
    before = row_counts()
    response = create(api, team, participant=team.other_interview.participant_id)
    assert_refused(response, "participant", "No such participant in this project")
    assert row_counts() == before


@pytest.mark.parametrize(
    "change",
    [
        {"text": "New words"},
        {"text_sha256": "0" * 64},
        {"text_length": 3},
        {"status": "reviewed"},
        {"project": 2},
        {"anonymised_at": "2021-01-01T00:00:00Z"},
    ],
)
def test_transcript_and_bookkeeping_fields_cannot_be_patched(team, api, change):
    before = row_values(Interview)
    (field,) = change
    assert_refused(
        versioned(api.as_user(team.supervisor), "patch", url(team.project, team.interview.pk), change),
        field,
    )
    assert row_values(Interview) == before


def test_metadata_can_be_patched(team, api):
    response = versioned(
        api.as_user(team.supervisor),
        "patch",
        url(team.project, team.interview.pk),
        {"title": "Renamed", "interview_date": "2022-01-15", "mode": "phone"},
    )
    assert response.status_code == 200, response.json()
    team.interview.refresh_from_db()
    assert (team.interview.title, str(team.interview.interview_date), team.interview.mode) == (
        "Renamed",
        "2022-01-15",
        "phone",
    )


def test_interview_cannot_move_to_a_participant_of_another_project(team, api):
    before = row_values(Interview)
    response = versioned(
        api.as_user(team.supervisor),
        "patch",
        url(team.project, team.interview.pk),
        {"participant": team.other_interview.participant_id},
    )
    assert_refused(response, "participant", "No such participant")
    assert row_values(Interview) == before


def test_status_follows_anonymisation(team, api):
    client = api.as_user(team.supervisor)
    draft = create(api, team).json()["id"]
    before = row_values(Interview)
    assert_refused(
        client.post(url(team.project, draft, "status"), {"status": "in_coding"}), "status", "anonymised"
    )
    assert_refused(client.post(url(team.project, draft, "status"), {"status": "done"}), "status")
    assert row_values(Interview) == before
    marked = client.post(url(team.project, draft, "mark-anonymised"))
    assert marked.status_code == 200 and marked.json()["status"] == "anonymised"
    assert (
        client.post(url(team.project, draft, "status"), {"status": "in_coding"}).json()["status"]
        == "in_coding"
    )
    assert_refused(
        client.post(url(team.project, draft, "status"), {"status": "draft"}), "status", "back to draft"
    )
    assert Interview.objects.get(pk=draft).status == InterviewStatus.IN_CODING


def test_turns_can_be_replaced_and_bad_turns_keep_the_old_ones(team, api):
    client = api.as_user(team.supervisor)
    path = url(team.project, team.interview.pk, "turns")
    before = row_values(SpeakerTurn)
    overlapping = [
        {"start": 0, "end": 10, "role": "interviewer"},
        {"start": 5, "end": 12, "role": "participant"},
    ]
    assert_refused(client.post(path, {"turns": overlapping}), "turns", "overlaps")
    outside = [{"start": 0, "end": team.interview.text_length + 1, "role": "participant"}]
    assert_refused(client.post(path, {"turns": outside}), "turns", "outside the text")
    assert row_values(SpeakerTurn) == before
    response = client.post(path, {"turns": [{"start": 0, "end": 12, "role": "other", "speaker": "?"}]})
    assert response.status_code == 200, response.json()
    assert list(team.interview.turns.values_list("start", "end")) == [(0, 12)]


def test_list_leaves_out_the_text_and_detail_has_text_and_turns(team, api):
    client = api.as_user(team.viewer)
    rows = client.get(url(team.project)).json()["results"]
    assert len(rows) == 1 and "text" not in rows[0] and "turns" not in rows[0]
    assert rows[0]["participant_pseudonym"] == "LV-07"
    detail = client.get(url(team.project, team.interview.pk)).json()
    assert detail["text"] == team.interview.text
    assert len(detail["turns"]) == 4


@pytest.mark.parametrize("role", ["coder", "viewer"])
def test_coder_and_viewer_cannot_change_interviews(team, api, role):
    client = api.as_user(team.member(role))
    iv = team.interview.pk
    read = client.get(url(team.project, iv))  # (a read: it adds an audit row)
    assert read.status_code == 200
    before = row_counts(), row_values(Interview)
    assert create(api, team, user=team.member(role)).status_code == 403
    version = {"HTTP_IF_MATCH": read["ETag"]}
    assert client.patch(url(team.project, iv), {"title": "x"}, **version).status_code == 403
    assert client.delete(url(team.project, iv), **version).status_code == 403
    assert client.post(url(team.project, iv, "status"), {"status": "coded"}).status_code == 403
    assert client.post(url(team.project, iv, "mark-anonymised")).status_code == 403
    assert client.post(url(team.project, iv, "turns"), {"turns": []}).status_code == 403
    edits = {"edits": [{"start": 0, "end": 1, "replacement": "X"}]}
    assert client.post(url(team.project, iv, "revise"), edits).status_code == 403
    assert (row_counts(), row_values(Interview)) == before


def test_outsider_gets_404_on_interviews(team, api):
    client = api.as_user(team.outsider)
    iv = team.interview.pk
    before = row_counts(), row_values(Interview)
    for method, path, data in [
        ("get", url(team.project), None),
        ("get", url(team.project, iv), None),
        ("post", url(team.project), {"participant": team.participant.pk, "title": "x", "text": "y"}),
        ("patch", url(team.project, iv), {"title": "x"}),
        ("delete", url(team.project, iv), None),
        ("post", url(team.project, iv, "status"), {"status": "coded"}),
        ("post", url(team.project, iv, "revise"), {"edits": [{"start": 0, "end": 1, "replacement": "X"}]}),
        ("post", url(team.project, iv, "turns"), {"turns": []}),
        ("get", url(team.other_project, iv), None),
        ("patch", url(team.other_project, iv), {"title": "x"}),
        ("delete", url(team.other_project, iv), None),
        (
            "post",
            url(team.other_project, iv, "revise"),
            {"edits": [{"start": 0, "end": 1, "replacement": "X"}]},
        ),
        ("post", url(team.other_project, iv, "mark-anonymised"), None),
    ]:
        response = getattr(client, method)(path, data)
        assert response.status_code == 404, (method, path, response.status_code)
        assert team.interview.text[:20] not in response.content.decode()
    response = client.post(
        url(team.other_project), {"participant": team.participant.pk, "title": "x", "text": "stolen"}
    )
    assert_refused(response, "participant", "No such participant")
    assert (row_counts(), row_values(Interview)) == before


def test_delete_interview_removes_codings_turns_and_memos(team, api):
    from coding import services as coding_services

    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder, start=0, end=4)
    coding_services.create_memo(project=team.project, author=team.coder, text="m", target=team.interview)
    assert (
        versioned(api.as_user(team.supervisor), "delete", url(team.project, team.interview.pk)).status_code
        == 204
    )
    from coding.models import Coding, Memo

    assert not Coding.objects.filter(interview_id=team.interview.pk).exists()
    assert not SpeakerTurn.objects.filter(interview_id=team.interview.pk).exists()
    assert not Memo.objects.filter(interview_id=team.interview.pk).exists()
    assert not Interview.objects.filter(pk=team.interview.pk).exists()
