"""The analytics API: access for every endpoint, parameter checking, query-grammar safety, saved queries."""

import pytest

from coding.models import Coding, SavedQuery
from interviews.models import Participant

from .analytics_data import build_study
from .factories import versioned


@pytest.fixture
def study(team):
    return build_study(team)


def endpoints(study):
    group = study.codes["Visa route"].pk
    return [
        "frequencies/",
        "matrix/?value=count&cluster=true",
        "cooccurrence/?mode=nearby&distance=10",
        f"crosstab/?group={group}&attribute=nationality",
        f"heterogeneity/?groups={group}&bootstrap=50",
        f"profiles/?groups={group}",
        'query/?q="Visa route"',
        "saturation/",
        "events/?attribute=crossing_attempts",
        "saved-queries/",
    ]


def url(study, path):
    return f"/api/projects/{study.team.project.pk}/analytics/{path}"


def test_outsider_gets_404_on_every_analytics_endpoint(study, api):
    client = api.as_user(study.team.outsider)
    for path in endpoints(study):
        response = client.get(url(study, path))
        assert response.status_code == 404, path


def test_anonymous_user_cannot_read_analytics(study, client):
    response = client.get(url(study, "frequencies/"))
    assert response.status_code in (401, 403, 404)


def test_viewer_can_read_every_analytics_endpoint(study, api):
    client = api.as_user(study.team.viewer)
    for path in endpoints(study):
        response = client.get(url(study, path))
        assert response.status_code == 200, (path, response.content[:300])


def test_viewer_cannot_save_a_query_but_coder_can(study, api):
    body = {"name": "Belarusian visa", "expression": '"Belarusian tourist visa"'}
    assert api.as_user(study.team.viewer).post(url(study, "saved-queries/"), body).status_code == 403
    response = api.as_user(study.team.coder).post(url(study, "saved-queries/"), body)
    assert response.status_code == 201, response.json()
    saved = response.json()["id"]
    run = api.as_user(study.team.viewer).get(url(study, f"saved-queries/{saved}/run/"))
    assert run.status_code == 200
    assert run.json()["k"] == 3


def test_coder_cannot_change_another_coders_saved_query_but_supervisor_can(study, api):
    team = study.team
    created = api.as_user(team.coder).post(
        url(study, "saved-queries/"), {"name": "A", "expression": '"No visa"'}
    )
    pk = created.json()["id"]
    patch = versioned(api.as_user(team.coder2), "patch", url(study, f"saved-queries/{pk}/"), {"name": "B"})
    assert patch.status_code == 403
    patch = versioned(
        api.as_user(team.supervisor), "patch", url(study, f"saved-queries/{pk}/"), {"name": "B"}
    )
    assert patch.status_code == 200
    assert versioned(api.as_user(team.coder), "delete", url(study, f"saved-queries/{pk}/")).status_code == 204
    assert not SavedQuery.objects.filter(pk=pk).exists()


def test_saved_query_of_another_project_is_not_found(study, api):
    other = SavedQuery.objects.create(
        project=study.team.other_project,
        name="Secret",
        expression='"Secret code"',
        created_by=study.team.outsider,
    )
    response = api.as_user(study.team.owner).get(url(study, f"saved-queries/{other.pk}/run/"))
    assert response.status_code == 404


def test_saving_an_invalid_query_is_refused_with_a_reason(study, api):
    response = api.as_user(study.team.coder).post(
        url(study, "saved-queries/"), {"name": "Broken", "expression": 'nationality = "Atlantis"'}
    )
    assert response.status_code == 400
    assert "Atlantis" in response.json()["expression"][0]


