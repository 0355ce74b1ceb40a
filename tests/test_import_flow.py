"""Upload → task → review → confirm through the API, with access checks, duplicates and the canary."""

import json

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models

from coding import services as coding_services
from interviews import import_services
from interviews.models import (
    ImportFile,
    ImportFileStatus,
    Interview,
    InterviewStatus,
    Participant,
    RedactionLog,
)

from .import_helpers import make_docx, plain_text

CANARY_TEXT = (
    "Interviewer: Please tell me about the crossing.\n"
    "P07: My cousin Zarathustrina Qobadiyan called me on +375 29 555 01 99 and wrote from "
    "canary.person@example.org. I was born on 17.04.1991. My passport no. Q98765432 and my "
    "UNHCR case 144-21C09876. We waited in Canaryvillage for nine days.\n"
    "Interviewer: What happened then?\n"
    "P07: Zarathustrina said the guards took us back to the forest.\n"
)
CANARIES = [
    "Zarathustrina",
    "Qobadiyan",
    "+375 29 555 01 99",
    "canary.person@example.org",
    "17.04.1991",
    "Q98765432",
    "144-21C09876",
    "Canaryvillage",
]


_on_commit = {}


@pytest.fixture
def staging(settings, tmp_path, django_capture_on_commit_callbacks):
    """A private staging folder per test; on-commit hooks (task queueing, file deletion) run."""
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    _on_commit["capture"] = django_capture_on_commit_callbacks
    return settings.IMPORT_STAGING_DIR


def upload(api, user, project, files, *, raw=False, **extra):
    """POST the files (the task runs on commit), then answer the batch's status as the page would poll it."""
    payload = {"files": [SimpleUploadedFile(name, data) for name, data in files], **extra}
    with _on_commit["capture"](execute=True):
        response = api.as_user(user).post(f"/api/projects/{project.pk}/imports/", payload, format="multipart")
    if raw or response.status_code != 202:
        return response
    assert response.json()["status"] == "queued"
    return api.as_user(user).get(f"/api/projects/{project.pk}/imports/{response.json()['id']}/")


def review(api, user, project, file_id):
    return api.as_user(user).get(f"/api/projects/{project.pk}/import-files/{file_id}/")


def confirm(api, user, project, file_id, **body):
    with _on_commit["capture"](execute=True):
        return api.as_user(user).post(
            f"/api/projects/{project.pk}/import-files/{file_id}/confirm/", body, format="json"
        )


def accepted(findings):
    return [
        {"start": f["start"], "end": f["end"], "category": f["category"], "placeholder": f["placeholder"]}
        for f in findings
        if f["accepted"]
    ]


def test_supervisor_imports_a_docx_and_confirms_redactions(team, api, staging):
    response = upload(api, team.supervisor, team.project, [("LV-09 interview.docx", make_docx())])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "done" and body["progress"] == 1.0
    [file_row] = body["files"]
    assert file_row["status"] == "ready", file_row
    assert file_row["turn_count"] == 4

    data = review(api, team.supervisor, team.project, file_row["id"])
    assert data.status_code == 200
    assert "no-store" in data["Cache-Control"]
    review_body = data.json()
    assert review_body["roles"] == {"Interviewer": "interviewer", "P07": "participant"}
    start = review_body["text"].index("brother")
    done = confirm(
        api,
        team.supervisor,
        team.project,
        file_row["id"],
        title="Interview 9",
        new_pseudonym="LV-09",
        redactions=[{"start": start, "end": start + len("brother"), "category": "NAME"}],
        roles={"Interviewer": "interviewer", "P07": "participant"},
    )
    assert done.status_code == 201, done.json()
    assert done.json()["key"] == [{"original": "brother", "placeholder": "[NAME-1]", "category": "NAME"}]
    interview = Interview.objects.get(pk=done.json()["interview"])
    assert "brother" not in interview.text and "[NAME-1]" in interview.text
    assert interview.status == InterviewStatus.ANONYMISED and interview.anonymised_by == team.supervisor
    assert interview.is_codable
    assert interview.participant.pseudonym == "LV-09"
    turns = list(interview.turns.order_by("index"))
    assert [t.role for t in turns] == ["interviewer", "participant", "interviewer", "participant"]
    assert interview.text[turns[1].start : turns[1].end].startswith("P07: Near the river, with my [NAME-1].")
    [log] = RedactionLog.objects.filter(interview=interview)
    assert interview.text[log.start : log.end] == "[NAME-1]" and log.created_by == team.supervisor
    staged = ImportFile.objects.get(pk=file_row["id"])
    assert staged.status == ImportFileStatus.IMPORTED and staged.name == "" and staged.interview == interview
    assert list(staging.iterdir()) == []
    # The key is given once: the file cannot be confirmed or reviewed again.
    assert (
        confirm(
            api,
            team.supervisor,
            team.project,
            file_row["id"],
            title="x",
            new_pseudonym="LV-10",
            redactions=[],
        ).status_code
        == 400
    )
    assert review(api, team.supervisor, team.project, file_row["id"]).status_code == 400


