"""Codebook page: the tree with counts; supervisors and owners create, edit, move, merge and split."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from coding import selectors
from coding import services as coding_services
from coding.models import Code, Coding

from .conftest import make_interview


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(team):
    return reverse("codebook", args=[team.project.pk])


def code_snapshot(project):
    return list(
        Code.objects.filter(project=project)
        .order_by("id")
        .values_list("id", "name", "parent_id", "colour", "definition", "is_codable")
    )


def version_shown(client, team, code) -> str:
    """The version the codebook page puts in ``code``'s edit form (hidden), as a browser sends it."""
    shown = selectors.flatten_tree(client.get(page(team)).context["roots"])
    return next(c.edit_form for c in shown if c.pk == code.pk).initial["version"]


def new_code_data(**fields):
    data = {"new-name": "Forest crossing", "new-colour": "#2ca02c", "new-parent": ""}
    data.update({f"new-{k}": v for k, v in fields.items()})
    return data


def test_member_sees_codebook_tree_with_counts(team):
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder, start=0, end=5)
    coding_services.create_coding(interview=team.interview, code=team.code, coder=team.coder2, start=0, end=5)
    coding_services.update_code(
        code=team.code, definition="Entered on a tourist visa", example="I flew to Minsk"
    )
    response = client_for(team.viewer).get(page(team))
    assert response.status_code == 200
    roots = response.context["roots"]
    group = next(c for c in roots if c.pk == team.code_group.pk)
    child = group.subcodes[0]
    assert (child.pk, child.coding_count, child.interview_count, child.participant_count) == (
        team.code.pk,
        2,
        1,
        1,
    )
    body = response.content.decode()
    assert "Entered on a tourist visa" in body
    assert 'fill="#4e79a7"' in body
    assert "Create code" not in body and "Merge into" not in body


def test_outsider_gets_404_on_codebook(team):
    assert client_for(team.outsider).get(page(team)).status_code == 404


def test_anonymous_is_sent_to_login_from_codebook(team):
    response = Client().get(page(team))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_codebook_query_count_is_fixed(team, django_assert_num_queries):
    client = client_for(team.supervisor)
    client.get(page(team))
    with django_assert_num_queries(6):
        client.get(page(team))
    for n in range(10):
        coding_services.create_code(project=team.project, name=f"Extra {n}", parent=team.code_group)
    with django_assert_num_queries(6):
        response = client.get(page(team))
    assert response.context["code_count"] == 13


def test_supervisor_creates_a_code_under_a_parent(team):
    response = client_for(team.supervisor).post(
        reverse("code-create", args=[team.project.pk]),
        new_code_data(parent=team.code_group.pk, definition="Crossing through the forest"),
    )
    assert response.status_code == 302
    code = Code.objects.get(project=team.project, name="Forest crossing")
    assert (code.parent_id, code.colour, code.definition) == (
        team.code_group.pk,
        "#2ca02c",
        "Crossing through the forest",
    )
    assert response.url.endswith(f"#code-{code.pk}")


def test_duplicate_name_shows_message_next_to_name_and_writes_nothing(team):
    before = code_snapshot(team.project)
    response = client_for(team.supervisor).post(
        reverse("code-create", args=[team.project.pk]), new_code_data(name="prior PUSHBACK")
    )
    assert response.status_code == 400
    assert response.context["new_form"].errors["name"] == [
        "A code called 'prior PUSHBACK' already exists at the top level."
    ]
    assert code_snapshot(team.project) == before


def test_bad_colour_shows_message_and_writes_nothing(team):
    before = code_snapshot(team.project)
    client = client_for(team.supervisor)
    prefix = f"c{team.code2.pk}-edit"
    response = client.post(
        reverse("code-update", args=[team.project.pk, team.code2.pk]),
        {
            f"{prefix}-name": "Prior pushback",
            f"{prefix}-colour": "red",
            f"{prefix}-version": version_shown(client, team, team.code2),
        },
    )
    assert response.status_code == 400
    assert "#rrggbb" in response.content.decode()
    assert code_snapshot(team.project) == before


def test_supervisor_renames_recolours_and_defines_a_code(team):
    prefix = f"c{team.code2.pk}-edit"
    client = client_for(team.owner)
    response = client.post(
        reverse("code-update", args=[team.project.pk, team.code2.pk]),
        {
            f"{prefix}-version": version_shown(client, team, team.code2),
            f"{prefix}-name": "Earlier pushback",
            f"{prefix}-colour": "#d62728",
            f"{prefix}-definition": "Was pushed back before",
            f"{prefix}-inclusion_criteria": "Any earlier attempt",
            f"{prefix}-exclusion_criteria": "Hearsay",
            f"{prefix}-example": "They sent us back twice",
            f"{prefix}-shortcut": "p",
        },
    )
    assert response.status_code == 302
    team.code2.refresh_from_db()
    assert (team.code2.name, team.code2.colour, team.code2.shortcut) == ("Earlier pushback", "#d62728", "p")
    assert (team.code2.inclusion_criteria, team.code2.exclusion_criteria) == (
        "Any earlier attempt",
        "Hearsay",
    )


def test_supervisor_moves_a_code_and_cannot_move_it_under_itself(team):
    client = client_for(team.supervisor)
    move = reverse("code-move", args=[team.project.pk, team.code2.pk])
    response = client.post(move, {f"c{team.code2.pk}-move-parent": team.code_group.pk})
    assert response.status_code == 302
    team.code2.refresh_from_db()
    assert team.code2.parent_id == team.code_group.pk
    before = code_snapshot(team.project)
    response = client.post(
        reverse("code-move", args=[team.project.pk, team.code_group.pk]),
        {f"c{team.code_group.pk}-move-parent": team.code2.pk},
    )
    assert response.status_code == 400
    assert "cannot be moved under itself" in response.content.decode()
    assert code_snapshot(team.project) == before
    response = client.post(move, {f"c{team.code2.pk}-move-parent": ""})
    team.code2.refresh_from_db()
    assert team.code2.parent_id is None


