"""The audit trail: every change (pages, API, admin) and every read of a transcript, export or
download is recorded in the same transaction, never with transcript text; supervisors read it,
nobody edits it, and a deleted coding comes back from it."""

import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from coding import services as coding_services
from coding.models import Coding, ExportJob
from interviews import audit, services
from interviews.api_base import etag_of
from interviews.models import AuditEvent, Membership, Role
from interviews.text import TextEdit

from .conftest import make_interview
from .factories import UserFactory, versioned

CANARY = "Zebrafinch-4417"
CANARY_TEXT = (
    "Interviewer: Where did you cross?\n"
    f"Participant: Near {CANARY} river with my brother, at night.\n"
    "Participant: We walked for two days.\n"
)


def api_url(team, rest=""):
    return f"/api/projects/{team.project.pk}/{rest}"


def events(project, **filters):
    return list(AuditEvent.objects.filter(project=project, **filters).order_by("id"))


def last(project, action):
    return AuditEvent.objects.filter(project=project, action=action).latest("id")


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def coding(team):
    return coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=0, end=11, comment="first"
    )


# ---------------------------------------------------------------- changes through the API


def test_coding_created_changed_and_deleted_through_the_api_are_recorded_with_actor_and_source(team, api):
    client = api.as_user(team.coder)
    response = client.post(
        api_url(team, "codings/"),
        {"interview": team.interview.pk, "code": team.code.pk, "start": 0, "end": 11},
    )
    assert response.status_code == 201
    coding_id = response.json()["id"]
    created = last(team.project, "coding.created")
    assert (created.actor, created.source, created.target_id) == (team.coder, "api", coding_id)
    assert created.interview_id == team.interview.pk and created.before is None
    assert created.after == {
        "guid": response.json()["guid"],
        "interview_id": team.interview.pk,
        "text_version": 1,
        "code_id": team.code.pk,
        "code": team.code.name,
        "coder_id": team.coder.pk,
        "coder": "cora_coder",
        "start": 0,
        "end": 11,
        "comment": "",
        "needs_review": False,
    }
    assert "quote" not in created.after

    versioned(client, "patch", api_url(team, f"codings/{coding_id}/"), {"end": 14, "comment": "why"})
    updated = last(team.project, "coding.updated")
    assert (updated.before["end"], updated.after["end"]) == (11, 14)
    assert updated.after["comment"] == "why"

    supervisor = api.as_user(team.supervisor)
    assert versioned(supervisor, "delete", api_url(team, f"codings/{coding_id}/")).status_code == 204
    deleted = last(team.project, "coding.deleted")
    assert deleted.actor == team.supervisor and deleted.after is None
    assert deleted.before["end"] == 14 and deleted.before["coder_id"] == team.coder.pk


def test_codebook_changes_through_the_api_are_recorded_and_merge_lists_the_moved_codings(team, api, coding):
    client = api.as_user(team.supervisor)
    first = AuditEvent.objects.latest("id").pk
    new = client.post(api_url(team, "codes/"), {"name": "Forest crossing"}).json()
    assert last(team.project, "code.created").after["name"] == "Forest crossing"
    versioned(client, "patch", api_url(team, f"codes/{new['id']}/"), {"colour": "#2ca02c"})
    changed = last(team.project, "code.updated")
    assert (changed.before["colour"], changed.after["colour"]) == ("#4e79a7", "#2ca02c")
    client.post(api_url(team, f"codes/{new['id']}/move/"), {"parent": team.code_group.pk})
    moved = last(team.project, "code.moved")
    assert (moved.before["parent_id"], moved.after["parent_id"]) == (None, team.code_group.pk)

    assert (
        client.post(api_url(team, f"codes/{team.code.pk}/merge/"), {"target": new["id"]}).status_code == 200
    )
    merged = last(team.project, "code.merged")
    assert merged.target_id == team.code.pk and merged.before["name"] == team.code.name
    assert merged.after["into_id"] == new["id"] and merged.after["moved_codings"] == [coding.pk]
    made = events(team.project, target_type="code", pk__gt=first)
    assert len(made) == 4 and all(e.source == "api" and e.actor == team.supervisor for e in made)

    empty = client.post(api_url(team, "codes/"), {"name": "Unused"}).json()
    assert versioned(client, "delete", api_url(team, f"codes/{empty['id']}/")).status_code == 204
    assert last(team.project, "code.deleted").before["name"] == "Unused"