@pytest.mark.parametrize(("role", "expected"), [("coder", 403), ("viewer", 403), ("outsider", 404)])
def test_only_supervisors_of_the_project_import(
    team,
    api,
    staging,
    role,
    expected,
):
    response = upload(api, team.member(role), team.project, [("a.txt", b"Interviewer: hello")])
    assert response.status_code == expected


def test_outsider_gets_404_on_a_staged_file_of_another_project(
    team,
    api,
    staging,
):
    response = upload(api, team.owner, team.project, [("a.txt", plain_text().encode())])
    file_id = response.json()["files"][0]["id"]
    assert review(api, team.outsider, team.project, file_id).status_code == 404
    assert review(api, team.outsider, team.other_project, file_id).status_code == 404
    assert (
        confirm(
            api, team.outsider, team.other_project, file_id, title="x", new_pseudonym="Z", redactions=[]
        ).status_code
        == 404
    )


def test_wrong_method_on_import_is_405(team, api, staging):
    response = api.as_user(team.owner).patch(f"/api/projects/{team.project.pk}/imports/1/", {})
    assert response.status_code == 405


def test_a_broken_file_reports_its_reason_and_the_others_import(
    team,
    api,
    staging,
):
    response = upload(
        api,
        team.owner,
        team.project,
        [("good.txt", plain_text().encode()), ("broken.docx", b"PK\x03\x04 not really"), ("empty.txt", b"")],
    )
    files = {f["name"]: f for f in response.json()["files"]}
    assert files["good.txt"]["status"] == "ready"
    assert files["broken.docx"]["status"] == "failed"
    assert "damaged" in files["broken.docx"]["reason"]
    assert files["empty.txt"]["status"] == "failed" and files["empty.txt"]["reason"] == "The file is empty."
    assert response.json()["processed_count"] == 3


def test_same_text_twice_is_flagged_and_needs_explicit_confirmation(
    team,
    api,
    staging,
):
    text = plain_text().encode()
    first = upload(api, team.owner, team.project, [("a.txt", text)])
    file_id = first.json()["files"][0]["id"]
    done = confirm(
        api, team.owner, team.project, file_id, title="A", participant=team.participant.pk, redactions=[]
    )
    assert done.status_code == 201
    second = upload(api, team.owner, team.project, [("copy.txt", text)])
    row = second.json()["files"][0]
    assert row["status"] == "ready" and row["duplicate_of"] == done.json()["interview"]
    refused = confirm(
        api, team.owner, team.project, row["id"], title="B", participant=team.participant.pk, redactions=[]
    )
    assert refused.status_code == 400 and "allow_duplicate" in refused.json()
    again = confirm(
        api,
        team.owner,
        team.project,
        row["id"],
        title="B",
        participant=team.participant.pk,
        redactions=[],
        allow_duplicate=True,
    )
    assert again.status_code == 201


def test_two_identical_files_in_one_upload_import_once(team, api, staging):
    text = plain_text().encode()
    response = upload(api, team.owner, team.project, [("a.txt", text), ("b.txt", text)])
    statuses = sorted((f["status"], f["reason"][:20]) for f in response.json()["files"])
    assert statuses[0][0] == "failed" and "already waiting" in response.json()["files"][1]["reason"]
    assert statuses[1][0] == "ready"