def test_supervisor_merges_two_codes_and_the_codings_are_kept(team):
    coding = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder, start=3, end=9
    )
    response = client_for(team.supervisor).post(
        reverse("code-merge", args=[team.project.pk, team.code2.pk]),
        {f"c{team.code2.pk}-merge-target": team.code.pk},
    )
    assert response.status_code == 302
    assert not Code.objects.filter(pk=team.code2.pk).exists()
    coding.refresh_from_db()
    assert coding.code_id == team.code.pk


def test_merging_codings_into_a_folder_is_refused_with_message(team):
    coding_services.create_coding(interview=team.interview, code=team.code2, coder=team.coder, start=3, end=9)
    before = code_snapshot(team.project)
    response = client_for(team.supervisor).post(
        reverse("code-merge", args=[team.project.pk, team.code2.pk]),
        {f"c{team.code2.pk}-merge-target": team.code_group.pk},
    )
    assert response.status_code == 400
    assert "cannot be merged into a folder" in response.content.decode()
    assert code_snapshot(team.project) == before


@pytest.mark.parametrize("role", ["coder", "viewer"])
def test_coders_and_viewers_cannot_change_the_codebook(team, role):
    coding = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder, start=3, end=9
    )
    client = client_for(team.member(role))
    before = code_snapshot(team.project)
    pk = team.code2.pk
    attempts = [
        (reverse("code-create", args=[team.project.pk]), new_code_data()),
        (
            reverse("code-update", args=[team.project.pk, pk]),
            {f"c{pk}-edit-name": "X", f"c{pk}-edit-colour": "#000000"},
        ),
        (reverse("code-move", args=[team.project.pk, pk]), {f"c{pk}-move-parent": team.code_group.pk}),
        (reverse("code-merge", args=[team.project.pk, pk]), {f"c{pk}-merge-target": team.code.pk}),
        (
            reverse("code-split", args=[team.project.pk, pk]),
            {"target": team.code.pk, "codings": [coding.pk]},
        ),
    ]
    for url, data in attempts:
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("code-split", args=[team.project.pk, pk])).status_code == 403
    assert code_snapshot(team.project) == before
    coding.refresh_from_db()
    assert coding.code_id == pk


def test_codes_of_another_project_are_404(team):
    client = client_for(team.owner)
    url = reverse("code-move", args=[team.project.pk, team.other_code.pk])
    assert client.post(url, {f"c{team.other_code.pk}-move-parent": ""}).status_code == 404
    url = reverse("code-merge", args=[team.project.pk, team.code2.pk])
    response = client.post(url, {f"c{team.code2.pk}-merge-target": team.other_code.pk})
    assert response.status_code == 400
    assert Code.objects.filter(pk=team.code2.pk).exists()


def test_supervisor_splits_a_code_by_moving_ticked_passages(team):
    a = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder, start=0, end=5
    )
    b = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder, start=6, end=9
    )
    split = reverse("code-split", args=[team.project.pk, team.code2.pk])
    client = client_for(team.supervisor)
    response = client.get(split)
    assert response.status_code == 200
    assert team.interview.text[0:5] in response.content.decode()
    response = client.post(split, {"target": team.code.pk, "codings": [a.pk]})
    assert response.status_code == 302
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.code_id, b.code_id) == (team.code.pk, team.code2.pk)


def test_split_without_ticked_passages_shows_message_and_moves_nothing(team):
    a = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder, start=0, end=5
    )
    response = client_for(team.supervisor).post(
        reverse("code-split", args=[team.project.pk, team.code2.pk]), {"target": team.code.pk}
    )
    assert response.status_code == 400
    assert "Tick at least one passage" in response.content.decode()
    a.refresh_from_db()
    assert a.code_id == team.code2.pk


def test_split_code_service_moves_all_or_nothing(team):
    other = make_interview(team.participant, by=team.owner, title="Second")
    a = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder, start=0, end=5
    )
    b = coding_services.create_coding(interview=other, code=team.code2, coder=team.coder, start=0, end=5)
    # The target already has b's passage by the same coder: the whole split is refused.
    coding_services.create_coding(interview=other, code=team.code, coder=team.coder, start=0, end=5)
    with pytest.raises(ValidationError):
        coding_services.split_code(source=team.code2, target=team.code, codings=[a, b])
    assert set(Coding.objects.filter(code=team.code2).values_list("pk", flat=True)) == {a.pk, b.pk}
    with pytest.raises(ValidationError) as excinfo:
        coding_services.split_code(source=team.code, target=team.code2, codings=[a])
    assert "codings" in excinfo.value.message_dict
    assert coding_services.split_code(source=team.code2, target=team.code, codings=[a]) == 1
    a.refresh_from_db()
    assert a.code_id == team.code.pk


def test_malicious_code_name_is_escaped(team):
    coding_services.create_code(project=team.project, name="<img src=x onerror=alert(1)>")
    body = client_for(team.supervisor).get(page(team)).content.decode()
    assert "<img src=x onerror=alert(1)>" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_action_urls_check_access_before_the_method(team):
    create = reverse("code-create", args=[team.project.pk])
    response = client_for(team.supervisor).get(create)
    assert response.status_code == 302 and response.url == page(team)
    assert client_for(team.coder).get(create).status_code == 403
    assert client_for(team.outsider).get(create).status_code == 404
    assert Client().get(create).url.startswith(reverse("login"))
    assert client_for(team.supervisor).put(create).status_code == 405
