"""The Django admin: every model is there, invariants are read-only, writes go through services."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from coding import services as coding_services
from coding.models import (
    Assignment,
    Code,
    Coding,
    CodingComment,
    ExportJob,
    Memo,
    Reveal,
    ReviewMark,
    SavedQuery,
)
from interviews import services
from interviews.models import (
    AllowedWord,
    ImportBatch,
    ImportFile,
    Interview,
    Membership,
    Participant,
    Project,
    RedactionLog,
    RefusedAccess,
    SensitiveTerm,
    TranscriptRevision,
)
from interviews.text import TextEdit

from .factories import UserFactory

MODELS = [*apps.get_app_config("interviews").get_models(), *apps.get_app_config("coding").get_models()]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root_admin", is_staff=True, is_superuser=True)


@pytest.fixture
def site(team, superuser, client):
    """Every model has at least one row; the client is logged in as a superuser."""
    coding = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=0, end=11
    )
    coding_services.create_memo(project=team.project, author=team.coder, text="memo", target=coding)
    services.create_attribute_definition(project=team.project, key="age", kind="integer")
    services.set_participant_attributes(participant=team.participant, values={"age": 31})
    services.revise_transcript(interview=team.interview, edits=[TextEdit(0, 0, "Note. ")], by=team.owner)
    SavedQuery.objects.create(project=team.project, name="Visa", expression="code:x", created_by=team.owner)
    batch = ImportBatch.objects.create(project=team.project, created_by=team.owner)
    ImportFile.objects.create(batch=batch, project=team.project, extension="txt")
    SensitiveTerm.objects.create(
        project=team.project,
        digest="d" * 32,
        first_digest="f" * 32,
        word_count=1,
        category="name",
        placeholder="[NAME-1]",
    )
    AllowedWord.objects.create(project=team.project, word="Minsk")
    RedactionLog.objects.create(
        interview=team.interview, category="name", start=0, end=6, placeholder="[NAME]"
    )
    ExportJob.objects.create(project=team.project, requested_by=team.owner, kind="qdc")
    Assignment.objects.create(project=team.project, interview=team.interview, coder=team.coder)
    Reveal.objects.create(interview=team.interview, revealed_by=team.supervisor)
    ReviewMark.objects.create(
        interview=team.interview, reviewer=team.supervisor, reviewed_at=coding.created_at
    )
    CodingComment.objects.create(project=team.project, coding=coding, author=team.coder, text="Why here?")
    RefusedAccess.objects.create(
        project_id=team.project.pk,
        method="GET",
        path=f"/projects/{team.project.pk}/",
        status=404,
        source="page",
    )
    client.force_login(superuser)
    return client


def admin_url(model, action, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def post_data(response, **changes):
    """The change form as the browser would submit it, with ``changes`` applied."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def form_errors(response):
    assert response.status_code == 200, response.status_code  # re-shown with errors, not redirected
    form = response.context["adminform"].form
    return {k: " ".join(v) for k, v in form.errors.items()}


def test_every_model_of_both_apps_is_registered():
    missing = [m._meta.label for m in MODELS if not admin.site.is_registered(m)]
    assert not missing


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_changelist_and_change_page_load_for_a_superuser(site, model):
    assert site.get(admin_url(model, "changelist")).status_code == 200
    obj = model.objects.order_by("pk").first()
    assert obj is not None, f"no {model._meta.label} row to show"
    response = site.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (Interview, ["text", "text_sha256", "text_length", "text_version", "anonymised_at", "anonymised_by"]),
        (Coding, ["start", "end", "interview", "coder", "project"]),
        (Memo, ["kind", "participant", "interview", "code", "coding", "author"]),
        (Code, ["project"]),
        (Membership, ["project", "user"]),
        (Participant, ["project"]),
    ],
)
def test_invariant_fields_are_read_only(site, model, fields):
    obj = model.objects.filter(project__isnull=False).order_by("pk").first()
    response = site.get(admin_url(model, "change", obj.pk))
    form = response.context["adminform"].form
    for field in fields:
        assert field not in form.fields, field
        assert f'name="{field}"' not in response.content.decode(), field


