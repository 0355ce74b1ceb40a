"""The review workflow: assignments and their statuses, "coded" and "reviewed", and what
changed since a supervisor's last review — through the services, the API and the pages."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding import review
from coding import services as coding_services
from coding.models import Assignment, AssignmentStatus, ReviewMark
from interviews.models import AuditEvent, InterviewStatus
from tests.conftest import make_interview

from .factories import versioned

A = "/api/projects/{}/assignments/"


def assignments_url(team, pk=None, suffix=""):
    base = A.format(team.project.pk)
    return f"{base}{pk}/" if pk else base + suffix


def review_url(team, action="", interview=None):
    interview = interview or team.interview
    tail = f"{action}/" if action else ""
    return f"/api/projects/{team.project.pk}/interviews/{interview.pk}/review/{tail}"


def assign_both(team, blind=False):
    return review.assign_interview(
        interview=team.interview, coders=[team.coder, team.coder2], blind=blind, by=team.supervisor
    )


def refresh_status(interview):
    interview.refresh_from_db(fields=["status"])
    return interview.status


# ---------------------------------------------------------------- assigning


def test_supervisor_assigns_an_interview_to_two_coders_and_it_goes_into_coding(team, api):
    response = api.as_user(team.supervisor).post(
        assignments_url(team),
        {"interview": team.interview.pk, "coders": [team.coder.pk, team.coder2.pk], "blind": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert sorted(a["coder_username"] for a in body) == ["cody_coder", "cora_coder"]
    assert all(a["status"] == "todo" and a["blind"] for a in body)
    assert refresh_status(team.interview) == InterviewStatus.IN_CODING
    created = AuditEvent.objects.filter(action="assignment.created", interview_id=team.interview.pk)
    assert created.count() == 2
    assert {e.actor_id for e in created} == {team.supervisor.pk}


def test_assigning_someone_again_changes_only_blind_and_keeps_their_status(team):
    (first,) = review.assign_interview(interview=team.interview, coders=[team.coder], by=team.supervisor)
    review.set_assignment_status(assignment=first, status=AssignmentStatus.IN_PROGRESS, by=team.coder)
    (again,) = review.assign_interview(
        interview=team.interview, coders=[team.coder], blind=True, by=team.supervisor
    )
    assert again.pk == first.pk
    again.refresh_from_db()
    assert (again.status, again.blind) == (AssignmentStatus.IN_PROGRESS, True)
    assert Assignment.objects.count() == 1


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_assigning_someone_who_cannot_code_here_is_refused_naming_coders(team, api, who):
    user = team.viewer if who == "viewer" else team.outsider
    response = api.as_user(team.supervisor).post(
        assignments_url(team),
        {"interview": team.interview.pk, "coders": [team.coder.pk, user.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert "coders" in response.json()
    assert not Assignment.objects.exists(), "nothing half-written"
    assert not AuditEvent.objects.filter(action__startswith="assignment.").exists()


def test_assigning_nobody_or_with_unknown_fields_is_refused(team, api):
    client = api.as_user(team.supervisor)
    response = client.post(
        assignments_url(team), {"interview": team.interview.pk, "coders": []}, format="json"
    )
    assert response.status_code == 400 and "coders" in response.json()
    response = client.post(
        assignments_url(team),
        {"interview": team.interview.pk, "coders": [team.coder.pk], "status": "done"},
        format="json",
    )
    assert response.status_code == 400 and "status" in response.json()
    response = client.post(
        assignments_url(team),
        {"interview": team.other_interview.pk, "coders": [team.coder.pk]},
        format="json",
    )
    assert response.status_code == 400 and "interview" in response.json()
    assert not Assignment.objects.exists()


def test_a_transcript_not_yet_anonymised_cannot_be_assigned(team, api):
    draft = make_interview(team.participant, title="Draft")
    response = api.as_user(team.supervisor).post(
        assignments_url(team), {"interview": draft.pk, "coders": [team.coder.pk]}, format="json"
    )
    assert response.status_code == 400
    assert "interview" in response.json()


def test_a_coder_cannot_assign_and_a_viewer_has_no_assignments(team, api):
    body = {"interview": team.interview.pk, "coders": [team.coder.pk]}
    assert api.as_user(team.coder).post(assignments_url(team), body, format="json").status_code == 403
    assert api.as_user(team.viewer).get(assignments_url(team)).status_code == 403
    with pytest.raises(PermissionDenied):
        review.assign_interview(interview=team.interview, coders=[team.coder], by=team.coder)
    assert not Assignment.objects.exists()


def test_outsider_gets_404_on_assignments_and_review(team, api):
    (assignment,) = review.assign_interview(interview=team.interview, coders=[team.coder], by=team.supervisor)
    client = api.as_user(team.outsider)
    assert client.get(assignments_url(team)).status_code == 404
    assert (
        client.patch(
            assignments_url(team, assignment.pk), {"status": "in_progress"}, format="json"
        ).status_code
        == 404
    )
    assert client.post(review_url(team, "sign-off"), {}, format="json").status_code == 404
    assert client.get(review_url(team, "changes")).status_code == 404


def test_a_coder_lists_and_sees_only_their_own_assignments(team, api):
    mine, theirs = assign_both(team)
    client = api.as_user(team.coder)
    listed = client.get(assignments_url(team)).json()["results"]
    assert [a["id"] for a in listed] == [mine.pk]
    assert [a["id"] for a in client.get(assignments_url(team, suffix="mine/")).json()["results"]] == [mine.pk]
    assert client.get(assignments_url(team, theirs.pk)).status_code == 404
    response = client.patch(assignments_url(team, theirs.pk), {"status": "in_progress"}, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == AssignmentStatus.TODO


def test_supervisor_filters_assignments_by_coder_interview_and_status(team, api):
    mine, theirs = assign_both(team)
    review.set_assignment_status(assignment=theirs, status="in_progress", by=team.coder2)
    client = api.as_user(team.supervisor)
    by_coder = client.get(assignments_url(team), {"coder": team.coder2.pk}).json()["results"]
    assert [a["id"] for a in by_coder] == [theirs.pk]
    by_status = client.get(assignments_url(team), {"status": "todo"}).json()["results"]
    assert [a["id"] for a in by_status] == [mine.pk]
    by_interview = client.get(assignments_url(team), {"interview": team.interview.pk}).json()["results"]
    assert len(by_interview) == 2
    assert client.get(assignments_url(team), {"status": "finished"}).status_code == 400


def test_supervisor_unassigns_and_the_codings_stay(team, api):
    mine, _ = assign_both(team)
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder, start=0, end=5)
    assert versioned(api.as_user(team.coder), "delete", assignments_url(team, mine.pk)).status_code == 403
    assert (
        versioned(api.as_user(team.supervisor), "delete", assignments_url(team, mine.pk)).status_code == 204
    )
    assert not Assignment.objects.filter(pk=mine.pk).exists()
    assert team.interview.codings.count() == 1
    assert AuditEvent.objects.filter(action="assignment.deleted", target_id=mine.pk).exists()


# ---------------------------------------------------------------- statuses


def test_a_coder_moves_their_own_status_one_step_at_a_time(team, api):
    mine, _ = assign_both(team)
    client = api.as_user(team.coder)
    url = assignments_url(team, mine.pk)
    response = versioned(client, "patch", url, {"status": "done"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()
    assert (
        versioned(client, "patch", url, {"status": "in_progress"}, format="json").json()["status"]
        == "in_progress"
    )
    done = versioned(client, "patch", url, {"status": "done"}, format="json").json()
    assert done["status"] == "done" and done["done_at"]
    back = versioned(client, "patch", url, {"status": "in_progress"}, format="json").json()
    assert back["status"] == "in_progress" and back["done_at"] is None
    assert versioned(client, "patch", url, {"status": "todo"}, format="json").json()["status"] == "todo"
    assert versioned(client, "patch", url, {"status": "finished"}, format="json").status_code == 400
    changes = AuditEvent.objects.filter(action="assignment.status_changed", target_id=mine.pk).order_by("id")
    assert [(e.before["status"], e.after["status"]) for e in changes] == [
        ("todo", "in_progress"),
        ("in_progress", "done"),
        ("done", "in_progress"),
        ("in_progress", "todo"),
    ]


def test_a_supervisor_may_move_anyones_status_but_another_coder_may_not(team):
    mine, theirs = assign_both(team)
    review.set_assignment_status(assignment=theirs, status="in_progress", by=team.supervisor)
    with pytest.raises(PermissionDenied):
        review.set_assignment_status(assignment=theirs, status="done", by=team.coder)
    theirs.refresh_from_db()
    assert theirs.status == "in_progress"


def test_a_coders_first_coding_starts_their_assignment(team, api):
    mine, theirs = assign_both(team)
    response = api.as_user(team.coder).post(
        f"/api/projects/{team.project.pk}/codings/",
        {"interview": team.interview.pk, "code": team.code.pk, "start": 0, "end": 5},
        format="json",
    )
    assert response.status_code == 201
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == ("in_progress", "todo")
    # A second coding, or one on an interview not assigned, changes nothing more.
    coding_services.create_coding(interview=team.interview, code=team.code2, coder=team.coder, start=0, end=5)
    mine.refresh_from_db()
    assert mine.status == "in_progress"
    assert AuditEvent.objects.filter(action="assignment.status_changed", target_id=mine.pk).count() == 1


def test_the_interview_is_coded_when_every_assigned_coder_is_done_and_reopens_with_them(team):
    mine, theirs = assign_both(team)
    for assignment, coder in ((mine, team.coder), (theirs, team.coder2)):
        review.set_assignment_status(assignment=assignment, status="in_progress", by=coder)
    review.set_assignment_status(assignment=mine, status="done", by=team.coder)
    assert refresh_status(team.interview) == InterviewStatus.IN_CODING
    review.set_assignment_status(assignment=theirs, status="done", by=team.coder2)
    assert refresh_status(team.interview) == InterviewStatus.CODED
    assert AuditEvent.objects.filter(
        action="interview.status_changed", interview_id=team.interview.pk, after__status="coded"
    ).exists()
    review.set_assignment_status(assignment=theirs, status="in_progress", by=team.coder2)
    assert refresh_status(team.interview) == InterviewStatus.IN_CODING


def test_unassigning_the_last_coder_still_working_makes_the_interview_coded(team):
    mine, theirs = assign_both(team)
    review.set_assignment_status(assignment=mine, status="in_progress", by=team.coder)
    review.set_assignment_status(assignment=mine, status="done", by=team.coder)
    review.unassign(assignment=theirs, by=team.supervisor)
    assert refresh_status(team.interview) == InterviewStatus.CODED


def finish(team, *assignments):
    for assignment in assignments:
        review.set_assignment_status(assignment=assignment, status="in_progress", by=team.supervisor)
        review.set_assignment_status(assignment=assignment, status="done", by=team.supervisor)


# ---------------------------------------------------------------- sign-off


def test_supervisor_signs_off_a_coded_interview_as_reviewed(team, api):
    finish(team, *assign_both(team))
    response = api.as_user(team.supervisor).post(review_url(team, "sign-off"), {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "reviewed"
    assert response.json()["my_last_review"]
    assert refresh_status(team.interview) == InterviewStatus.REVIEWED
    mark = ReviewMark.objects.get(interview=team.interview, reviewer=team.supervisor)
    # Signing off again moves the mark (one per supervisor and interview).
    first = mark.reviewed_at
    api.as_user(team.supervisor).post(review_url(team, "sign-off"), {}, format="json")
    assert ReviewMark.objects.get(pk=mark.pk).reviewed_at > first
    assert ReviewMark.objects.count() == 1
    assert AuditEvent.objects.filter(action="interview.reviewed", interview_id=team.interview.pk).count() == 2


def test_sign_off_is_refused_while_an_assigned_coder_is_not_done(team, api):
    mine, theirs = assign_both(team)
    finish(team, mine)
    response = api.as_user(team.supervisor).post(review_url(team, "sign-off"), {}, format="json")
    assert response.status_code == 400
    assert "cody_coder" in response.json()["interview"][0]
    assert not ReviewMark.objects.exists()
    assert refresh_status(team.interview) == InterviewStatus.IN_CODING


def test_coders_cannot_sign_off_reveal_or_read_the_review(team, api):
    assign_both(team)
    client = api.as_user(team.coder)
    for action in ("sign-off", "reveal", "unreveal"):
        assert client.post(review_url(team, action), {}, format="json").status_code == 403
    assert client.get(review_url(team)).status_code == 403
    assert client.get(review_url(team, "changes")).status_code == 403
    with pytest.raises(PermissionDenied):
        review.mark_reviewed(interview=team.interview, by=team.coder)


def test_review_state_shows_assignments_and_reveal(team, api):
    assign_both(team, blind=True)
    client = api.as_user(team.supervisor)
    state = client.get(review_url(team)).json()
    assert state["blind"] is True and state["revealed"] is False and state["my_last_review"] is None
    assert len(state["assignments"]) == 2
    assert client.post(review_url(team, "reveal"), {}, format="json").json()["revealed"] is True
    assert client.post(review_url(team, "unreveal"), {}, format="json").json()["revealed"] is False
    actions = list(
        AuditEvent.objects.filter(interview_id=team.interview.pk, action__startswith="interview.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["interview.revealed", "interview.unrevealed"]


# ---------------------------------------------------------------- changes since my last review


def code(team, coder, code=None, start=0, end=5, **extra):
    return coding_services.create_coding(
        interview=team.interview, code=code or team.code, coder=coder, start=start, end=end, **extra
    )


def changes_by_coder(api, team, reviewer=None):
    response = api.as_user(reviewer or team.supervisor).get(review_url(team, "changes"))
    assert response.status_code == 200
    body = response.json()
    return body, {c["coder"]: (c["added"], c["removed"], c["changed"]) for c in body["coders"]}


def test_changes_since_my_last_review_per_coder_added_removed_changed(team, api):
    keep = code(team, team.coder, start=0, end=5)
    edit = code(team, team.coder, start=10, end=20)
    gone = code(team, team.coder2, start=30, end=40)
    untouched = code(team, team.coder2, start=50, end=60)
    finish(team, *assign_both(team))
    review.mark_reviewed(interview=team.interview, by=team.supervisor)
    body, before = changes_by_coder(api, team)
    assert before == {} and body["since"]

    added = code(team, team.coder, code=team.code2, start=0, end=5)
    coding_services.update_coding(coding=edit, end=25)
    coding_services.delete_coding(coding=gone)
    # Added and removed again since the review: no net change.
    fleeting = code(team, team.coder2, start=70, end=80)
    coding_services.delete_coding(coding=fleeting)
    # Changed and changed back: no net change.
    coding_services.update_coding(coding=untouched, end=61)
    coding_services.update_coding(coding=untouched, end=60)
    # cody codes the passage again with another code: an addition.
    other = code(team, team.coder2, code=team.code2, start=30, end=40)

    body, changes = changes_by_coder(api, team)
    assert changes == {"cora_coder": (1, 0, 1), "cody_coder": (1, 1, 0)}
    (cora,) = [c for c in body["coders"] if c["coder"] == "cora_coder"]
    assert cora["codings"] == {"added": [added.pk], "removed": [], "changed": [edit.pk]}
    assert (body["added"], body["removed"], body["changed"]) == (2, 1, 1)
    assert keep.pk not in cora["codings"]["changed"]
    assert other.pk in [c for x in body["coders"] for c in x["codings"]["added"]]


def test_changes_are_per_supervisor_and_count_from_the_start_without_a_review(team, api):
    code(team, team.coder, start=0, end=5)
    code(team, team.coder2, start=0, end=5)
    body, changes = changes_by_coder(api, team)
    assert body["since"] is None
    assert changes == {"cora_coder": (1, 0, 0), "cody_coder": (1, 0, 0)}
    review.mark_reviewed(interview=team.interview, by=team.supervisor)
    code(team, team.coder2, start=6, end=9)
    assert changes_by_coder(api, team)[1] == {"cody_coder": (1, 0, 0)}
    # The owner never signed off: everything counts for them.
    assert changes_by_coder(api, team, reviewer=team.owner)[1] == {
        "cora_coder": (1, 0, 0),
        "cody_coder": (2, 0, 0),
    }


def test_a_moved_coding_by_a_supervisor_is_a_change_for_its_coder(team):
    coding = code(team, team.coder, start=0, end=5)
    review.mark_reviewed(interview=team.interview, by=team.supervisor)
    coding_services.update_coding(coding=coding, start=1)
    result = review.changes_since_review(interview=team.interview, reviewer=team.owner)
    assert [(c["coder"], c["added"]) for c in result["coders"]] == [("cora_coder", 1)]
    result = review.changes_since_review(interview=team.interview, reviewer=team.supervisor)
    assert [(c["coder"], c["changed"]) for c in result["coders"]] == [("cora_coder", 1)]


# ---------------------------------------------------------------- pages


def test_supervisor_assigns_blind_through_the_assignments_page(team, client):
    client.force_login(team.supervisor)
    url = reverse("assignments", args=[team.project.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Assign an interview" in page.text
    response = client.post(url, {"interview": team.interview.pk, "coders": [team.coder.pk], "blind": "on"})
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert (assignment.coder, assignment.blind) == (team.coder, True)
    page = client.get(url)
    assert "(blind)" in page.text and "Reveal" in page.text


def test_assignments_page_refuses_an_assignment_without_coders_with_400(team, client):
    client.force_login(team.supervisor)
    response = client.post(reverse("assignments", args=[team.project.pk]), {"interview": team.interview.pk})
    assert response.status_code == 400
    assert "Choose at least one coder." in response.text
    assert not Assignment.objects.exists()


def test_assignments_page_shows_changes_since_my_last_review(team, client):
    code(team, team.coder, start=0, end=5)
    review.mark_reviewed(interview=team.interview, by=team.supervisor)
    code(team, team.coder2, start=0, end=5)
    client.force_login(team.supervisor)
    page = client.get(reverse("assignments", args=[team.project.pk])).text
    assert "1 added, 0 removed, 0 changed" in page
    assert "cody_coder: 1 added" in page
    assert "cora_coder: " not in page


def test_coders_have_no_assignments_page_but_their_own_list(team, client):
    mine, theirs = assign_both(team)
    code(team, team.coder, start=0, end=5)
    client.force_login(team.coder)
    assert client.get(reverse("assignments", args=[team.project.pk])).status_code == 403
    page = client.get(reverse("my-assignments", args=[team.project.pk]))
    assert page.status_code == 200
    assert f'id="assignment-{mine.pk}"' in page.text
    assert f'id="assignment-{theirs.pk}"' not in page.text
    assert "Mark done" in page.text  # the first coding started it
    assert '<input type="hidden" name="status" value="done">' in page.text
    assert '<input type="hidden" name="status" value="todo">' in page.text
    assert reverse("coding-view", args=[team.project.pk, team.interview.pk]) in page.text


def test_a_coder_marks_their_assignment_done_from_their_page(team, client):
    mine, theirs = assign_both(team)
    client.force_login(team.coder)
    url = reverse("assignment-status", args=[team.project.pk, mine.pk])
    assert client.post(url, {"status": "in_progress"}).status_code == 302
    assert client.post(url, {"status": "done"}).status_code == 302
    mine.refresh_from_db()
    assert mine.status == "done"
    response = client.post(url, {"status": "todo"})
    assert response.status_code == 400
    assert "one step at a time" in response.text
    other = reverse("assignment-status", args=[team.project.pk, theirs.pk])
    assert client.post(other, {"status": "in_progress"}).status_code == 404


def test_supervisor_reveals_and_signs_off_from_the_page(team, client):
    finish(team, *assign_both(team, blind=True))
    client.force_login(team.supervisor)
    assert (
        client.post(reverse("interview-reveal", args=[team.project.pk, team.interview.pk])).status_code == 302
    )
    assert (
        client.post(reverse("interview-sign-off", args=[team.project.pk, team.interview.pk])).status_code
        == 302
    )
    assert refresh_status(team.interview) == InterviewStatus.REVIEWED
    page = client.get(reverse("assignments", args=[team.project.pk])).text
    assert "Hide again" in page


def test_sign_off_page_action_answers_400_while_coders_work(team, client):
    assign_both(team)
    client.force_login(team.supervisor)
    response = client.post(reverse("interview-sign-off", args=[team.project.pk, team.interview.pk]))
    assert response.status_code == 400
    assert "Not every assigned coder is done" in response.text


def test_project_navigation_links_the_assignment_pages_by_role(team, client):
    client.force_login(team.supervisor)
    home = client.get(reverse("project-home", args=[team.project.pk])).text
    assert reverse("assignments", args=[team.project.pk]) in home
    client.force_login(team.coder)
    home = client.get(reverse("project-home", args=[team.project.pk])).text
    assert reverse("assignments", args=[team.project.pk]) not in home
    assert reverse("my-assignments", args=[team.project.pk]) in home


def test_failed_status_change_writes_nothing(team):
    mine, _ = assign_both(team)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        review.set_assignment_status(assignment=mine, status="done", by=team.coder)
    assert AuditEvent.objects.count() == before
    mine.refresh_from_db()
    assert mine.status == "todo"


def test_assignment_pages_take_a_fixed_number_of_queries(team, client):
    def count_queries(user, name):
        client.force_login(user)
        client.get(reverse(name, args=[team.project.pk]))  # the first request stamps the session
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(name, args=[team.project.pk])).status_code == 200
        return len(captured)

    assign_both(team)
    code(team, team.coder, start=0, end=5)
    small = (count_queries(team.supervisor, "assignments"), count_queries(team.coder, "my-assignments"))
    for n in range(4):
        interview = make_interview(team.participant, title=f"More {n}", by=team.owner)
        review.assign_interview(interview=interview, coders=[team.coder, team.coder2], by=team.supervisor)
        coding_services.create_coding(interview=interview, code=team.code, coder=team.coder, start=0, end=5)
    review.unassign(
        assignment=Assignment.objects.get(interview=team.interview, coder=team.coder2), by=team.owner
    )
    large = (count_queries(team.supervisor, "assignments"), count_queries(team.coder, "my-assignments"))
    assert large == small


def test_a_deleted_coding_restored_since_my_review_is_no_change(team):
    coding = code(team, team.coder, start=0, end=5)
    review.mark_reviewed(interview=team.interview, by=team.supervisor)
    coding_services.delete_coding(coding=coding)
    assert review.changes_since_review(interview=team.interview, reviewer=team.supervisor)["removed"] == 1
    deleted = AuditEvent.objects.get(action="coding.deleted", target_id=coding.pk)
    coding_services.restore_coding(event=deleted, by=team.supervisor)
    result = review.changes_since_review(interview=team.interview, reviewer=team.supervisor)
    assert (result["added"], result["removed"], result["changed"]) == (0, 0, 0)
