"""The codebook through the API: names unique among siblings, a tree without cycles, roles."""

import pytest

from coding import services as coding_services
from coding.models import Code, Coding, Memo

from .db_state import row_counts, row_values
from .factories import versioned


def url(project, pk=None, action=None):
    base = f"/api/projects/{project.pk}/codes/"
    if pk is None:
        return base
    return f"{base}{pk}/{action}/" if action else f"{base}{pk}/"


def assert_refused(response, field, fragment=None, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert field in body, body
    message = " ".join(body[field])
    if fragment:
        assert fragment in message, message
    return message


def test_supervisor_creates_a_code_under_a_group(team, api):
    response = api.as_user(team.supervisor).post(
        url(team.project),
        {"name": "Russian visa", "parent": team.code_group.pk, "colour": "#aa3300", "definition": "d"},
    )
    assert response.status_code == 201, response.json()
    code = Code.objects.get(pk=response.json()["id"])
    assert (code.parent, code.project, code.colour) == (team.code_group, team.project, "#aa3300")


@pytest.mark.parametrize(
    ("name", "parent"),
    [
        ("Belarusian tourist visa", "code_group"),
        ("belarusian TOURIST visa", "code_group"),
        ("  Belarusian tourist visa  ", "code_group"),
        ("Prior pushback", None),
        ("PRIOR PUSHBACK", None),
        ("visa route", None),
    ],
)
def test_duplicate_name_among_siblings_is_refused(team, api, name, parent):
    before = row_counts()
    payload = {"name": name}
    if parent:
        payload["parent"] = getattr(team, parent).pk
    response = api.as_user(team.supervisor).post(url(team.project), payload)
    assert_refused(response, "name", fragment="already exists", status=409)
    assert row_counts() == before


def test_duplicate_name_ignores_case_beyond_ascii(team, api):
    client = api.as_user(team.supervisor)
    assert client.post(url(team.project), {"name": "Şengal"}).status_code == 201
    assert client.post(url(team.project), {"name": "Überfahrt"}).status_code == 201
    before = row_counts()
    assert_refused(client.post(url(team.project), {"name": "şengal"}), "name", status=409)
    assert_refused(client.post(url(team.project), {"name": "ÜBERFAHRT"}), "name", status=409)
    assert row_counts() == before


def test_same_name_under_different_parents_is_allowed(team, api):
    client = api.as_user(team.supervisor)
    response = client.post(url(team.project), {"name": "Prior pushback", "parent": team.code_group.pk})
    assert response.status_code == 201, response.json()
    other = client.post(url(team.project), {"name": "Belarusian tourist visa"})
    assert other.status_code == 201


def test_same_name_in_another_project_is_allowed(team, api):
    response = api.as_user(team.outsider).post(url(team.other_project), {"name": "Prior pushback"})
    assert response.status_code == 201


def test_rename_onto_a_siblings_name_is_refused(team, api):
    sibling = coding_services.create_code(project=team.project, name="Russian visa", parent=team.code_group)
    before = row_values(Code)
    response = versioned(
        api.as_user(team.supervisor),
        "patch",
        url(team.project, sibling.pk),
        {"name": "BELARUSIAN tourist visa"},
    )
    assert_refused(response, "name", fragment="already exists under 'Visa route'", status=409)
    assert row_values(Code) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Ok", "colour": "red"}, "colour"),
        ({"name": "Ok", "colour": "#12345g"}, "colour"),
        ({"name": "Ok", "order": -1}, "order"),
        ({"name": "Ok", "shortcut": "ab"}, "shortcut"),
        ({"name": "Ok", "parent": 99999}, "parent"),
        ({"name": "Ok", "project": 1}, "project"),
        ({"name": "Ok", "coding_count": 3}, "coding_count"),
        ({"name": "Ok", "guid": "x"}, "guid"),
    ],
)
def test_bad_code_input_is_refused(team, api, payload, field):
    before = row_counts()
    assert_refused(api.as_user(team.supervisor).post(url(team.project), payload), field)
    assert row_counts() == before


def test_shortcut_clash_is_refused(team, api):
    coding_services.update_code(code=team.code, shortcut="v")
    response = api.as_user(team.supervisor).post(url(team.project), {"name": "New", "shortcut": "v"})
    assert_refused(response, "shortcut", fragment="Belarusian tourist visa")


def test_parent_cannot_be_changed_by_patch(team, api):
    before = row_values(Code)
    response = versioned(
        api.as_user(team.supervisor),
        "patch",
        url(team.project, team.code2.pk),
        {"parent": team.code_group.pk},
    )
    assert_refused(response, "parent", fragment="cannot be set")
    assert row_values(Code) == before