@pytest.mark.parametrize(
    "model",
    [
        TranscriptRevision,
        ImportBatch,
        ImportFile,
        SensitiveTerm,
        RedactionLog,
        ExportJob,
        Assignment,
        Reveal,
        ReviewMark,
        CodingComment,
    ],
)
def test_records_written_by_features_cannot_be_added_changed_or_deleted(site, model):
    obj = model.objects.first()
    assert site.get(admin_url(model, "add")).status_code == 403
    assert site.get(admin_url(model, "delete", obj.pk)).status_code == 403
    response = site.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200 and not response.context["has_change_permission"]


def test_posting_transcript_fields_changes_nothing_but_metadata(site, team):
    interview = Interview.objects.get(pk=team.interview.pk)
    page = site.get(admin_url(Interview, "change", interview.pk))
    data = post_data(page, title="Renamed in admin", text="HACKED", text_sha256="0" * 64, text_version="9")
    response = site.post(admin_url(Interview, "change", interview.pk), data)
    assert response.status_code == 302, form_errors(response)
    after = Interview.objects.get(pk=interview.pk)
    assert after.title == "Renamed in admin"
    assert (after.text, after.text_sha256, after.text_version) == (
        interview.text,
        interview.text_sha256,
        interview.text_version,
    )


def test_coding_offsets_cannot_be_changed_but_comment_can(site, team):
    coding = Coding.objects.get(project=team.project)
    page = site.get(admin_url(Coding, "change", coding.pk))
    response = site.post(
        admin_url(Coding, "change", coding.pk), post_data(page, start="1", end="2", comment="ok")
    )
    assert response.status_code == 302, form_errors(response)
    after = Coding.objects.get(pk=coding.pk)
    assert (after.start, after.end, after.comment) == (coding.start, coding.end, "ok")


def test_coding_cannot_be_moved_to_a_code_of_another_project(site, team):
    coding = Coding.objects.get(project=team.project)
    page = site.get(admin_url(Coding, "change", coding.pk))
    response = site.post(admin_url(Coding, "change", coding.pk), post_data(page, code=team.other_code.pk))
    assert "another project" in form_errors(response)["code"]
    assert Coding.objects.get(pk=coding.pk).code == team.code


def test_codings_are_not_added_in_the_admin(site):
    assert site.get(admin_url(Coding, "add")).status_code == 403
    assert site.get(admin_url(Memo, "add")).status_code == 403


def test_duplicate_code_name_is_refused_by_the_service(site, team):
    page = site.get(admin_url(Code, "add"))
    data = post_data(
        page, project=team.project.pk, parent="", name="PRIOR PUSHBACK", colour="#123456", order="0"
    )
    response = site.post(admin_url(Code, "add"), data)
    assert "already exists at the top level" in form_errors(response)["name"]
    assert Code.objects.filter(project=team.project, name__iexact="prior pushback").count() == 1


def test_code_added_in_the_admin_goes_through_the_service(site, team):
    page = site.get(admin_url(Code, "add"))
    data = post_data(
        page,
        project=team.project.pk,
        parent=team.code_group.pk,
        name="  Russian visa ",
        colour="#123456",
        order="2",
        is_codable="on",
    )
    response = site.post(admin_url(Code, "add"), data)
    assert response.status_code == 302, form_errors(response)
    code = Code.objects.get(project=team.project, name="Russian visa")
    assert code.parent == team.code_group


def test_moving_a_code_under_itself_is_refused(site, team):
    page = site.get(admin_url(Code, "change", team.code_group.pk))
    response = site.post(admin_url(Code, "change", team.code_group.pk), post_data(page, parent=team.code.pk))
    assert "under itself" in form_errors(response)["parent"]
    assert Code.objects.get(pk=team.code_group.pk).parent is None


def test_last_owner_cannot_be_demoted_or_deleted(site, team):
    own = Membership.objects.get(project=team.project, user=team.owner)
    page = site.get(admin_url(Membership, "change", own.pk))
    response = site.post(admin_url(Membership, "change", own.pk), post_data(page, role="viewer"))
    assert "at least one owner" in form_errors(response)["role"]
    assert site.get(admin_url(Membership, "delete", own.pk)).status_code == 403
    assert Membership.objects.get(pk=own.pk).role == "owner"