def test_memos_members_and_interview_status_changes_through_the_api_are_recorded(team, api):
    coder = api.as_user(team.coder)
    memo = coder.post(api_url(team, "memos/"), {"kind": "project", "text": "A thought"}).json()
    versioned(coder, "patch", api_url(team, f"memos/{memo['id']}/"), {"text": "A better thought"})
    versioned(coder, "delete", api_url(team, f"memos/{memo['id']}/"))
    actions = [
        (e.action, e.before and e.before["text"], e.after and e.after["text"])
        for e in events(team.project, target_type="memo")
    ]
    assert actions == [
        ("memo.created", None, "A thought"),
        ("memo.updated", "A thought", "A better thought"),
        ("memo.deleted", "A better thought", None),
    ]

    owner = api.as_user(team.owner)
    UserFactory(username="nina_new")
    member = owner.post(api_url(team, "members/"), {"username": "nina_new", "role": "viewer"}).json()
    versioned(owner, "patch", api_url(team, f"members/{member['id']}/"), {"role": "coder"})
    versioned(owner, "delete", api_url(team, f"members/{member['id']}/"))
    nina = {"user_id": e_user("nina_new"), "username": "nina_new"}
    assert [(e.action, e.before, e.after) for e in events(team.project, target_type="member")][-3:] == [
        ("member.added", None, nina | {"role": "viewer"}),
        ("member.role_changed", nina | {"role": "viewer"}, nina | {"role": "coder"}),
        ("member.removed", nina | {"role": "coder"}, None),
    ]

    supervisor = api.as_user(team.supervisor)
    assert (
        supervisor.post(
            api_url(team, f"interviews/{team.interview.pk}/status/"), {"status": "in_coding"}
        ).status_code
        == 200
    )
    status = last(team.project, "interview.status_changed")
    assert (status.before, status.after, status.interview_id) == (
        {"status": "anonymised"},
        {"status": "in_coding"},
        team.interview.pk,
    )


def e_user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username).pk


def test_marking_anonymised_and_revising_a_transcript_record_versions_never_text(team, api):
    draft = make_interview(team.participant, text=CANARY_TEXT, title="Draft")
    supervisor = api.as_user(team.supervisor)
    assert supervisor.post(api_url(team, f"interviews/{draft.pk}/mark-anonymised/")).status_code == 200
    marked = last(team.project, "interview.anonymised")
    assert (marked.before["status"], marked.after["status"]) == ("draft", "anonymised")
    start = CANARY_TEXT.index(CANARY)
    response = supervisor.post(
        api_url(team, f"interviews/{draft.pk}/revise/"),
        {
            "edits": [{"start": start, "end": start + len(CANARY), "replacement": "[PLACE-1]"}],
            "reason": "redaction",
        },
    )
    assert response.status_code == 200
    revised = last(team.project, "transcript.revised")
    assert (revised.before["text_version"], revised.after["text_version"]) == (1, 2)
    assert revised.after["chars_inserted"] == len("[PLACE-1]")
    assert CANARY not in json.dumps([revised.before, revised.after])


# ---------------------------------------------------------------- changes through pages and the admin


def test_changes_made_on_pages_are_recorded_with_source_page(team, coding):
    supervisor = browser(team.supervisor)
    response = supervisor.post(
        reverse("code-create", args=[team.project.pk]),
        {"new-name": "Forest crossing", "new-colour": "#2ca02c", "new-parent": ""},
    )
    assert response.status_code == 302
    created = last(team.project, "code.created")
    assert (created.source, created.actor, created.after["name"]) == (
        "page",
        team.supervisor,
        "Forest crossing",
    )

    split = supervisor.post(
        reverse("code-split", args=[team.project.pk, team.code.pk]),
        {"target": team.code2.pk, "codings": [coding.pk]},
    )
    assert split.status_code == 302
    summary = last(team.project, "code.split")
    assert summary.after["moved_codings"] == [coding.pk] and summary.source == "page"
    per_coding = last(team.project, "coding.updated")
    assert (per_coding.before["code_id"], per_coding.after["code_id"]) == (team.code.pk, team.code2.pk)

    browser(team.coder).post(
        reverse("memos-page", args=[team.project.pk]), {"title": "", "text": "Page memo"}
    )
    memo = last(team.project, "memo.created")
    assert (memo.source, memo.actor, memo.after["text"]) == ("page", team.coder, "Page memo")

    UserFactory(username="nina_new")
    browser(team.owner).post(
        reverse("member-add", args=[team.project.pk]), {"username": "nina_new", "role": "coder"}
    )
    added = last(team.project, "member.added")
    assert (added.source, added.actor, added.after["username"]) == ("page", team.owner, "nina_new")


