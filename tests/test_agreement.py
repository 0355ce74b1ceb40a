"""Agreement figures against the `krippendorff` package, hand computations and a textbook example."""

import math

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coding import services as coding_services
from coding.agreement import Coincidence, Unit, characters, cohen_kappa, discrete, project_agreement
from interviews import services
from interviews.models import Role

from .conftest import make_interview
from .factories import UserFactory


def test_binary_textbook_example_gives_alpha_0_095():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", binary data, two observers.
    first = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    second = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    c = Coincidence()
    for a, b in zip(first, second, strict=True):
        c.add_unit(a + b, 2)
    assert c.alpha == pytest.approx(1 - 19 * 4 / (14 * 6))
    assert round(c.alpha, 3) == 0.095
    assert c.percent_agreement == pytest.approx(0.6)


def test_kappa_matches_hand_computation():
    # 20 units: both 8, only a 2, only b 3, neither 7 → po = .75, pe = (.5*.55 + .5*.45) = .5
    assert cohen_kappa(8, 2, 3, 7) == pytest.approx((0.75 - 0.5) / 0.5)
    assert cohen_kappa(0, 0, 0, 10) is None


def expand(total: int, coded_by: dict) -> np.ndarray:
    """The per-character reliability matrix (coders × characters) the fast path never builds."""
    rows = []
    for intervals in coded_by.values():
        row = np.zeros(total)
        for s, e in intervals:
            row[s:e] = 1
        rows.append(row)
    return np.array(rows)


intervals_strategy = st.lists(
    st.tuples(st.integers(0, 59), st.integers(1, 20)).map(lambda t: (t[0], min(60, t[0] + t[1]))),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(intervals_strategy, min_size=2, max_size=4))
def test_character_alpha_and_kappa_match_expanded_computation(coder_intervals):
    coded_by = dict(enumerate(coder_intervals))
    result = characters([(0, 60)], coded_by)
    matrix = expand(60, coded_by)
    if len(np.unique(matrix)) < 2:
        assert result.alpha is None
    else:
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        assert result.alpha == pytest.approx(expected, abs=1e-9)
    agreed = np.all(matrix == matrix[0], axis=0).mean()
    assert result.percent_agreement == pytest.approx(agreed)
    for (a, b), kappa in result.kappas().items():
        x, y = matrix[a], matrix[b]
        po = (x == y).mean()
        pe = x.mean() * y.mean() + (1 - x.mean()) * (1 - y.mean())
        expected_kappa = None if pe == 1 else (po - pe) / (1 - pe)
        assert kappa == (pytest.approx(expected_kappa) if expected_kappa is not None else None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sets(st.integers(0, 14)), min_size=2, max_size=4),
    st.lists(st.booleans(), min_size=15, max_size=15),
)
def test_alpha_with_missing_data_matches_the_package(coded_sets, missing_mask):
    # Two groups of units: the first judged by all coders, the second (masked) by the first two only.
    all_units = [u for u in range(15) if not missing_mask[u]]
    few_units = [u for u in range(15) if missing_mask[u]]
    c = discrete(all_units, dict(enumerate(coded_sets)))
    c.merge(discrete(few_units, {0: coded_sets[0], 1: coded_sets[1]}))
    matrix = np.full((len(coded_sets), 15), np.nan)
    for coder, coded in enumerate(coded_sets):
        for unit in range(15):
            if not missing_mask[unit] or coder < 2:
                matrix[coder, unit] = 1.0 if unit in coded else 0.0
    values = matrix[~np.isnan(matrix)]
    if len(np.unique(values)) < 2:
        assert c.alpha is None
        return
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    if math.isnan(expected):
        assert c.alpha is None
    else:
        assert c.alpha == pytest.approx(expected, abs=1e-9)


@pytest.fixture
def coded_interviews(team):
    """Two coders on the same interview, with an interviewer turn that is not counted by default."""
    text = team.interview.text
    first_participant_turn = text.index("Participant:")
    codings = {
        team.coder: [(first_participant_turn, first_participant_turn + 30), (150, 190)],
        team.coder2: [(first_participant_turn + 5, first_participant_turn + 30), (0, 10)],
    }
    for coder, ranges in codings.items():
        for start, end in ranges:
            coding_services.create_coding(
                interview=team.interview, code=team.code, coder=coder, start=start, end=end
            )
    return team, codings