def test_interview_status_rules_hold_in_the_admin(site, team):
    draft = services.create_interview(participant=team.participant, title="Draft", text="Some words.")
    page = site.get(admin_url(Interview, "change", draft.pk))
    response = site.post(admin_url(Interview, "change", draft.pk), post_data(page, status="coded"))
    assert "anonymised" in form_errors(response)["status"]
    assert Interview.objects.get(pk=draft.pk).status == "draft"


def test_interview_cannot_move_to_a_participant_of_another_project(site, team):
    page = site.get(admin_url(Interview, "change", team.interview.pk))
    other = team.other_interview.participant_id
    response = site.post(
        admin_url(Interview, "change", team.interview.pk), post_data(page, participant=other)
    )
    assert "another project" in form_errors(response)["participant"]
    assert Interview.objects.get(pk=team.interview.pk).participant_id == team.participant.pk


def test_interview_added_in_the_admin_is_stored_normalised(site, team):
    page = site.get(admin_url(Interview, "add"))
    data = post_data(page, participant=team.participant.pk, title="Admin upload", text="Line\r\nCafe\u0301")
    response = site.post(admin_url(Interview, "add"), data)
    assert response.status_code == 302, form_errors(response)
    interview = Interview.objects.get(title="Admin upload")
    assert interview.text == "Line\nCafé"
    assert interview.text_length == 9 and len(interview.text_sha256) == 64


def test_participant_with_interviews_cannot_be_deleted(site, team):
    assert site.get(admin_url(Participant, "delete", team.participant.pk)).status_code == 403
    assert Participant.objects.filter(pk=team.participant.pk).exists()


def test_project_added_in_the_admin_is_owned_by_its_creator(site, superuser):
    page = site.get(admin_url(Project, "add"))
    response = site.post(admin_url(Project, "add"), post_data(page, name="Admin study"))
    assert response.status_code == 302, form_errors(response)
    project = Project.objects.get(name="Admin study")
    assert Membership.objects.get(project=project).user == superuser


def test_interview_change_list_does_not_load_transcripts(site, team):
    response = site.get(admin_url(Interview, "changelist"))
    assert team.interview.text[:30] not in response.content.decode()


def test_staff_without_superuser_rights_sees_no_project_data(db, client, team):
    staff = UserFactory(username="staff_only", is_staff=True)
    client.force_login(staff)
    assert client.get(admin_url(Interview, "changelist")).status_code == 403


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_add_page_loads_or_is_refused_on_purpose(site, model):
    response = site.get(admin_url(model, "add"))
    model_admin = admin.site._registry[model]
    expected = 200 if model_admin.has_add_permission(response.wsgi_request) else 403
    assert response.status_code == expected


def test_attribute_definition_rules_hold_in_the_admin(site, team):
    from interviews.models import AttributeDefinition

    page = site.get(admin_url(AttributeDefinition, "add"))
    data = post_data(
        page,
        project=team.project.pk,
        key="gender",
        label="Gender",
        kind="categorical",
        choices="[]",
        order="0",
    )
    response = site.post(admin_url(AttributeDefinition, "add"), data)
    assert "List the values" in form_errors(response)["choices"]
    assert not AttributeDefinition.objects.filter(key="gender").exists()
    data["choices"] = '["Woman", "Man", "Other"]'
    assert site.post(admin_url(AttributeDefinition, "add"), data).status_code == 302
    assert AttributeDefinition.objects.get(key="gender").choices == ["Woman", "Man", "Other"]


def test_participant_pseudonym_rules_hold_in_the_admin(site, team):
    page = site.get(admin_url(Participant, "add"))
    data = post_data(page, project=team.project.pk, pseudonym=" LV-07 ", participant_type="border_crosser")
    response = site.post(admin_url(Participant, "add"), data)
    assert "already called LV-07" in form_errors(response)["pseudonym"]
    assert Participant.objects.filter(project=team.project).count() == 1