def test_changes_made_in_the_admin_are_recorded_with_source_admin_once(team, coding):
    root = UserFactory(username="root_admin", is_staff=True, is_superuser=True)
    client = browser(root)
    url = reverse("admin:coding_coding_change", args=[coding.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, False)}
    data.update(comment="edited in admin", needs_review="")
    data = {k: v for k, v in data.items() if v != ""}
    before = AuditEvent.objects.filter(action="coding.updated").count()
    assert client.post(url, data).status_code == 302
    updates = list(AuditEvent.objects.filter(action="coding.updated").order_by("id"))
    assert len(updates) == before + 1  # the admin's dry run was rolled back with its record
    assert (updates[-1].source, updates[-1].actor, updates[-1].after["comment"]) == (
        "admin",
        root,
        "edited in admin",
    )

    client.post(reverse("admin:coding_coding_delete", args=[coding.pk]), {"post": "yes"})
    deleted = last(team.project, "coding.deleted")
    assert (deleted.source, deleted.actor) == ("admin", root)


# ---------------------------------------------------------------- failures leave nothing


def test_a_refused_change_leaves_no_audit_row(team, api, coding):
    before = AuditEvent.objects.count()
    client = api.as_user(team.coder)
    # the same passage again: refused by the unique constraint
    duplicate = client.post(
        api_url(team, "codings/"),
        {"interview": team.interview.pk, "code": team.code.pk, "start": 0, "end": 11},
    )
    assert duplicate.status_code == 409
    past_the_end = client.post(
        api_url(team, "codings/"),
        {"interview": team.interview.pk, "code": team.code.pk, "start": 0, "end": 10**6},
    )
    assert past_the_end.status_code == 400
    # Coder 2 names the current version (a GET would itself be recorded as a read).
    other = api.as_user(team.coder2).patch(
        api_url(team, f"codings/{coding.pk}/"), {"end": 12}, HTTP_IF_MATCH=etag_of(coding)
    )
    assert other.status_code == 403
    assert AuditEvent.objects.count() == before


def test_a_change_rolled_back_after_it_was_recorded_takes_its_record_with_it(team):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        coding_services.create_coding(
            interview=team.interview, code=team.code, coder=team.coder, start=0, end=4
        )
        raise RuntimeError("something later in the same request failed")
    assert AuditEvent.objects.count() == before
    assert not Coding.objects.filter(project=team.project).exists()


# ---------------------------------------------------------------- restore


def deleted_event(team, coding):
    coding_services.delete_coding(coding=coding)
    return last(team.project, "coding.deleted")


def test_supervisor_restores_a_deleted_coding_with_its_guid_coder_and_comment(team, api, coding):
    guid = coding.guid
    event = deleted_event(team, coding)
    response = api.as_user(team.supervisor).post(api_url(team, f"audit/{event.pk}/restore/"))
    assert response.status_code == 201, response.json()
    back = Coding.objects.get(guid=guid)
    assert (back.code, back.coder, back.start, back.end, back.comment) == (
        team.code,
        team.coder,
        0,
        11,
        "first",
    )
    assert response.json()["guid"] == str(guid)
    restored = last(team.project, "coding.restored")
    assert (restored.actor, restored.source, restored.target_id) == (team.supervisor, "api", back.pk)
    assert restored.after["restored_from_event"] == event.pk
    again = api.as_user(team.supervisor).post(api_url(team, f"audit/{event.pk}/restore/"))
    assert again.status_code == 400 and "event" in again.json()


def test_restore_is_refused_when_the_code_is_gone(team, api, coding):
    event = deleted_event(team, coding)
    coding_services.delete_code(code=team.code)
    response = api.as_user(team.supervisor).post(api_url(team, f"audit/{event.pk}/restore/"))
    assert response.status_code == 400 and "code" in response.json()
    assert not Coding.objects.filter(guid=coding.guid).exists()