def test_placeholders_continue_numbering_within_a_participant(
    team,
    api,
    staging,
):
    for n, name in enumerate(["Zoryana", "Bahoz"]):
        text = f"Interviewer: hello {n}\nP07: I met {name} and {name} again.\n".encode()
        response = upload(api, team.owner, team.project, [(f"{n}.txt", text)])
        file_id = response.json()["files"][0]["id"]
        findings = review(api, team.owner, team.project, file_id).json()["findings"]
        names = [dict(f, accepted=True) for f in findings if f["category"] == "NAME"]
        assert len(names) == 2  # flagged for review, both mentions
        assert all(not f["accepted"] for f in findings if f["category"] == "NAME")
        done = confirm(
            api,
            team.owner,
            team.project,
            file_id,
            title=f"T{n}",
            participant=team.participant.pk,
            redactions=accepted(names),
        )
        assert done.status_code == 201, done.json()
        placeholders = {row["placeholder"] for row in done.json()["key"]}
        assert placeholders == {f"[NAME-{n + 1}]"}  # same name, same placeholder; a new name, a new number


def test_sensitive_terms_are_redacted_with_the_team_placeholder_and_not_readable(team, api, staging):
    api.as_user(team.supervisor)
    created = api.post(
        f"/api/projects/{team.project.pk}/sensitive-terms/",
        {"term": "Camp Bruzgi", "category": "CAMP", "placeholder": "[CAMP]"},
    )
    assert created.status_code == 201
    assert "term" not in created.json() and "Bruzgi" not in json.dumps(created.json())
    listed = api.as_user(team.coder).get(f"/api/projects/{team.project.pk}/sensitive-terms/")
    assert "Bruzgi" not in listed.content.decode()
    assert (
        api.as_user(team.coder)
        .post(f"/api/projects/{team.project.pk}/sensitive-terms/", {"term": "x", "category": "NAME"})
        .status_code
        == 403
    )
    text = b"Interviewer: where?\nP07: In camp bruzgi, then CAMP BRUZGI's gate.\n"
    response = upload(api, team.owner, team.project, [("t.txt", text)])
    file_id = response.json()["files"][0]["id"]
    findings = review(api, team.owner, team.project, file_id).json()["findings"]
    terms = [f for f in findings if f["placeholder"] == "[CAMP]"]
    assert len(terms) == 2 and all(f["accepted"] for f in terms)
    done = confirm(
        api,
        team.owner,
        team.project,
        file_id,
        title="T",
        participant=team.participant.pk,
        redactions=accepted(findings),
    )
    interview = Interview.objects.get(pk=done.json()["interview"])
    assert interview.text.count("[CAMP]") == 2 and "ruzgi" not in interview.text.lower()


def test_allowed_words_are_never_flagged(team, api, staging):
    assert (
        api.as_user(team.owner)
        .post(f"/api/projects/{team.project.pk}/allowed-words/", {"word": "Kuźnica"})
        .status_code
        == 201
    )
    text = "Interviewer: where?\nP07: We walked to Kuźnica with Dilovan.\n".encode()
    response = upload(api, team.owner, team.project, [("t.txt", text)])
    findings = review(api, team.owner, team.project, response.json()["files"][0]["id"]).json()["findings"]
    flagged = [text.decode()[f["start"] : f["end"]] for f in findings]
    assert flagged == ["Dilovan"]


def test_discarding_deletes_the_staged_text(team, api, staging):
    response = upload(api, team.owner, team.project, [("a.txt", plain_text().encode())])
    file_id = response.json()["files"][0]["id"]
    assert any(staging.iterdir())
    with _on_commit["capture"](execute=True):
        gone = api.as_user(team.owner).post(
            f"/api/projects/{team.project.pk}/import-files/{file_id}/discard/"
        )
    assert gone.status_code == 204
    assert list(staging.iterdir()) == []
    assert ImportFile.objects.get(pk=file_id).status == ImportFileStatus.DISCARDED


def test_abandoned_imports_are_swept(team, api, staging):
    response = upload(api, team.owner, team.project, [("a.txt", plain_text().encode())])
    file_id = response.json()["files"][0]["id"]
    (staging / "00000000-0000-0000-0000-000000000000.upload").write_bytes(b"orphan")
    assert import_services.sweep_abandoned_imports(hours=1) == 1  # only the orphan; the import is fresh
    assert import_services.sweep_abandoned_imports(hours=0) == 1
    row = ImportFile.objects.get(pk=file_id)
    assert row.status == ImportFileStatus.EXPIRED and row.name == ""
    assert list(staging.iterdir()) == []


def _all_text_in_database() -> str:
    chunks = []
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if fields:
            for row in model.objects.values_list(*fields):
                chunks.extend(json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v for v in row)
    return "\n".join(chunks)


