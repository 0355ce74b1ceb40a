"""Comments on codings: threads, replies, editing, deleting, resolving; blind coding hides them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from coding import comments
from coding import services as coding_services
from coding.models import Assignment, CodingComment, Reveal
from interviews.models import AuditEvent, Membership

from .factories import versioned


def membership(team, user):
    return Membership.objects.select_related("project", "user").get(project=team.project, user=user)


@pytest.fixture
def coding(team):
    return coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=40, end=60
    )


def base(team, coding):
    return f"/api/projects/{team.project.pk}/codings/{coding.pk}/comments/"


def test_a_reply_joins_the_thread_of_its_first_comment(team, coding):
    first = comments.add_comment(
        membership=membership(team, team.coder), coding=coding, text="Is this a visa?"
    )
    reply = comments.add_comment(
        membership=membership(team, team.supervisor), coding=coding, text="Yes: tourist.", parent=first
    )
    reply_to_reply = comments.add_comment(
        membership=membership(team, team.coder2), coding=coding, text="Agreed.", parent=reply
    )
    assert reply.parent_id == first.pk and reply_to_reply.parent_id == first.pk
    [thread] = comments.threads_of([coding.pk])[coding.pk]
    assert thread.pk == first.pk
    assert [r.text for r in thread.thread_replies] == ["Yes: tourist.", "Agreed."]


def test_threads_of_many_codings_take_two_queries(team, coding, django_assert_num_queries):
    other = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder2, start=70, end=80
    )
    for c in (coding, other):
        root = comments.add_comment(membership=membership(team, team.coder), coding=c, text="Why?")
        comments.add_comment(membership=membership(team, team.coder2), coding=c, text="Because.", parent=root)
    with django_assert_num_queries(2):
        threads = comments.threads_of([coding.pk, other.pk])
        assert sum(len(root.thread_replies) for roots in threads.values() for root in roots) == 2


def test_resolving_a_reply_resolves_its_thread_and_reopening_clears_who(team, coding):
    first = comments.add_comment(membership=membership(team, team.coder), coding=coding, text="Boundary?")
    reply = comments.add_comment(
        membership=membership(team, team.coder2), coding=coding, text="Ok", parent=first
    )
    root = comments.resolve_thread(membership=membership(team, team.supervisor), comment=reply)
    assert root.pk == first.pk and root.resolved and root.resolved_by == team.supervisor
    root = comments.resolve_thread(membership=membership(team, team.coder), comment=first, resolved=False)
    assert not root.resolved and root.resolved_by is None and root.resolved_at is None
    assert list(
        AuditEvent.objects.filter(target_type="coding_comment")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["comment.added", "comment.added", "comment.resolved", "comment.reopened"]


def test_only_the_author_edits_and_author_or_supervisor_deletes(team, coding):
    mine = comments.add_comment(membership=membership(team, team.coder), coding=coding, text="First try")
    with pytest.raises(PermissionDenied):
        comments.edit_comment(membership=membership(team, team.supervisor), comment=mine, text="Changed")
    comments.edit_comment(membership=membership(team, team.coder), comment=mine, text="Second try")
    with pytest.raises(PermissionDenied):
        comments.delete_comment(membership=membership(team, team.coder2), comment=mine)
    reply = comments.add_comment(
        membership=membership(team, team.coder2), coding=coding, text="Hm", parent=mine
    )
    comments.delete_comment(membership=membership(team, team.supervisor), comment=mine)
    assert not CodingComment.objects.filter(pk__in=[mine.pk, reply.pk]).exists()
    deleted = AuditEvent.objects.get(action="comment.deleted")
    assert deleted.before["text"] == "Second try" and deleted.before["replies"] == [reply.pk]
    assert AuditEvent.objects.get(action="comment.edited").after["text"] == "Second try"


def test_empty_comments_and_viewers_are_refused(team, coding):
    with pytest.raises(ValidationError) as error:
        comments.add_comment(membership=membership(team, team.coder), coding=coding, text="   ")
    assert "text" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        comments.add_comment(membership=membership(team, team.viewer), coding=coding, text="Looks fine")


def test_a_reply_to_a_comment_on_another_coding_is_refused(team, coding):
    other = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder, start=70, end=80
    )
    elsewhere = comments.add_comment(membership=membership(team, team.coder), coding=other, text="Here")
    with pytest.raises(ValidationError) as error:
        comments.add_comment(
            membership=membership(team, team.coder), coding=coding, text="x", parent=elsewhere
        )
    assert "parent" in error.value.message_dict


# ---------------------------------------------------------------- API


def test_api_comment_reply_resolve_edit_delete(team, api, coding):
    coder = api.as_user(team.coder)
    first = coder.post(base(team, coding), {"text": "Is this “tourist”? قال"}, format="json")
    assert first.status_code == 201, first.content
    assert (
        first.json()["text"] == "Is this “tourist”? قال" and first.json()["author_username"] == "cora_coder"
    )
    supervisor = api.as_user(team.supervisor)
    reply = supervisor.post(base(team, coding), {"text": "Yes", "parent": first.json()["id"]}, format="json")
    assert reply.status_code == 201 and reply.json()["parent"] == first.json()["id"]
    resolved = versioned(
        supervisor, "patch", base(team, coding) + f"{first.json()['id']}/", {"resolved": True}, format="json"
    )
    assert resolved.status_code == 200 and resolved.json()["resolved_by_username"] == "sam_supervisor"
    refused = versioned(
        supervisor,
        "patch",
        base(team, coding) + f"{first.json()['id']}/",
        {"text": "Mine now"},
        format="json",
    )
    assert refused.status_code == 403
    listed = api.as_user(team.viewer).get(base(team, coding))
    assert [c["id"] for c in listed.json()] == [first.json()["id"], reply.json()["id"]]
    assert api.as_user(team.viewer).post(base(team, coding), {"text": "x"}, format="json").status_code == 403
    gone = versioned(api.as_user(team.coder), "delete", base(team, coding) + f"{first.json()['id']}/")
    assert gone.status_code == 204
    assert not CodingComment.objects.exists()


def test_api_refuses_empty_text_unknown_fields_and_a_parent_elsewhere(team, api, coding):
    client = api.as_user(team.coder)
    assert "text" in client.post(base(team, coding), {"text": ""}, format="json").json()
    assert (
        "resolved" in client.post(base(team, coding), {"text": "a", "resolved": True}, format="json").json()
    )
    response = client.post(base(team, coding), {"text": "a", "parent": 987654}, format="json")
    assert response.status_code == 400 and "parent" in response.json()
    assert not CodingComment.objects.exists()


def test_comments_of_a_coding_in_another_project_are_404(team, api):
    theirs = coding_services.create_coding(
        interview=team.other_interview, code=team.other_code, coder=team.outsider, start=0, end=5
    )
    url = f"/api/projects/{team.project.pk}/codings/{theirs.pk}/comments/"
    assert api.as_user(team.owner).get(url).status_code == 404
    assert api.as_user(team.owner).post(url, {"text": "hi"}, format="json").status_code == 404


def test_blind_coding_hides_another_coders_coding_and_its_comments(team, api, coding):
    comments.add_comment(membership=membership(team, team.coder), coding=coding, text="Note to self")
    Assignment.objects.create(
        project=team.project,
        interview=team.interview,
        coder=team.coder2,
        blind=True,
        assigned_by=team.supervisor,
    )
    client = api.as_user(team.coder2)
    assert client.get(base(team, coding)).status_code == 404
    assert client.post(base(team, coding), {"text": "peek"}, format="json").status_code == 404
    with pytest.raises(Http404):
        comments.add_comment(membership=membership(team, team.coder2), coding=coding, text="peek")
    assert CodingComment.objects.count() == 1
    Reveal.objects.create(interview=team.interview, revealed_by=team.supervisor)
    assert client.get(base(team, coding)).status_code == 200