def test_restore_is_refused_when_the_transcript_changed_since(team, api, coding):
    event = deleted_event(team, coding)
    services.revise_transcript(interview=team.interview, edits=[TextEdit(0, 0, "Note. ")], by=team.owner)
    response = api.as_user(team.supervisor).post(api_url(team, f"audit/{event.pk}/restore/"))
    assert response.status_code == 400 and "interview" in response.json()


def test_restore_is_refused_when_the_passage_is_coded_again(team, api, coding):
    event = deleted_event(team, coding)
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder, start=0, end=11)
    before = AuditEvent.objects.count()
    response = api.as_user(team.supervisor).post(api_url(team, f"audit/{event.pk}/restore/"))
    assert response.status_code == 400 and "code" in response.json()
    assert AuditEvent.objects.count() == before


def test_only_a_deleted_coding_can_be_restored(team, api, coding):
    created = last(team.project, "coding.created")
    response = api.as_user(team.supervisor).post(api_url(team, f"audit/{created.pk}/restore/"))
    assert response.status_code == 400 and "event" in response.json()


def test_restore_button_on_the_audit_page_brings_the_coding_back(team, coding):
    event = deleted_event(team, coding)
    client = browser(team.supervisor)
    page = client.get(reverse("audit-trail", args=[team.project.pk]))
    assert f'name="event" value="{event.pk}"' in page.text
    response = client.post(reverse("audit-trail", args=[team.project.pk]), {"event": event.pk})
    assert response.status_code == 302
    assert Coding.objects.filter(guid=coding.guid).exists()
    assert last(team.project, "coding.restored").source == "page"
    refused = client.post(reverse("audit-trail", args=[team.project.pk]), {"event": event.pk})
    assert refused.status_code == 400 and "already been restored" in refused.text


# ---------------------------------------------------------------- reads


def reads(project, action=None):
    queryset = AuditEvent.objects.filter(project=project, kind="read").order_by("id")
    return list(queryset.filter(action=action) if action else queryset)


def test_opening_the_coding_view_records_one_read_and_polls_record_none(team):
    client = browser(team.viewer)
    assert client.get(reverse("coding-view", args=[team.project.pk, team.interview.pk])).status_code == 200
    (read,) = reads(team.project)
    assert (read.action, read.actor, read.interview_id, read.source) == (
        "transcript.read",
        team.viewer,
        team.interview.pk,
        "page",
    )
    assert read.after["role"] == "viewer" and "ip" in read.after
    data = f"/api/projects/{team.project.pk}/interviews/{team.interview.pk}/coding-data/"
    assert client.get(data, HTTP_X_BACKGROUND_POLL="1").status_code == 200
    assert len(reads(team.project)) == 1
    assert client.get(data).status_code == 200
    assert [r.source for r in reads(team.project)] == ["page", "api"]


def test_reading_an_interview_through_the_api_is_recorded(team, api):
    response = api.as_user(team.coder).get(api_url(team, f"interviews/{team.interview.pk}/"))
    assert response.status_code == 200 and response.json()["text"]
    (read,) = reads(team.project, "transcript.read")
    assert (read.actor, read.interview_id, read.source) == (team.coder, team.interview.pk, "api")
    api.as_user(team.coder).get(api_url(team, "interviews/"))  # the list holds no text
    assert len(reads(team.project)) == 1


def test_retrieve_page_and_csv_record_one_read_each_with_their_filters(team, coding):
    client = browser(team.viewer)
    url = reverse("retrieve", args=[team.project.pk])
    assert client.get(url, {"code": team.code.pk, "interview": team.interview.pk}).status_code == 200
    page_read = reads(team.project, "passages.retrieved")[-1]
    assert page_read.after["filters"] == {"code": team.code.pk, "interview": team.interview.pk}
    assert page_read.interview_id == team.interview.pk
    response = client.get(url, {"format": "csv"})
    b"".join(response.streaming_content)
    assert len(reads(team.project, "passages.exported")) == 1
    assert len(reads(team.project)) == 2


@pytest.mark.parametrize(
    "path", ["export/qdpx/", "export/qdc/", "export/codings.csv", "export/profiles.xlsx"]
)
def test_each_export_download_records_one_read(team, api, coding, path):
    response = api.as_user(team.supervisor).get(api_url(team, path))
    assert response.status_code == 200
    if response.streaming:
        b"".join(response.streaming_content)
    (read,) = reads(team.project, "export.downloaded")
    assert read.actor == team.supervisor and read.after["kind"]