def test_project_agreement_counts_only_participant_speech_by_default(coded_interviews):
    team, codings = coded_interviews
    turns = list(team.interview.turns.order_by("start").values_list("start", "end", "role"))
    speech = [(s, e) for s, e, role in turns if role == "participant"]
    result = project_agreement(team.project, code_ids=[team.code.pk])
    # Independent: expand to characters, keep participant speech, ask the package.
    full = expand(team.interview.text_length, {c: r for c, r in codings.items()})
    keep = np.zeros(team.interview.text_length, dtype=bool)
    for s, e in speech:
        keep[s:e] = True
    expected = krippendorff.alpha(reliability_data=full[:, keep], level_of_measurement="nominal")
    assert result.per_code[team.code.pk].alpha == pytest.approx(expected)
    assert result.per_code[team.code.pk].units == keep.sum()

    with_interviewer = project_agreement(team.project, code_ids=[team.code.pk], count_interviewer=True)
    keep_all = np.zeros(team.interview.text_length, dtype=bool)
    for s, e, _ in turns:
        keep_all[s:e] = True
    expected_all = krippendorff.alpha(reliability_data=full[:, keep_all], level_of_measurement="nominal")
    assert with_interviewer.per_code[team.code.pk].alpha == pytest.approx(expected_all)


def test_turn_unit_codes_a_turn_when_any_coding_overlaps_it(coded_interviews):
    team, codings = coded_interviews
    result = project_agreement(team.project, unit=Unit.TURNS, code_ids=[team.code.pk], count_interviewer=True)
    turns = list(team.interview.turns.order_by("start").values_list("start", "end"))
    matrix = np.array(
        [[1.0 if any(s < te and e > ts for s, e in codings[c]) else 0.0 for ts, te in turns] for c in codings]
    )
    c = result.per_code[team.code.pk]
    assert c.units == len(turns)
    assert c.percent_agreement == pytest.approx(np.all(matrix == matrix[0], axis=0).mean())


def test_participant_unit_and_missing_coder(team):
    second = services.create_participant(project=team.project, pseudonym="LV-08")
    other = make_interview(second, by=team.owner)
    coder3 = UserFactory(username="third_coder")
    services.add_member(project=team.project, user=coder3, role=Role.CODER)
    for coder, interview in (
        (team.coder, team.interview),
        (team.coder2, team.interview),
        (team.coder, other),
    ):
        coding_services.create_coding(interview=interview, code=team.code, coder=coder, start=40, end=60)
    coding_services.create_coding(interview=other, code=team.code2, coder=coder3, start=40, end=60)
    result = project_agreement(team.project, unit=Unit.PARTICIPANTS, code_ids=[team.code.pk])
    c = result.per_code[team.code.pk]
    # LV-07: coder and coder2 both coded it; LV-08: coder yes, coder3 no (coder2 missing).
    matrix = np.array([[1, 1], [1, np.nan], [np.nan, 0]], dtype=float)
    assert c.alpha == pytest.approx(
        krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    )
    assert c.units == 2


def test_agreement_takes_a_fixed_number_of_queries(coded_interviews, django_assert_num_queries):
    team, _ = coded_interviews
    with django_assert_num_queries(5):
        # interviews, presence, codes, codings, turns
        project_agreement(team.project)


def test_supervisor_gets_agreement_figures_through_the_api(coded_interviews, api):
    team, _ = coded_interviews
    url = f"/api/projects/{team.project.pk}/agreement/"
    response = api.as_user(team.supervisor).get(url, {"unit": "characters", "code": [team.code.pk]})
    assert response.status_code == 200, response.json()
    body = response.json()
    expected = project_agreement(team.project, code_ids=[team.code.pk])
    assert body["codes"][0]["alpha"] == pytest.approx(expected.per_code[team.code.pk].alpha)
    assert body["codes"][0]["name"] == "Belarusian tourist visa"
    assert body["overall"]["kappa"][0]["coders"] == sorted([team.coder.pk, team.coder2.pk])


def test_agreement_api_refuses_bad_parameters_and_other_roles(coded_interviews, api):
    team, _ = coded_interviews
    url = f"/api/projects/{team.project.pk}/agreement/"
    supervisor = api.as_user(team.supervisor)
    assert supervisor.get(url, {"unit": "paragraphs"}).status_code == 400
    foreign = supervisor.get(url, {"code": [team.other_code.pk]})
    assert foreign.status_code == 400 and "code" in foreign.json()
    assert api.as_user(team.coder).get(url).status_code == 403
    assert api.as_user(team.outsider).get(url).status_code == 404
