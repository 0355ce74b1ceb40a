"""Every analytic on the hand-worked study of tests/analytics_data.py (expected numbers worked by hand)."""

import math

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st_
from scipy.stats import entropy

from coding import analytics, services
from coding import stats as st

from .analytics_data import LINE2, build_study


@pytest.fixture
def study(team):
    return build_study(team)


def by_name(rows):
    return {r["name"]: r for r in rows}


def scope(study, **kwargs):
    return analytics.make_scope(study.team.project, **kwargs)


# ---------------------------------------------------------------- 1 frequencies


def test_frequencies_count_participants_and_roll_up_to_groups(study):
    result = analytics.code_frequencies(scope(study))
    rows = by_name(result["rows"])
    assert result["n"] == 6
    assert rows["Visa route"]["count"] == 4  # P1, P2, P3, P4
    assert rows["Belarusian tourist visa"]["count"] == 3
    assert rows["Russian visa"]["count"] == 1
    assert rows["No visa"]["count"] == 1
    assert rows["Persecution ground"]["count"] == 2
    assert rows["Prior pushback"]["count"] == 1  # P4's is in an interviewer turn
    assert rows["Belarusian tourist visa"]["share"] == pytest.approx(3 / 6)
    assert rows["Belarusian tourist visa"]["link"].endswith(f"?code={study.codes['BTV'].pk}")
    assert rows["Visa route"]["link"].endswith(f"?code={study.codes['Visa route'].pk}&descendants=on")


def test_frequencies_include_interviewer_turns_on_request(study):
    rows = by_name(analytics.code_frequencies(scope(study, include_interviewer=True))["rows"])
    assert rows["Prior pushback"]["count"] == 2


def test_interview_without_turns_counts_wholly(study):
    interview = study.interviews["P5"]
    interview.turns.all().delete()
    services.create_coding(
        interview=interview, code=study.codes["Prior pushback"], coder=study.team.coder, start=0, end=5
    )
    rows = by_name(analytics.code_frequencies(scope(study))["rows"])
    assert rows["Prior pushback"]["count"] == 2


def test_frequencies_in_other_units(study):
    interviews = by_name(analytics.code_frequencies(scope(study, unit="interviews"))["rows"])
    assert interviews["Visa route"]["count"] == 4
    codings = analytics.code_frequencies(scope(study, unit="codings"))
    rows = by_name(codings["rows"])
    assert rows["Visa route"]["count"] == 5  # BTV ×3, Russian, No visa
    assert codings["n"] == 8  # all codings but the interviewer-turn one
    words = by_name(analytics.code_frequencies(scope(study, unit="words"))["rows"])
    text = study.interviews["P1"].text
    line2_words = len(text[LINE2[0] : LINE2[1]].split(" "))
    assert words["No visa"]["count"] == line2_words


def test_frequencies_per_coder_and_coder_filter(study):
    team = study.team
    services.create_coding(
        interview=study.interviews["P5"],
        code=study.codes["BTV"],
        coder=team.coder2,
        start=LINE2[0],
        end=LINE2[1],
    )
    result = analytics.code_frequencies(scope(study))
    rows = by_name(result["rows"])
    assert rows["Belarusian tourist visa"]["count"] == 4
    assert rows["Belarusian tourist visa"]["per_coder"] == {str(team.coder.pk): 3, str(team.coder2.pk): 1}
    only = by_name(analytics.code_frequencies(scope(study, coder_id=team.coder2.pk))["rows"])
    assert only["Belarusian tourist visa"]["count"] == 1
    assert only["Visa route"]["count"] == 1


def test_status_and_population_filters_change_n(study):
    from interviews.services import set_interview_status

    set_interview_status(interview=study.interviews["P1"], status="coded")
    coded = analytics.code_frequencies(scope(study, statuses=["coded"]))
    assert coded["n"] == 1
    assert by_name(coded["rows"])["Taliban"]["count"] == 1
    iraq = analytics.code_frequencies(scope(study, where='nationality = "Iraq"'))
    assert iraq["n"] == 3
    assert by_name(iraq["rows"])["Belarusian tourist visa"]["count"] == 1


def test_frequencies_take_a_fixed_number_of_queries(study, django_assert_max_num_queries):
    s = scope(study)
    # codebook, N, totals, per coder, coders (+ on PostgreSQL a savepoint and SET LOCAL per aggregate)
    with django_assert_max_num_queries(11):
        analytics.code_frequencies(s)


# ---------------------------------------------------------------- 4 crosstab