def test_canary_identifiers_are_nowhere_in_the_database_after_confirm(team, api, staging, caplog):
    caplog.set_level("DEBUG")
    api.as_user(team.owner).post(
        f"/api/projects/{team.project.pk}/sensitive-terms/",
        {"term": "Canaryvillage", "category": "VILLAGE", "placeholder": "[VILLAGE]"},
    )
    response = upload(
        api,
        team.owner,
        team.project,
        [("Zarathustrina Qobadiyan.txt", CANARY_TEXT.encode("utf-8"))],
        participants=json.dumps({"Zarathustrina Qobadiyan.txt": "LV-11"}),
    )
    file_id = response.json()["files"][0]["id"]
    findings = review(api, team.owner, team.project, file_id).json()["findings"]
    # The researcher accepts every proposal and every flagged name.
    done = confirm(
        api,
        team.owner,
        team.project,
        file_id,
        title="LV-11 first interview",
        new_pseudonym="LV-11",
        redactions=accepted([dict(f, accepted=True) for f in findings]),
    )
    assert done.status_code == 201, done.json()
    key = {row["original"] for row in done.json()["key"]}
    assert {"Zarathustrina Qobadiyan", "Zarathustrina", "canary.person@example.org"} <= key
    dump = _all_text_in_database()
    for canary in CANARIES:
        assert canary not in dump, canary
    assert "Qobadiyan" not in caplog.text and "Zarathustrina" not in caplog.text
    assert list(staging.iterdir()) == []
    assert Participant.objects.filter(pseudonym="LV-11").exists()