@pytest.mark.parametrize(
    "expression, fragment",
    [
        ("", "may not be blank"),
        ("(", "Expected"),
        ('"Visa route" AND', "Expected"),
        ('"Visa route" "No visa"', "Expected AND, OR"),
        ('nationality = "Iraq"); DROP TABLE coding_coding; --', "Unexpected character ';'"),
        ("1=1 OR 1=1", "Expected"),
        ("__import__('os').system('id')", "Unexpected character '.'"),
        ("interview__participant__pseudonym = 'LV-07'", "No attribute"),
        ("pk > 0", "No attribute 'pk'"),
        ('"Nonexistent code"', 'No code "Nonexistent code"'),
        ("code:999999", "No code with id 999999"),
        ('nationality = "Atlantis"', "not a value of nationality"),
        ("nationality > 3", "put the value in quotes"),
        ('crossing_attempts >= "many"', "compare it with a number"),
        ("nationality", "Compare nationality with a value"),
        ('arrived = "yesterday"', "YYYY-MM-DD"),
        ('participant_type = "spy"', "participant_type is one of"),
        ("(" * 60 + '"No visa"' + ")" * 60, "nests more than"),
        ('"x" OR ' * 400 + '"x"', "no more than 2000 characters"),
        ("\u202e\u0000", "Null characters are not allowed"),
    ],
)
def test_bad_query_gets_400_with_a_clear_message(study, api, expression, fragment):
    codings_before = Coding.objects.count()
    response = api.as_user(study.team.viewer).get(url(study, "query/"), {"q": expression})
    assert response.status_code == 400, response.content
    messages = " ".join(str(m) for m in response.json().get("q", response.json().get("query", [])))
    assert fragment in messages
    assert Coding.objects.count() == codings_before
    assert Participant.objects.filter(project=study.team.project).count() == 6


@pytest.mark.parametrize(
    "expression, fragment",
    [("   ", "Type an expression"), ('"x" OR ' * 400, "too long"), ("\u202e", "Unexpected character")],
)
def test_grammar_refuses_empty_overlong_and_odd_input(study, expression, fragment):
    from django.core.exceptions import ValidationError

    from coding import analytics

    with pytest.raises(ValidationError, match=fragment):
        analytics.run_query(analytics.make_scope(study.team.project), expression)


def test_bad_population_filter_gets_400_under_its_own_name(study, api):
    response = api.as_user(study.team.viewer).get(url(study, "frequencies/"), {"where": "shoe_size = 3"})
    assert response.status_code == 400
    assert "No attribute" in response.json()["where"][0]


def test_unknown_parameter_and_bad_values_get_400(study, api):
    client = api.as_user(study.team.viewer)
    assert client.get(url(study, "frequencies/"), {"sort": "x"}).status_code == 400
    assert client.get(url(study, "frequencies/"), {"unit": "tweets"}).status_code == 400
    assert client.get(url(study, "frequencies/"), {"status": "burnt"}).status_code == 400
    assert client.get(url(study, "frequencies/"), {"coder": study.team.outsider.pk}).status_code == 400
    assert (
        client.get(url(study, "crosstab/"), {"group": 999999, "attribute": "nationality"}).status_code == 400
    )
    assert client.get(url(study, "cooccurrence/"), {"distance": -1}).status_code == 400
    assert client.get(url(study, "heterogeneity/"), {"groups": "1,x"}).status_code == 400


def test_other_projects_code_is_unknown_in_queries(study, api):
    response = api.as_user(study.team.owner).get(
        url(study, "query/"), {"q": f"code:{study.team.other_code.pk}"}
    )
    assert response.status_code == 400


def test_query_endpoint_answers_the_seed_question(study, api):
    response = api.as_user(study.team.viewer).get(
        url(study, "query/"),
        {"q": '"Visa route/Belarusian tourist visa" AND ("Persecution ground" OR "Prior pushback")'},
    )
    body = response.json()
    assert (body["k"], body["n"]) == (2, 6)
    assert body["sentence"].startswith("2 of 6 participants match")
    assert body["participants"][0]["link"].startswith(
        f"/projects/{study.team.project.pk}/retrieve/?participant="
    )


def test_analytics_endpoints_are_read_only(study, api):
    response = api.as_user(study.team.owner).post(url(study, "frequencies/"), {})
    assert response.status_code == 405