def test_crosstab_visa_route_by_nationality_with_percentages(study):
    result = analytics.crosstab(scope(study), group=study.codes["Visa route"].pk, attribute="nationality")
    labels = [c["label"] for c in result["columns"]]
    assert labels == ["Afghanistan", "Iraq", "Syria", "(no value)"]
    assert [c["n"] for c in result["columns"]] == [1, 3, 1, 1]
    rows = by_name(result["rows"])
    btv = rows["Belarusian tourist visa"]
    assert btv["n"] == 3
    assert [c["count"] for c in btv["cells"]] == [1, 1, 1, 0]
    assert [c["row_pct"] for c in btv["cells"]] == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0])
    assert [c["col_pct"] for c in btv["cells"]] == pytest.approx([1, 1 / 3, 1, 0])
    assert [c["count"] for c in rows["No visa"]["cells"]] == [0, 1, 0, 0]
    assert btv["cells"][1]["link"].endswith(f"?code={study.codes['BTV'].pk}&attr=nationality&value=Iraq")
    assert result["rows"][0]["link"] == btv["link"]


def test_crosstab_by_code_derived_attribute(study):
    result = analytics.crosstab(
        scope(study),
        group=study.codes["Visa route"].pk,
        attribute=f"code:{study.codes['Persecution ground'].pk}",
    )
    assert [c["label"] for c in result["columns"]] == ["yes", "no"]
    assert [c["n"] for c in result["columns"]] == [2, 4]
    btv = by_name(result["rows"])["Belarusian tourist visa"]
    assert [c["count"] for c in btv["cells"]] == [2, 1]


def test_crosstab_by_boolean_attribute_and_participant_type(study):
    result = analytics.crosstab(
        scope(study), group=study.codes["Visa route"].pk, attribute="has_legal_representation"
    )
    assert [c["label"] for c in result["columns"]] == ["yes", "no", "(no value)"]
    assert [c["n"] for c in result["columns"]] == [1, 1, 4]
    ptype = analytics.crosstab(scope(study), group=study.codes["Visa route"].pk, attribute="participant_type")
    assert ptype["columns"][0]["label"] == "border_crosser"
    assert ptype["columns"][0]["n"] == 6


def test_crosstab_refuses_unknown_attribute_and_non_group(study):
    with pytest.raises(ValidationError, match="No attribute"):
        analytics.crosstab(scope(study), group=study.codes["Visa route"].pk, attribute="shoe_size")
    with pytest.raises(ValidationError, match="not a group"):
        analytics.crosstab(scope(study), group=study.codes["BTV"].pk, attribute="nationality")


# ---------------------------------------------------------------- 5 heterogeneity


def test_heterogeneity_of_visa_route_with_fractional_weights(study):
    result = analytics.heterogeneity(scope(study), groups=[study.codes["Visa route"].pk])
    group = result["groups"][0]
    # P1 BTV, P2 BTV, P3 ½ BTV + ½ Russian, P4 No visa → shares 2.5/4, 0.5/4, 1/4
    shares = {c["name"]: c["share"] for c in group["categories"]}
    assert shares == pytest.approx({"Belarusian tourist visa": 0.625, "Russian visa": 0.125, "No visa": 0.25})
    p = [0.625, 0.125, 0.25]
    assert group["richness"] == 3
    assert group["shannon"] == pytest.approx(entropy(p))
    assert group["evenness"] == pytest.approx(entropy(p) / math.log(3))
    assert group["gini_simpson"] == pytest.approx(0.53125)
    assert (group["n_coded"], group["not_coded"], group["multiple"]) == (4, 2, 1)
    low, high = group["ci"]["gini_simpson"]
    assert 0 <= low <= 0.53125 <= high <= 1
    assert "53% of the time" in group["sentence"]


def test_heterogeneity_is_reproducible_with_its_seed(study):
    s = scope(study)
    first = analytics.heterogeneity(s, groups=[study.codes["Visa route"].pk], seed=7)
    again = analytics.heterogeneity(s, groups=[study.codes["Visa route"].pk], seed=7)
    assert first["groups"][0]["ci"] == again["groups"][0]["ci"]


def test_bootstrap_interval_matches_a_plain_loop():
    weights = st.fractional_weights(np.array([[1, 0, 0], [1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0]]))
    result = st.diversity(weights, bootstrap=500, seed=3)
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 5, size=(500, 5))
    values = []
    for row in idx:
        p = weights[row].mean(axis=0)
        values.append(1 - sum(x * x for x in p))
    assert result["ci"]["gini_simpson"] == pytest.approx(list(np.percentile(values, [2.5, 97.5])))