def test_redaction_after_coding_keeps_codings_and_flags_the_touched_one(team, api):
    interview = team.interview
    text = interview.text
    near = text.index("Near the river")
    brother = text.index("brother")
    untouched = coding_services.create_coding(
        interview=interview, code=team.code, coder=team.coder, start=near, end=near + len("Near the river")
    )
    touched = coding_services.create_coding(
        interview=interview,
        code=team.code2,
        coder=team.coder,
        start=brother - 3,
        end=brother + len("brother"),
    )
    response = api.as_user(team.supervisor).post(
        f"/api/projects/{team.project.pk}/interviews/{interview.pk}/redactions/",
        {"redactions": [{"start": brother, "end": brother + len("brother"), "category": "NAME"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["key"][0]["original"] == "brother"
    interview.refresh_from_db()
    untouched.refresh_from_db()
    touched.refresh_from_db()
    assert interview.text[untouched.start : untouched.end] == "Near the river" and not untouched.needs_review
    assert touched.needs_review and interview.text[touched.start : touched.end] == "my [NAME-1]"
    logs = (
        api.as_user(team.viewer)
        .get(f"/api/projects/{team.project.pk}/interviews/{interview.pk}/redactions/")
        .json()["results"]
    )
    assert [(r["placeholder"], interview.text[r["start"] : r["end"]]) for r in logs] == [
        ("[NAME-1]", "[NAME-1]")
    ]
    assert (
        api.as_user(team.coder)
        .post(
            f"/api/projects/{team.project.pk}/interviews/{interview.pk}/redactions/",
            {"redactions": [{"start": 0, "end": 3}]},
            format="json",
        )
        .status_code
        == 403
    )
    assert (
        api.as_user(team.outsider)
        .get(f"/api/projects/{team.project.pk}/interviews/{interview.pk}/redactions/")
        .status_code
        == 404
    )
    assert (
        api.as_user(team.supervisor)
        .get(f"/api/projects/{team.project.pk}/interviews/{team.other_interview.pk}/redactions/")
        .status_code
        == 404
    )


def test_too_many_files_are_refused_whole(team, api, staging, settings):
    settings.IMPORT_LIMITS = {"max_files": 2}
    response = upload(api, team.owner, team.project, [(f"{i}.txt", b"Interviewer: hi") for i in range(3)])
    assert response.status_code == 400 and "At most 2 files" in response.json()["files"][0]
    assert not ImportFile.objects.exists()


def test_an_oversize_file_is_reported_and_the_others_import(team, api, staging, settings):
    settings.IMPORT_LIMITS = {"max_file_bytes": 500}
    response = upload(
        api, team.owner, team.project, [("big.txt", b"a " * 400), ("ok.txt", plain_text().encode())]
    )
    files = {f["name"]: f for f in response.json()["files"]}
    assert files["big.txt"]["status"] == "failed" and "larger than the limit" in files["big.txt"]["reason"]
    assert files["ok.txt"]["status"] == "ready"


def test_a_zip_of_transcripts_becomes_one_file_each(team, api, staging):
    from .import_helpers import make_zip

    archive = make_zip(
        {
            "folder/LV-01.txt": plain_text().encode(),
            "folder/LV-02.docx": make_docx(),
            "inner.zip": make_zip({"x.txt": b"x"}),
            "__MACOSX/._LV-01.txt": b"junk",
            "folder/": b"",
        }
    )
    response = upload(api, team.owner, team.project, [("interviews.zip", archive)])
    files = {f["name"]: f for f in response.json()["files"]}
    assert set(files) == {"LV-01.txt", "LV-02.docx", "inner.zip"}
    assert files["LV-01.txt"]["status"] == "ready" and files["LV-02.docx"]["status"] == "ready"
    assert files["inner.zip"]["status"] == "failed" and "inside a zip" in files["inner.zip"]["reason"]


def test_a_zip_slip_archive_is_reported_and_nothing_is_written(team, api, staging, tmp_path):
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("ok.txt", plain_text())
        archive.writestr("../../escaped.txt", "x")
    before = set(tmp_path.parent.iterdir())
    response = upload(api, team.owner, team.project, [("evil.zip", out.getvalue())])
    [row] = response.json()["files"]
    assert row["status"] == "failed" and "unsafe path" in row["reason"]
    assert set(tmp_path.parent.iterdir()) == before
    assert list(staging.iterdir()) == [] if staging.exists() else True


def test_sweep_command_expires_old_imports(team, api, staging):
    from io import StringIO

    from django.core.management import call_command

    response = upload(api, team.owner, team.project, [("a.txt", plain_text().encode())])
    file_id = response.json()["files"][0]["id"]
    out = StringIO()
    call_command("sweep_imports", "--hours", "0", stdout=out)
    assert "0 batch(es) queued again, 1 staging file(s) removed" in out.getvalue()
    assert ImportFile.objects.get(pk=file_id).status == ImportFileStatus.EXPIRED


def test_an_upload_over_the_total_limit_is_refused_before_reading(team, api, staging, settings):
    settings.IMPORT_LIMITS = {"max_upload_bytes": 1000}
    response = upload(api, team.owner, team.project, [("a.txt", b"a " * 300), ("b.txt", b"b " * 300)])
    assert response.status_code == 400 and "at most 0 MB" in response.json()["files"][0]
    assert not ImportFile.objects.exists()


def test_the_file_name_mapping_chooses_the_participant_when_none_is_given(team, api, staging):
    response = upload(
        api,
        team.owner,
        team.project,
        [("a.txt", plain_text().encode()), ("b.txt", b"Interviewer: other\nP07: text\n")],
        participants=json.dumps({"a.txt": "LV-07", "b.txt": "LV-30"}),
    )
    files = {f["name"]: f for f in response.json()["files"]}
    assert files["a.txt"]["participant_hint"] == "LV-07"
    first = confirm(api, team.owner, team.project, files["a.txt"]["id"], title="A", redactions=[])
    second = confirm(api, team.owner, team.project, files["b.txt"]["id"], title="B", redactions=[])
    assert Interview.objects.get(pk=first.json()["interview"]).participant == team.participant
    assert Interview.objects.get(pk=second.json()["interview"]).participant.pseudonym == "LV-30"


def test_a_redelivered_batch_reports_the_file_that_was_being_read_and_reads_the_rest(team, staging):
    from interviews.models import ImportBatch

    batch = ImportBatch.objects.create(
        project=team.project, created_by=team.owner, file_count=2, status="running"
    )
    stuck = ImportFile.objects.create(
        batch=batch, project=team.project, name="a.txt", extension=".txt", status=ImportFileStatus.PARSING
    )
    waiting = ImportFile.objects.create(batch=batch, project=team.project, name="b.txt", extension=".txt")
    import_services._write_private(import_services._staging_path(waiting, "upload"), plain_text().encode())
    import_services.process_import_batch(batch_id=batch.pk)
    stuck.refresh_from_db()
    waiting.refresh_from_db()
    batch.refresh_from_db()
    assert stuck.status == ImportFileStatus.FAILED and "stopped unexpectedly" in stuck.reason
    assert waiting.status == ImportFileStatus.READY
    assert batch.status == "done" and batch.processed_count == 2
    import_services.process_import_batch(batch_id=batch.pk)  # a further delivery does nothing
    waiting.refresh_from_db()
    assert waiting.status == ImportFileStatus.READY


def test_a_broker_outage_at_upload_loses_no_batch(team, api, staging, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from interviews import tasks
    from interviews.models import ImportBatch

    def broker_down(batch_id):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(tasks.process_import_batch, "delay", broker_down)
    response = upload(api, team.owner, team.project, [("a.txt", plain_text().encode())])
    assert response.status_code == 200 and response.json()["status"] == "queued"
    monkeypatch.undo()
    batch = ImportBatch.objects.get(pk=response.json()["id"])
    assert import_services.requeue_stalled_batches() == 0  # too fresh to be stalled
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert import_services.requeue_stalled_batches() == 1  # eager here: runs at once
    batch.refresh_from_db()
    assert batch.status == "done" and batch.files.get().status == ImportFileStatus.READY


def test_stored_file_names_lose_paths_and_control_characters(team, api, staging):
    response = upload(
        api,
        team.owner,
        team.project,
        [("../../etc/x\x00y.txt", plain_text().encode()), ("a" * 300 + ".txt", b"x")],
    )
    names = sorted(f["name"] for f in response.json()["files"])
    assert names[0] == "a" * 196 + ".txt" and "xy.txt" in names
    assert all("/" not in n and ".." not in n for n in names)


def test_supervisor_removes_a_sensitive_term_and_the_allow_list_word(team, api):
    url = f"/api/projects/{team.project.pk}/sensitive-terms/"
    term = api.as_user(team.supervisor).post(url, {"term": "Narach", "category": "village"}).json()
    assert term["placeholder"] == "[VILLAGE-1]" and term["category"] == "VILLAGE"
    assert (
        api.as_user(team.supervisor).post(url, {"term": "NARACH", "category": "VILLAGE"}).status_code == 400
    )
    assert api.as_user(team.coder).delete(f"{url}{term['id']}/").status_code == 403
    assert api.as_user(team.outsider).delete(f"{url}{term['id']}/").status_code == 404
    assert api.as_user(team.supervisor).delete(f"{url}{term['id']}/").status_code == 204
    words = f"/api/projects/{team.project.pk}/allowed-words/"
    word = api.as_user(team.supervisor).post(words, {"word": "Terespol"}).json()
    assert word["word"] == "terespol"
    assert api.as_user(team.supervisor).post(words, {"word": "two words"}).status_code == 400
    assert api.as_user(team.supervisor).delete(f"{words}{word['id']}/").status_code == 204


def test_speaker_labels_that_are_names_are_flagged_and_stored_as_placeholders(team, api, staging):
    text = "[Ahmed] I came in winter.\nInterviewer: From where?\n[Ahmed] From Minsk.\n"
    response = upload(api, team.owner, team.project, [("t.txt", text.encode())])
    file_id = response.json()["files"][0]["id"]
    body = review(api, team.owner, team.project, file_id).json()
    flagged = [text[f["start"] : f["end"]] for f in body["findings"]]
    assert flagged == ["Ahmed", "Ahmed"]
    assert body["roles"] == {"Ahmed": "participant", "Interviewer": "interviewer"}
    done = confirm(
        api,
        team.owner,
        team.project,
        file_id,
        title="T",
        participant=team.participant.pk,
        redactions=accepted([dict(f, accepted=True) for f in body["findings"]]),
        roles={"Ahmed": "participant", "Interviewer": "interviewer"},
    )
    interview = Interview.objects.get(pk=done.json()["interview"])
    assert [(t.speaker, t.role) for t in interview.turns.order_by("index")] == [
        ("[NAME-1]", "participant"),
        ("Interviewer", "interviewer"),
        ("[NAME-1]", "participant"),
    ]
    assert "Ahmed" not in interview.text


def test_a_batch_past_its_time_limit_reports_every_unread_file(team, staging):
    from interviews.models import ImportBatch

    batch = ImportBatch.objects.create(
        project=team.project, created_by=team.owner, file_count=2, status="running"
    )
    files = [
        ImportFile.objects.create(batch=batch, project=team.project, name=f"{i}.txt", extension=".txt")
        for i in range(2)
    ]
    import_services._write_private(import_services._staging_path(files[0], "upload"), b"x")
    import_services.fail_unfinished(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "done" and batch.processed_count == 2
    assert {f.status for f in ImportFile.objects.filter(batch=batch)} == {ImportFileStatus.FAILED}
    assert list(staging.iterdir()) == []