def test_parent_of_another_project_is_not_found(team, api):
    before = row_counts()
    response = api.as_user(team.supervisor).post(
        url(team.project), {"name": "Sneaky", "parent": team.other_code.pk}
    )
    assert_refused(response, "parent", fragment="No such code in this project")
    assert row_counts() == before


# ---------------------------------------------------------------- move


def test_move_code_under_another_parent(team, api):
    response = api.as_user(team.supervisor).post(
        url(team.project, team.code2.pk, "move"), {"parent": team.code_group.pk, "order": 4}
    )
    assert response.status_code == 200, response.json()
    team.code2.refresh_from_db()
    assert (team.code2.parent, team.code2.order) == (team.code_group, 4)
    back = api.as_user(team.supervisor).post(url(team.project, team.code2.pk, "move"), {"parent": None})
    assert back.status_code == 200
    team.code2.refresh_from_db()
    assert team.code2.parent is None


def test_move_code_under_itself_is_refused(team, api):
    before = row_values(Code)
    response = api.as_user(team.supervisor).post(
        url(team.project, team.code_group.pk, "move"), {"parent": team.code_group.pk}
    )
    assert_refused(response, "parent", fragment="under itself")
    assert row_values(Code) == before


def test_move_code_under_its_descendant_is_refused(team, api):
    grandchild = coding_services.create_code(project=team.project, name="Via Minsk airport", parent=team.code)
    before = row_values(Code)
    for target in (team.code, grandchild):
        response = api.as_user(team.supervisor).post(
            url(team.project, team.code_group.pk, "move"), {"parent": target.pk}
        )
        assert_refused(response, "parent", fragment="own sub-codes")
    assert row_values(Code) == before


def test_move_next_to_a_code_of_the_same_name_is_refused(team, api):
    coding_services.create_code(project=team.project, name="prior PUSHBACK", parent=team.code_group)
    before = row_values(Code)
    response = api.as_user(team.supervisor).post(
        url(team.project, team.code2.pk, "move"), {"parent": team.code_group.pk}
    )
    assert_refused(response, "name", fragment="already exists", status=409)
    assert row_values(Code) == before


def test_move_under_a_code_of_another_project_is_not_found(team, api):
    response = api.as_user(team.supervisor).post(
        url(team.project, team.code2.pk, "move"), {"parent": team.other_code.pk}
    )
    assert_refused(response, "parent", fragment="No such code")


# ---------------------------------------------------------------- merge


def test_merge_into_itself_is_refused(team, api):
    before = row_counts()
    response = api.as_user(team.supervisor).post(
        url(team.project, team.code.pk, "merge"), {"target": team.code.pk}
    )
    assert_refused(response, "target", fragment="different code")
    assert row_counts() == before


def test_merge_into_own_sub_code_is_refused(team, api):
    before = row_counts()
    response = api.as_user(team.supervisor).post(
        url(team.project, team.code_group.pk, "merge"), {"target": team.code.pk}
    )
    assert_refused(response, "target")
    assert row_counts() == before


def test_merge_into_a_code_of_another_project_is_not_found(team, api):
    before = row_counts()
    response = api.as_user(team.supervisor).post(
        url(team.project, team.code2.pk, "merge"), {"target": team.other_code.pk}
    )
    assert_refused(response, "target", fragment="No such code")
    assert row_counts() == before


def test_merge_moves_codings_memos_and_sub_codes_and_folds_duplicates(team, api):
    iv = team.interview
    child = coding_services.create_code(project=team.project, name="Child of pushback", parent=team.code2)
    same = coding_services.create_coding(
        interview=iv, code=team.code2, coder=team.coder, start=0, end=5, comment="a"
    )
    coding_services.create_coding(interview=iv, code=team.code, coder=team.coder, start=0, end=5, comment="b")
    moved = coding_services.create_coding(interview=iv, code=team.code2, coder=team.coder, start=3, end=9)
    memo = coding_services.create_memo(
        project=team.project, author=team.coder, text="on code", target=team.code2
    )
    coding_memo = coding_services.create_memo(
        project=team.project, author=team.coder, text="on it", target=same
    )
    response = api.as_user(team.supervisor).post(
        url(team.project, team.code2.pk, "merge"), {"target": team.code.pk}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["coding_count"] == 2
    assert not Code.objects.filter(pk=team.code2.pk).exists()
    moved.refresh_from_db()
    child.refresh_from_db()
    memo.refresh_from_db()
    coding_memo.refresh_from_db()
    assert moved.code == team.code
    assert child.parent == team.code
    assert memo.code == team.code
    assert (coding_memo.kind, coding_memo.code) == ("code", team.code)
    survivor = Coding.objects.get(code=team.code, start=0, end=5)
    assert "a" in survivor.comment and "b" in survivor.comment
    assert Memo.objects.count() == 2


def test_merge_refused_when_a_sub_code_name_clashes_and_nothing_moves(team, api):
    coding_services.create_code(project=team.project, name="Same", parent=team.code2)
    coding_services.create_code(project=team.project, name="same", parent=team.code)
    coding_services.create_coding(interview=team.interview, code=team.code2, coder=team.coder, start=0, end=5)
    before = row_values(Code), row_values(Coding)
    response = api.as_user(team.supervisor).post(
        url(team.project, team.code2.pk, "merge"), {"target": team.code.pk}
    )
    assert_refused(response, "name", status=409)
    assert (row_values(Code), row_values(Coding)) == before


# ---------------------------------------------------------------- folders and deletion


def test_code_with_codings_cannot_become_a_folder(team, api):
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder, start=0, end=5)
    response = versioned(
        api.as_user(team.supervisor), "patch", url(team.project, team.code.pk), {"is_codable": False}
    )
    assert_refused(response, "is_codable", fragment="has codings")
    team.code.refresh_from_db()
    assert team.code.is_codable