def test_diversity_statistics_against_scipy():
    rng = np.random.default_rng(11)
    presence = (rng.random((40, 5)) < 0.3).astype(float)
    presence = presence[presence.sum(axis=1) > 0]
    weights = st.fractional_weights(presence)
    result = st.diversity(weights, bootstrap=0)
    p = weights.sum(axis=0) / weights.shape[0]
    assert result["shannon"] == pytest.approx(entropy(p))
    assert result["gini_simpson"] == pytest.approx(1 - float((p**2).sum()))
    assert result["evenness"] == pytest.approx(entropy(p) / math.log((p > 0).sum()))
    assert sum(result["shares"]) == pytest.approx(1)


def test_one_category_has_no_evenness():
    result = st.diversity(np.array([[1.0], [1.0], [1.0]]), bootstrap=100)
    assert result["evenness"] is None
    assert result["shannon"] == 0
    assert result["gini_simpson"] == 0


def test_wilson_interval_matches_published_values():
    low, high = st.wilson_interval(2, 6)
    assert (low, high) == pytest.approx((0.0968, 0.7000), abs=1e-4)
    low, high = st.wilson_interval(0, 10)
    assert low == 0 and high == pytest.approx(0.2775, abs=1e-4)
    assert st.wilson_interval(0, 0) is None


def test_median_from_frequencies():
    assert st.median_from_frequencies([(1, 1), (2, 1), (5, 1), (10, 1)]) == 3.5
    assert st.median_from_frequencies([(3, 2), (1, 1)]) == 3
    assert st.median_from_frequencies([]) is None


# ---------------------------------------------------------------- 7 profile query


@pytest.mark.parametrize(
    "expression, expected",
    [
        ('"Belarusian tourist visa" AND ("Persecution ground" OR "Prior pushback")', ["P1", "P2"]),
        ('"Visa route/Belarusian tourist visa" AND nationality = "Iraq"', ["P3"]),
        ("crossing_attempts >= 3", ["P1", "P3"]),
        ('NOT "Visa route"', ["LV-07", "P5"]),
        ('nationality != "Iraq"', ["P1", "P2"]),
        ("has_legal_representation", ["P1"]),
        ("has_legal_representation = false", ["P2"]),
        ('arrived < "2021-12-01"', ["P1"]),
        ('participant_type = "border_crosser" and not code:{no_visa}', ["LV-07", "P1", "P2", "P3", "P5"]),
        ('"prior PUSHBACK" or crossing_attempts < 2', ["P1", "P4"]),
    ],
)
def test_profile_query_matches_the_right_participants(study, expression, expected):
    expression = expression.replace("{no_visa}", str(study.codes["No visa"].pk))
    result = analytics.run_query(scope(study), expression)
    assert [p["pseudonym"] for p in result["participants"]] == expected
    assert result["k"] == len(expected)
    assert result["n"] == 6
    low, high = result["ci"]
    assert (low, high) == pytest.approx(st.wilson_interval(len(expected), 6))


def test_profile_query_reports_what_else_matches_share(study):
    result = analytics.run_query(scope(study), '"Belarusian tourist visa"')
    also = by_name(result["also_coded"])
    assert also["Persecution ground"]["count"] == 2
    assert also["Prior pushback"]["count"] == 1
    assert "Russian visa" in also and "No visa" not in also


def test_saved_query_is_checked_when_saved(study):
    team = study.team
    saved = services.create_saved_query(
        project=team.project,
        created_by=team.coder,
        name="Came on a Belarusian visa",
        expression='"BELARUSIAN tourist visa"',
    )
    assert saved.pk
    with pytest.raises(ValidationError, match="No code"):
        services.create_saved_query(
            project=team.project, created_by=team.coder, name="x", expression='"Nope"'
        )
    with pytest.raises(ValidationError, match="already has"):
        services.create_saved_query(
            project=team.project,
            created_by=team.coder,
            name="came on a belarusian visa",
            expression="true_or",
        )


# ---------------------------------------------------------------- 2 matrix, 3 co-occurrence, 6 profiles


def test_matrix_presence_count_and_coverage(study):
    s = scope(study)
    result = analytics.participant_code_matrix(s, value="count", group=study.codes["Visa route"].pk)
    names = [c["name"] for c in result["codes"]]
    rows = {r["pseudonym"]: dict(zip(names, r["values"], strict=True)) for r in result["rows"]}
    assert rows["P3"] == {"Belarusian tourist visa": 1, "No visa": 0, "Russian visa": 1}
    assert rows["P5"] == {"Belarusian tourist visa": 0, "No visa": 0, "Russian visa": 0}
    coverage = analytics.participant_code_matrix(s, value="coverage", group=study.codes["Visa route"].pk)
    p4 = next(r for r in coverage["rows"] if r["pseudonym"] == "P4")
    assert p4["values"][names.index("No visa")] == LINE2[1] - LINE2[0]