def test_export_jobs_record_their_start_and_their_download(team, api, coding, settings, tmp_path):
    settings.EXPORT_DIR = str(tmp_path)
    client = api.as_user(team.supervisor)
    with transaction.atomic():
        job = client.post(api_url(team, "exports/"), {"kind": "codings.csv"}).json()
    from coding import exports

    exports.run_export(job_id=job["id"])
    assert ExportJob.objects.get(pk=job["id"]).status == "done"
    response = client.get(api_url(team, f"exports/{job['id']}/download/"))
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert [r.action for r in reads(team.project)] == ["export.started", "export.downloaded"]


def test_analytics_download_is_recorded(team, coding):
    response = browser(team.viewer).get(
        reverse("analytics-download", args=[team.project.pk, "frequencies", "csv"])
    )
    assert response.status_code == 200
    (read,) = reads(team.project, "analytics.downloaded")
    assert read.after["kind"] == "frequencies.csv"


def test_opening_an_interview_in_the_admin_is_a_read(team):
    root = UserFactory(username="root_admin", is_staff=True, is_superuser=True)
    assert (
        browser(root).get(reverse("admin:interviews_interview_change", args=[team.interview.pk])).status_code
        == 200
    )
    (read,) = reads(team.project, "transcript.read")
    assert (read.actor, read.source) == (root, "admin")


# Every route that answers with transcript text (whole or as quotes), an export or a download:
# (name, who calls it, page or api, method, path). DP3: each call is exactly one read, naming
# the reader's role and address.
TEXT_ROUTES = [
    ("coding view", "viewer", "page", "get", "/projects/{p}/interviews/{i}/code/"),
    ("interview", "coder", "api", "get", "/api/projects/{p}/interviews/{i}/"),
    ("coding data", "coder", "api", "get", "/api/projects/{p}/interviews/{i}/coding-data/"),
    ("codings list", "viewer", "api", "get", "/api/projects/{p}/codings/"),
    ("one coding", "viewer", "api", "get", "/api/projects/{p}/codings/{c}/"),
    ("retrieve", "viewer", "page", "get", "/projects/{p}/retrieve/"),
    ("retrieve CSV", "viewer", "page", "get", "/projects/{p}/retrieve/?format=csv"),
    ("code split", "supervisor", "page", "get", "/projects/{p}/codebook/{code}/split/"),
    ("analytics download", "viewer", "page", "get", "/projects/{p}/analytics/download/frequencies.csv"),
    ("disagreements page", "supervisor", "page", "get", "/projects/{p}/interviews/{i}/disagreements/"),
    ("disagreements", "supervisor", "api", "get", "/api/projects/{p}/interviews/{i}/disagreements/"),
    ("consensus", "supervisor", "api", "get", "/api/projects/{p}/interviews/{i}/consensus/"),
    ("QDPX", "supervisor", "api", "get", "/api/projects/{p}/export/qdpx/"),
    ("QDC", "supervisor", "api", "get", "/api/projects/{p}/export/qdc/"),
    ("codings CSV", "supervisor", "api", "get", "/api/projects/{p}/export/codings.csv"),
    ("profiles XLSX", "supervisor", "api", "get", "/api/projects/{p}/export/profiles.xlsx"),
    ("export start", "supervisor", "api", "post", "/api/projects/{p}/exports/"),
    ("export download", "supervisor", "api", "get", "/api/projects/{p}/exports/{job}/download/"),
    ("import review", "supervisor", "api", "get", "/api/projects/{p}/import-files/{file}/"),
    ("admin interview", "admin", "page", "get", "/admin/interviews/interview/{i}/change/"),
    ("admin coding", "admin", "page", "get", "/admin/coding/coding/{c}/change/"),
]