def test_code_with_codings_or_children_cannot_be_deleted(team, api):
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder, start=0, end=5)
    client = api.as_user(team.supervisor)
    before = row_counts()
    assert_refused(
        versioned(client, "delete", url(team.project, team.code.pk)),
        "code",
        fragment="applied 1 time",
    )
    assert_refused(
        versioned(client, "delete", url(team.project, team.code_group.pk)),
        "code",
        fragment="sub-codes",
    )
    assert row_counts() == before
    assert versioned(client, "delete", url(team.project, team.code2.pk)).status_code == 204


def test_codebook_lists_counts(team, api):
    iv = team.interview
    coding_services.create_coding(interview=iv, code=team.code, coder=team.coder, start=0, end=5)
    coding_services.create_coding(interview=iv, code=team.code, coder=team.coder2, start=0, end=5)
    rows = {r["name"]: r for r in api.as_user(team.viewer).get(url(team.project)).json()["results"]}
    assert (
        rows["Belarusian tourist visa"]["coding_count"],
        rows["Belarusian tourist visa"]["interview_count"],
    ) == (
        2,
        1,
    )
    assert rows["Belarusian tourist visa"]["participant_count"] == 1
    assert rows["Prior pushback"]["coding_count"] == 0
    assert "Secret code" not in rows


# ---------------------------------------------------------------- roles


@pytest.mark.parametrize("role", ["coder", "viewer"])
def test_coder_and_viewer_cannot_edit_the_codebook(team, api, role):
    client = api.as_user(team.member(role))
    before = row_counts(), row_values(Code)
    assert client.get(url(team.project)).status_code == 200
    assert client.post(url(team.project), {"name": "Mine"}).status_code == 403
    assert versioned(client, "patch", url(team.project, team.code.pk), {"name": "Renamed"}).status_code == 403
    assert versioned(client, "delete", url(team.project, team.code2.pk)).status_code == 403
    assert client.post(url(team.project, team.code2.pk, "move"), {"parent": None}).status_code == 403
    assert client.post(url(team.project, team.code2.pk, "merge"), {"target": team.code.pk}).status_code == 403
    assert (row_counts(), row_values(Code)) == before


@pytest.mark.parametrize("role", ["supervisor", "owner"])
def test_supervisor_and_owner_edit_the_codebook(team, api, role):
    client = api.as_user(team.member(role))
    response = versioned(
        client, "patch", url(team.project, team.code2.pk), {"name": "Prior pushback (any country)"}
    )
    assert response.status_code == 200, response.json()
    team.code2.refresh_from_db()
    assert team.code2.name == "Prior pushback (any country)"


def test_outsider_gets_404_on_the_codebook(team, api):
    client = api.as_user(team.outsider)
    before = row_values(Code)
    assert client.get(url(team.project)).status_code == 404
    assert client.get(url(team.project, team.code.pk)).status_code == 404
    assert client.post(url(team.project), {"name": "x"}).status_code == 404
    assert client.patch(url(team.project, team.code.pk), {"name": "x"}).status_code == 404
    assert client.delete(url(team.project, team.code2.pk)).status_code == 404
    assert client.post(url(team.project, team.code2.pk, "merge"), {"target": team.code.pk}).status_code == 404
    assert client.get(url(team.other_project, team.code.pk)).status_code == 404
    assert client.patch(url(team.other_project, team.code.pk), {"name": "x"}).status_code == 404
    merge_in = client.post(url(team.other_project, team.other_code.pk, "merge"), {"target": team.code.pk})
    assert_refused(merge_in, "target", fragment="No such code")
    move_in = client.post(url(team.other_project, team.other_code.pk, "move"), {"parent": team.code.pk})
    assert_refused(move_in, "parent", fragment="No such code")
    assert row_values(Code) == before