def test_matrix_sorted_by_attribute_and_clustered(study):
    s = scope(study)
    result = analytics.participant_code_matrix(s, sort="nationality")
    assert [r["pseudonym"] for r in result["rows"]] == ["P1", "P3", "P4", "P5", "P2", "LV-07"]
    clustered = analytics.participant_code_matrix(s, cluster=True)
    assert sorted(r["pseudonym"] for r in clustered["rows"]) == ["LV-07", "P1", "P2", "P3", "P4", "P5"]


def test_cooccurrence_overlap_nearby_and_participant(study):
    s = scope(study)
    names = None

    def pair(result, a, b):
        nonlocal names
        names = [c["name"] for c in result["codes"]]
        return result["counts"][names.index(a)][names.index(b)]

    overlap = analytics.cooccurrence(s)
    assert pair(overlap, "Taliban", "Prior pushback") == 1
    assert pair(overlap, "Belarusian tourist visa", "Military service") == 1
    assert pair(overlap, "Belarusian tourist visa", "Russian visa") == 0  # P3: line 2 and line 3
    assert pair(overlap, "Belarusian tourist visa", "Belarusian tourist visa") == 3
    i, j = names.index("Belarusian tourist visa"), names.index("Military service")
    assert overlap["jaccard"][i][j] == pytest.approx(1 / 3)  # 1 / (3 + 1 − 1)
    near = analytics.cooccurrence(s, mode="nearby", distance=1)
    assert pair(near, "Belarusian tourist visa", "Russian visa") == 1  # a line break apart
    person = analytics.cooccurrence(s, mode="participant")
    assert pair(person, "Taliban", "Belarusian tourist visa") == 1
    assert pair(person, "Russian visa", "Belarusian tourist visa") == 1


def test_profiles_find_distinct_combinations_and_clusters(study):
    groups = [study.codes["Visa route"].pk, study.codes["Persecution ground"].pk]
    result = analytics.profiles(scope(study), groups=groups, clusters=2)
    assert result["n_profiled"] == 4
    assert result["distinct_profiles"] == 4
    assert sum(c["size"] for c in result["clusters"]) == 4
    assert len(result["clusters"]) == 2
    # P1, P2 and P3 share BTV; P4 (No visa only) is at distance 1 from all: its own cluster.
    sizes = sorted(c["size"] for c in result["clusters"])
    assert sizes == [1, 3]
    big = next(c for c in result["clusters"] if c["size"] == 3)
    assert big["characteristic"][0]["name"] == "Belarusian tourist visa"


# ---------------------------------------------------------------- 9 saturation, 10 events


def test_saturation_counts_new_codes_in_date_order(study):
    result = analytics.saturation(scope(study))
    assert [p["participant"] for p in result["points"]] == ["P1", "P2", "P3", "P4", "P5", "LV-07"]
    assert [p["new"] for p in result["points"]] == [3, 1, 1, 1, 0, 0]
    assert result["points"][-1]["cumulative"] == 6


def test_events_versus_people(study):
    result = analytics.events_vs_people(scope(study), attribute="crossing_attempts")
    assert result["events"] == 18
    assert result["people_with_value"] == 4
    assert result["people_without_value"] == 2
    assert result["mean"] == 4.5
    assert result["median"] == 3.5
    assert result["events_per_person"] == 4.5
    with pytest.raises(ValidationError, match="not a number"):
        analytics.events_vs_people(scope(study), attribute="nationality")


passage = st_.tuples(st_.integers(0, 3), st_.integers(0, 80), st_.integers(1, 30))


@settings(max_examples=200, deadline=None)
@given(st_.lists(passage, max_size=40), st_.integers(0, 20))
def test_sort_and_sweep_finds_exactly_the_close_pairs(passages, distance):
    interview = [p[0] for p in passages]
    start = [p[1] for p in passages]
    end = [p[1] + p[2] for p in passages]
    for overlap in (True, False):
        first, second = st.close_pairs(interview, start, end, distance=distance, overlap=overlap)
        found = sorted(tuple(sorted(pair)) for pair in zip(first.tolist(), second.tolist(), strict=True))
        expected = []
        for i in range(len(passages)):
            for j in range(i + 1, len(passages)):
                if interview[i] != interview[j]:
                    continue
                gap = max(start[i], start[j]) - min(end[i], end[j])
                if (gap < 0) if overlap else (gap <= distance):
                    expected.append((i, j))
        assert found == sorted(expected)