def test_every_route_with_transcript_text_or_a_download_records_exactly_one_read_per_call(
    team, api, coding, settings, tmp_path, django_capture_on_commit_callbacks
):
    from coding import exports
    from interviews import import_services

    settings.EXPORT_DIR = str(tmp_path / "exports")
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder2, start=0, end=9)
    job = exports.start_export(project=team.project, by=team.supervisor, kind="codings.csv")
    exports.run_export(job_id=job.pk)
    with django_capture_on_commit_callbacks(execute=True):
        batch = import_services.start_import(
            project=team.project,
            by=team.owner,
            files=[("LV-09.txt", b"Interviewer: Hello.\nParticipant: Hi.\n")],
        )
    admin = UserFactory(username="root_admin", is_staff=True, is_superuser=True)
    ids = {
        "p": team.project.pk,
        "i": team.interview.pk,
        "c": coding.pk,
        "code": team.code.pk,
        "job": job.pk,
        "file": batch.files.get().pk,
    }
    for name, who, kind, method, path in TEXT_ROUTES:
        user = admin if who == "admin" else team.member(who)
        client = api.as_user(user) if kind == "api" else browser(user)
        before = AuditEvent.objects.filter(kind="read").count()
        data = {"kind": "codings.csv"} if method == "post" else None
        with django_capture_on_commit_callbacks(execute=False):
            response = getattr(client, method)(path.format(**ids), data, REMOTE_ADDR="198.51.100.7")
        assert response.status_code in (200, 201, 202), (name, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
        new = list(AuditEvent.objects.filter(kind="read").order_by("id")[before:])
        assert len(new) == 1, (name, [e.action for e in new])
        (read,) = new
        expected_role = "staff" if who == "admin" else who
        assert (read.actor, read.project_id, read.after["role"], read.after["ip"]) == (
            user,
            team.project.pk,
            expected_role,
            "198.51.100.7",
        ), name
        assert read.action and read.target_type and read.at.utcoffset().total_seconds() == 0, name


# ---------------------------------------------------------------- never the transcript


def test_transcript_text_never_appears_in_any_audit_event(team, api):
    interview = make_interview(team.participant, text=CANARY_TEXT, title="Canary", by=team.owner)
    start = CANARY_TEXT.index(CANARY)
    coder, supervisor = api.as_user(team.coder), api.as_user(team.supervisor)
    created = coder.post(
        api_url(team, "codings/"),
        {"interview": interview.pk, "code": team.code.pk, "start": start, "end": start + len(CANARY)},
    ).json()
    assert created["quote"] == CANARY
    versioned(coder, "patch", api_url(team, f"codings/{created['id']}/"), {"end": start + len(CANARY) + 6})
    coder.post(api_url(team, "memos/"), {"kind": "coding", "coding": created["id"], "text": "Look at this"})
    coder.get(api_url(team, f"interviews/{interview.pk}/"))
    coder.get(f"/api/projects/{team.project.pk}/interviews/{interview.pk}/coding-data/")
    browser(team.supervisor).get(reverse("retrieve", args=[team.project.pk]), {"interview": interview.pk})
    supervisor.get(api_url(team, "export/qdpx/"))
    versioned(supervisor, "delete", api_url(team, f"codings/{created['id']}/"))
    event = last(team.project, "coding.deleted")
    assert supervisor.post(api_url(team, f"audit/{event.pk}/restore/")).status_code == 201
    supervisor.post(
        api_url(team, f"interviews/{interview.pk}/revise/"),
        {"edits": [{"start": start, "end": start + 5, "replacement": "[X]"}]},
    )
    services.delete_interview(interview=interview)

    everything = list(AuditEvent.objects.values("action", "before", "after"))
    assert len(everything) > 15
    dumped = json.dumps(everything, default=str)
    assert CANARY not in dumped
    assert "Zebra" not in dumped
    listed = supervisor.get(api_url(team, "audit/"), {"page_size": 500})
    assert CANARY not in listed.content.decode()


# ---------------------------------------------------------------- never edited


def test_an_audit_event_cannot_be_changed_by_saving_it(team):
    event = AuditEvent.objects.filter(project=team.project).first()
    event.action = "coding.created"
    with pytest.raises(ValueError):
        event.save()


def test_the_api_and_the_admin_offer_no_way_to_change_or_delete_an_event(team, api):
    event = AuditEvent.objects.filter(project=team.project).first()
    client = api.as_user(team.owner)
    for method in ("patch", "put", "delete"):
        response = getattr(client, method)(api_url(team, f"audit/{event.pk}/"), {"action": "x"})
        assert response.status_code in (404, 405), method
    root = browser(UserFactory(username="root_admin", is_staff=True, is_superuser=True))
    assert root.get(reverse("admin:interviews_auditevent_add")).status_code == 403
    assert root.get(reverse("admin:interviews_auditevent_delete", args=[event.pk])).status_code == 403
    page = root.get(reverse("admin:interviews_auditevent_change", args=[event.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert AuditEvent.objects.get(pk=event.pk).action == event.action


# ---------------------------------------------------------------- who may read it


@pytest.mark.parametrize(
    ("role", "status"), [("viewer", 403), ("coder", 403), ("supervisor", 200), ("owner", 200)]
)
def test_the_audit_api_and_page_are_for_supervisors_and_owners(team, api, role, status):
    assert api.as_user(team.member(role)).get(api_url(team, "audit/")).status_code == status
    assert (
        browser(team.member(role)).get(reverse("audit-trail", args=[team.project.pk])).status_code == status
    )


def test_outsider_gets_404_on_the_audit_api_and_page(team, api, coding):
    event = last(team.project, "coding.created")
    client = api.as_user(team.outsider)
    assert client.get(api_url(team, "audit/")).status_code == 404
    assert client.post(api_url(team, f"audit/{event.pk}/restore/")).status_code == 404
    own = f"/api/projects/{team.other_project.pk}/audit/{event.pk}/restore/"
    assert client.post(own).status_code == 404
    assert browser(team.outsider).get(reverse("audit-trail", args=[team.project.pk])).status_code == 404


def test_the_audit_api_filters_by_interview_actor_kind_action_and_date(team, api, coding):
    other = make_interview(team.participant, title="Second", by=team.owner)
    coding_services.create_coding(interview=other, code=team.code, coder=team.coder2, start=0, end=4)
    api.as_user(team.viewer).get(api_url(team, f"interviews/{other.pk}/"))
    client = api.as_user(team.supervisor)

    def actions(**params):
        response = client.get(api_url(team, "audit/"), params)
        assert response.status_code == 200, response.json()
        return [e["action"] for e in response.json()["results"]]

    assert actions(interview=other.pk) == ["transcript.read", "coding.created", "interview.created"]
    assert actions(interview=other.pk, kind="read") == ["transcript.read"]
    assert actions(actor=team.viewer.pk) == ["transcript.read"]
    assert set(actions(action="coding")) == {"coding.created"}
    assert actions(action="coding.created", interview=team.interview.pk) == ["coding.created"]
    assert actions(since="2999-01-01") == []
    assert (
        len(actions(since="2000-01-01T00:00:00Z")) == AuditEvent.objects.filter(project=team.project).count()
    )
    for bad in ({"since": "yesterday"}, {"kind": "delete"}, {"interview": "x"}):
        response = client.get(api_url(team, "audit/"), bad)
        assert response.status_code == 400 and set(bad) <= set(response.json()), bad


def test_the_interview_history_lists_who_has_seen_it_and_escapes_what_it_shows(team, coding):
    coding_services.create_memo(
        project=team.project, author=team.coder, text="<script>alert(1)</script>", target=team.interview
    )
    browser(team.viewer).get(reverse("coding-view", args=[team.project.pk, team.interview.pk]))
    page = browser(team.supervisor).get(
        reverse("audit-trail", args=[team.project.pk]), {"interview": team.interview.pk}
    )
    assert page.status_code == 200
    assert "Who has seen this interview" in page.text
    readers = page.text.split('id="readers"')[1].split("</table>")[0]
    assert "vera_viewer" in readers
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    nav = browser(team.supervisor).get(reverse("project-home", args=[team.project.pk])).text
    assert reverse("audit-trail", args=[team.project.pk]) in nav
    assert (
        reverse("audit-trail", args=[team.project.pk])
        not in browser(team.coder).get(reverse("project-home", args=[team.project.pk])).text
    )


# ---------------------------------------------------------------- outside requests


def test_acting_as_names_the_actor_and_source_of_a_command(team):
    with audit.acting_as(team.owner, "command"):
        coding_services.create_code(project=team.project, name="From a command")
    event = last(team.project, "code.created")
    assert (event.actor, event.source) == (team.owner, "command")


def test_a_qdpx_import_records_one_summary_event_for_the_new_project(team, api, coding):
    archive = api.as_user(team.supervisor).get(api_url(team, "export/qdpx/")).content
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.as_user(team.coder).post(
        "/api/projects/import/qdpx/",
        {"file": SimpleUploadedFile("study.qdpx", archive), "already_anonymised": True},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    new_project = response.json()["project"]
    (event,) = AuditEvent.objects.filter(project_id=new_project)
    assert (event.action, event.actor, event.source) == ("project.imported", team.coder, "api")
    assert event.after["counts"]["codings"] == 1


def test_member_snapshot_names_the_person_and_role(team):
    membership = Membership.objects.get(project=team.project, user=team.viewer)
    services.change_member_role(membership=membership, role=Role.CODER)
    event = last(team.project, "member.role_changed")
    assert (event.before["role"], event.after["role"], event.after["username"]) == (
        "viewer",
        "coder",
        "vera_viewer",
    )


def test_listing_or_opening_codings_through_the_api_is_one_read_each(team, api, coding):
    client = api.as_user(team.viewer)
    listed = client.get(api_url(team, "codings/"), {"interview": team.interview.pk})
    assert listed.status_code == 200 and listed.json()["results"][0]["quote"]
    (read,) = reads(team.project, "passages.listed")
    assert read.interview_id == team.interview.pk
    assert read.after["filters"] == {"interview": str(team.interview.pk)}
    assert client.get(api_url(team, f"codings/{coding.pk}/")).status_code == 200
    assert [r.target_type for r in reads(team.project, "passages.listed")] == ["project", "coding"]


def test_the_code_split_page_shows_passages_and_records_a_read(team, coding):
    client = browser(team.supervisor)
    assert client.get(reverse("code-split", args=[team.project.pk, team.code.pk])).status_code == 200
    (read,) = reads(team.project, "passages.retrieved")
    assert (read.target_type, read.target_id, read.after["passages"]) == ("code", team.code.pk, 1)


def test_reviewing_an_upload_before_it_is_stored_is_a_read(
    team, api, settings, tmp_path, django_capture_on_commit_callbacks
):
    from interviews import import_services

    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    with django_capture_on_commit_callbacks(execute=True):
        batch = import_services.start_import(
            project=team.project,
            by=team.owner,
            files=[("LV-09.txt", b"Interviewer: Hello.\nParticipant: Hi.\n")],
        )
    import_file = batch.files.get()
    response = api.as_user(team.supervisor).get(api_url(team, f"import-files/{import_file.pk}/"))
    assert response.status_code == 200, response.json()
    (read,) = reads(team.project, "import.reviewed")
    assert (read.target_id, read.actor) == (import_file.pk, team.supervisor)
    assert "Hello" not in json.dumps(read.after)


def _event(team):
    return audit.record(project=team.project, action="test.made", target_type="project", actor=team.owner)


def test_the_database_refuses_to_change_an_audit_event(team):
    event = _event(team)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="test.rewritten")
    assert AuditEvent.objects.get(pk=event.pk).action == "test.made"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the delete guard is PostgreSQL's")
def test_the_database_refuses_to_delete_an_audit_event_outside_project_deletion(team):
    event = _event(team)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_deleting_the_project_takes_its_audit_events_and_a_deleted_user_stays_named(team):
    passer_by = UserFactory(username="passer_by")
    services.add_member(project=team.project, user=passer_by, role="viewer")
    event = audit.record(project=team.project, action="test.read", target_type="project", actor=passer_by)
    services.remove_member(membership=team.project.memberships.get(user=passer_by))
    passer_by.delete()  # Django sets the actor to NULL: the one change the guard allows
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor_id is None and event.actor_name == "passer_by"
    services.delete_project(project=team.project)
    assert not AuditEvent.objects.filter(project_id=team.project.pk).exists()


def test_refused_requests_for_project_data_are_logged_without_their_query(team, api, client, caplog):
    caplog.set_level("WARNING", logger="security.refused")
    events_before = AuditEvent.objects.count()
    outsider = api.as_user(team.outsider)
    url = f"/api/projects/{team.project.pk}/interviews/{team.interview.pk}/"
    assert outsider.get(url + "?q=secret-filter").status_code == 404
    assert (
        api.as_user(team.viewer).post(f"/api/projects/{team.project.pk}/codes/", {"name": "x"}).status_code
        == 403
    )
    client.force_login(team.outsider)
    assert client.get(f"/projects/{team.project.pk}/").status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "security.refused"]
    assert f"refused GET {url} with 404 for user {team.outsider.pk} from 127.0.0.1" in lines
    assert any(f"with 403 for user {team.viewer.pk}" in line for line in lines)
    assert any(f"refused GET /projects/{team.project.pk}/ with 404" in line for line in lines)
    assert not any("secret-filter" in line for line in lines)
    assert AuditEvent.objects.count() == events_before
