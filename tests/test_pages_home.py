"""Project home page: interviews with per-coder progress, and members (owners manage them)."""

import pytest
from django.test import Client
from django.urls import reverse

from coding import services as coding_services
from interviews import services
from interviews.models import Membership, Role

from .conftest import make_interview
from .factories import UserFactory


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def home(team):
    return reverse("project-home", args=[team.project.pk])


def test_member_sees_project_home_with_interviews_and_members(team):
    response = client_for(team.viewer).get(home(team))
    assert response.status_code == 200
    body = response.content.decode()
    assert team.interview.title in body
    assert "cora_coder" in body
    assert reverse("coding-view", args=[team.project.pk, team.interview.pk]) in body


def test_project_list_links_to_project_home(team):
    response = client_for(team.coder).get(reverse("project-list"))
    assert home(team) in response.content.decode()


def test_outsider_gets_404_on_project_home(team):
    assert client_for(team.outsider).get(home(team)).status_code == 404


def test_anonymous_is_sent_to_login_from_project_home(team):
    response = Client().get(home(team))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_project_home_shows_codings_per_coder_per_interview(team):
    text = team.interview.text
    for coder, (start, end) in [(team.coder, (0, 5)), (team.coder, (6, 12)), (team.coder2, (0, 5))]:
        coding_services.create_coding(
            interview=team.interview, code=team.code, coder=coder, start=start, end=end
        )
    response = client_for(team.viewer).get(home(team))
    interview = next(i for i in response.context["interviews"] if i.pk == team.interview.pk)
    coders = [u.username for u in response.context["coders"]]
    progress = dict(zip(coders, interview.per_coder, strict=True))
    assert progress["cora_coder"] == 2
    assert progress["cody_coder"] == 1
    assert progress["sam_supervisor"] == 0
    assert "vera_viewer" not in coders
    assert interview.coding_count == 3
    assert len(text) > 12


def test_project_home_query_count_does_not_grow_with_interviews(team, django_assert_num_queries):
    client = client_for(team.viewer)
    client.get(home(team))  # warm the session
    with django_assert_num_queries(9):
        client.get(home(team))
    for n in range(5):
        interview = make_interview(team.participant, by=team.owner, title=f"Extra {n}")
        coding_services.create_coding(interview=interview, code=team.code, coder=team.coder, start=0, end=4)
    with django_assert_num_queries(9):
        response = client.get(home(team))
    assert len(response.context["interviews"]) == 6


def test_owner_adds_a_member_by_username(team):
    newcomer = UserFactory(username="nina_new")
    response = client_for(team.owner).post(
        reverse("member-add", args=[team.project.pk]), {"username": "nina_new", "role": Role.CODER}
    )
    assert response.status_code == 302
    assert Membership.objects.get(project=team.project, user=newcomer).role == Role.CODER


def test_adding_an_unknown_username_shows_the_message_and_adds_nobody(team):
    before = Membership.objects.count()
    response = client_for(team.owner).post(
        reverse("member-add", args=[team.project.pk]), {"username": "nobody_here", "role": Role.CODER}
    )
    assert response.status_code == 400
    assert "Nobody with that username" in response.content.decode()
    assert Membership.objects.count() == before


def test_adding_an_existing_member_shows_the_service_message(team):
    response = client_for(team.owner).post(
        reverse("member-add", args=[team.project.pk]), {"username": "cora_coder", "role": Role.VIEWER}
    )
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert Membership.objects.get(project=team.project, user=team.coder).role == Role.CODER


def test_owner_changes_a_role_and_removes_a_member(team):
    member = Membership.objects.get(project=team.project, user=team.viewer)
    client = client_for(team.owner)
    response = client.post(
        reverse("member-role", args=[team.project.pk, member.pk]), {f"m{member.pk}-role": Role.CODER}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.CODER
    response = client.post(reverse("member-remove", args=[team.project.pk, member.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_last_owner_cannot_step_down_and_sees_why(team):
    member = Membership.objects.get(project=team.project, user=team.owner)
    response = client_for(team.owner).post(
        reverse("member-role", args=[team.project.pk, member.pk]), {f"m{member.pk}-role": Role.VIEWER}
    )
    assert response.status_code == 400
    assert "at least one owner" in response.content.decode()
    member.refresh_from_db()
    assert member.role == Role.OWNER


@pytest.mark.parametrize("role", ["supervisor", "coder", "viewer"])
def test_non_owners_see_members_read_only_and_cannot_change_them(team, role):
    client = client_for(team.member(role))
    body = client.get(home(team)).content.decode()
    assert "Add a member" not in body
    assert "Change role" not in body
    target = Membership.objects.get(project=team.project, user=team.coder2)
    assert (
        client.post(
            reverse("member-add", args=[team.project.pk]), {"username": "x", "role": "owner"}
        ).status_code
        == 403
    )
    response = client.post(
        reverse("member-role", args=[team.project.pk, target.pk]), {f"m{target.pk}-role": Role.OWNER}
    )
    assert response.status_code == 403
    assert client.post(reverse("member-remove", args=[team.project.pk, target.pk])).status_code == 403
    target.refresh_from_db()
    assert target.role == Role.CODER


def test_owner_cannot_touch_a_membership_of_another_project(team):
    foreign = Membership.objects.get(project=team.other_project, user=team.outsider)
    response = client_for(team.owner).post(reverse("member-remove", args=[team.project.pk, foreign.pk]))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


def test_member_names_are_escaped(team):
    rogue = UserFactory(username="rogue", first_name="<b>bold</b>")
    services.add_member(project=team.project, user=rogue, role=Role.VIEWER)
    body = client_for(team.viewer).get(home(team)).content.decode()
    assert "<b>bold</b>" not in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body


def test_member_action_urls_answer_get_like_pages(team):
    add = reverse("member-add", args=[team.project.pk])
    assert client_for(team.owner).get(add).url == home(team)
    assert client_for(team.supervisor).get(add).status_code == 403
    assert client_for(team.outsider).get(add).status_code == 404
