"""Members through the API: only owners manage them, a project always keeps an owner."""

import pytest

from interviews.models import Membership, Role

from .db_state import row_counts, row_values
from .factories import UserFactory


def url(project, pk=None):
    base = f"/api/projects/{project.pk}/members/"
    return f"{base}{pk}/" if pk is not None else base


def membership(team, user):
    return Membership.objects.get(project=team.project, user=user)


def assert_refused(response, field, fragment=None, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert field in body, body
    message = " ".join(body[field])
    if fragment:
        assert fragment in message, message


def test_owner_adds_a_member(team, api):
    newcomer = UserFactory(username="nadia_new")
    response = api.as_user(team.owner).post(url(team.project), {"username": "nadia_new", "role": "coder"})
    assert response.status_code == 201, response.json()
    assert response.json()["username"] == "nadia_new"
    assert membership(team, newcomer).role == Role.CODER


def test_members_are_listed_with_their_roles(team, api):
    rows = api.as_user(team.viewer).get(url(team.project)).json()["results"]
    assert {r["username"]: r["role"] for r in rows} == {
        "olga_owner": "owner",
        "sam_supervisor": "supervisor",
        "cora_coder": "coder",
        "cody_coder": "coder",
        "vera_viewer": "viewer",
    }


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({"username": "nobody_here", "role": "coder"}, "username", "No active account"),
        ({"username": "cora_coder", "role": "coder"}, "username", "already a member"),
        ({"username": "nadia_new", "role": "admin"}, "role", None),
        ({"username": "nadia_new"}, "role", None),
        ({"username": "nadia_new", "role": "coder", "is_staff": True}, "is_staff", "cannot be set"),
        ({"username": "nadia_new", "role": "coder", "is_superuser": True}, "is_superuser", "cannot be set"),
        ({"username": "nadia_new", "role": "coder", "user": 1}, "user", "cannot be set"),
        ({"username": "nadia_new", "role": "coder", "project": 2}, "project", "cannot be set"),
    ],
)
def test_bad_member_input_is_refused_and_nothing_changes(team, api, payload, field, fragment):
    newcomer = UserFactory(username="nadia_new")
    before = row_counts(), row_values(Membership)
    # Adding someone twice conflicts with the membership there (409); the rest is bad input.
    status = 409 if fragment == "already a member" else 400
    assert_refused(api.as_user(team.owner).post(url(team.project), payload), field, fragment, status)
    assert (row_counts(), row_values(Membership)) == before
    newcomer.refresh_from_db()
    assert not newcomer.is_staff and not newcomer.is_superuser


def test_inactive_account_cannot_be_added(team, api):
    UserFactory(username="gone", is_active=False)
    response = api.as_user(team.owner).post(url(team.project), {"username": "gone", "role": "coder"})
    assert_refused(response, "username", "No active account")


def test_owner_changes_a_role_and_cannot_set_other_fields(team, api):
    m = membership(team, team.coder)
    client = api.as_user(team.owner)
    assert client.patch(url(team.project, m.pk), {"role": "supervisor"}).status_code == 200
    m.refresh_from_db()
    assert m.role == Role.SUPERVISOR
    before = row_values(Membership)
    assert_refused(client.patch(url(team.project, m.pk), {"role": "coder", "user": team.viewer.pk}), "user")
    assert_refused(client.patch(url(team.project, m.pk), {"role": "boss"}), "role")
    assert row_values(Membership) == before


def test_last_owner_cannot_be_removed_or_demoted(team, api):
    own = membership(team, team.owner)
    client = api.as_user(team.owner)
    before = row_values(Membership)
    assert_refused(client.delete(url(team.project, own.pk)), "role", "at least one owner")
    assert_refused(
        client.patch(url(team.project, own.pk), {"role": "supervisor"}), "role", "at least one owner"
    )
    assert row_values(Membership) == before


def test_owner_can_step_down_once_another_owner_exists(team, api):
    client = api.as_user(team.owner)
    sup = membership(team, team.supervisor)
    assert client.patch(url(team.project, sup.pk), {"role": "owner"}).status_code == 200
    own = membership(team, team.owner)
    assert client.patch(url(team.project, own.pk), {"role": "viewer"}).status_code == 200
    own.refresh_from_db()
    assert own.role == Role.VIEWER


def test_owner_removes_a_member(team, api):
    m = membership(team, team.viewer)
    assert api.as_user(team.owner).delete(url(team.project, m.pk)).status_code == 204
    assert not Membership.objects.filter(pk=m.pk).exists()
    assert api.as_user(team.viewer).get(url(team.project)).status_code == 404


@pytest.mark.parametrize("role", ["supervisor", "coder", "viewer"])
def test_only_owners_manage_members(team, api, role):
    UserFactory(username="nadia_new")
    client = api.as_user(team.member(role))
    target = membership(team, team.coder2)
    before = row_values(Membership)
    assert client.get(url(team.project)).status_code == 200
    assert client.post(url(team.project), {"username": "nadia_new", "role": "coder"}).status_code == 403
    assert client.patch(url(team.project, target.pk), {"role": "owner"}).status_code == 403
    assert client.delete(url(team.project, target.pk)).status_code == 403
    own = membership(team, team.member(role))
    assert client.patch(url(team.project, own.pk), {"role": "owner"}).status_code == 403
    assert row_values(Membership) == before


def test_outsider_gets_404_on_members(team, api):
    client = api.as_user(team.outsider)
    m = membership(team, team.coder)
    before = row_values(Membership)
    assert client.get(url(team.project)).status_code == 404
    assert client.get(url(team.project, m.pk)).status_code == 404
    assert client.post(url(team.project), {"username": "otto_outsider", "role": "owner"}).status_code == 404
    assert client.patch(url(team.project, m.pk), {"role": "viewer"}).status_code == 404
    assert client.delete(url(team.project, m.pk)).status_code == 404
    # A's membership ids through B's URLs.
    assert client.get(url(team.other_project, m.pk)).status_code == 404
    assert client.patch(url(team.other_project, m.pk), {"role": "viewer"}).status_code == 404
    assert client.delete(url(team.other_project, m.pk)).status_code == 404
    assert row_values(Membership) == before


def test_project_details_need_membership_and_owner_to_change(team, api):
    path = f"/api/projects/{team.project.pk}/"
    assert api.as_user(team.outsider).get(path).status_code == 404
    assert api.as_user(team.outsider).delete(path).status_code == 404
    assert api.as_user(team.viewer).get(path).json()["my_role"] == "viewer"
    assert api.as_user(team.supervisor).patch(path, {"name": "Renamed"}).status_code == 403
    assert api.as_user(team.supervisor).delete(path).status_code == 403
    response = api.as_user(team.owner).patch(path, {"name": "Renamed", "owner": team.outsider.pk})
    assert_refused(response, "owner", "cannot be set")
    assert api.as_user(team.owner).patch(path, {"name": "Renamed"}).json()["name"] == "Renamed"


def test_new_project_is_owned_by_its_creator(team, api):
    client = api.as_user(team.coder)
    response = client.post("/api/projects/", {"name": "My pilot"})
    assert response.status_code == 201, response.json()
    assert response.json()["my_role"] == "owner"
    assert_refused(client.post("/api/projects/", {"name": "x", "members": [1]}), "members")
    assert_refused(client.post("/api/projects/", {"name": "  "}), "name")
    names = [p["name"] for p in client.get("/api/projects/").json()["results"]]
    assert names == ["Belarus border study", "My pilot"]
