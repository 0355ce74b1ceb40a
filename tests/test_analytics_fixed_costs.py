"""The shared bootstrap of several groups and the fixed costs of the analytics (queries per answer)."""

import numpy as np
import pytest
from django.db import connection

from coding import analytics
from coding import stats as st

from .analytics_data import build_study


@pytest.fixture
def study(team):
    return build_study(team)


def plain_loop(weights, total, draws):
    """Each group's statistics per replicate, one participant list at a time (no vectorisation)."""
    rows = weights[0].shape[0]
    out = []
    for w in weights:
        member = w.sum(axis=1) > 0
        values = {"richness": [], "shannon": [], "evenness": [], "gini_simpson": [], "shares": []}
        for replicate in draws:
            drawn = [j for j in replicate if j < rows and member[j]]
            if not drawn:
                continue
            p = np.mean([w[j] for j in drawn], axis=0)
            q = p[p > 0]
            h = float(-(q * np.log(q)).sum())
            values["richness"].append(len(q))
            values["shannon"].append(h)
            if len(q) >= 2:
                values["evenness"].append(h / np.log(len(q)))
            values["gini_simpson"].append(1 - float((p**2).sum()))
            values["shares"].append(p)
        out.append(values)
    return out


def interval(values):
    return list(np.percentile(values, [2.5, 97.5])) if len(values) else None


def check(result, expected):
    for name in ("richness", "shannon", "evenness", "gini_simpson"):
        want = interval(expected[name])
        assert result["ci"][name] == (pytest.approx(want) if want else None)
    shares = np.percentile(np.array(expected["shares"]), [2.5, 97.5], axis=0).T
    assert np.array(result["ci"]["shares"]) == pytest.approx(shares)


def random_groups(rng, rows, sizes, *, share_coded):
    groups = []
    for size in sizes:
        presence = (rng.random((rows, size)) < 0.4) & (rng.random((rows, 1)) < share_coded)
        groups.append(st.fractional_weights(presence))
    return groups


def test_groups_share_one_resample_of_all_participants():
    rng = np.random.default_rng(4)
    weights = random_groups(rng, 30, [3, 4, 2], share_coded=0.6)
    weights.append(np.where(weights[0] > 0, rng.random((30, 3)), 0))  # weights other than 1/k
    weights[-1] /= np.maximum(weights[-1].sum(axis=1, keepdims=True), 1e-300)
    total = 34  # four participants with no category in any group are resampled too
    results = st.diversity_of_groups(weights, participants=total, bootstrap=300, seed=9)
    draws = np.random.default_rng(9).integers(0, total, size=(300, total))  # one block: 300 × 34 ≤ 65,536
    for result, expected, w in zip(results, plain_loop(weights, total, draws), weights, strict=True):
        coded = w[w.sum(axis=1) > 0]
        assert result["n"] == len(coded)
        assert result["shares"] == pytest.approx(list(coded.mean(axis=0)))
        check(result, expected)


def test_replicates_drawn_in_blocks_match_a_plain_loop_over_the_same_draws():
    rng = np.random.default_rng(8)
    total, bootstrap = 300, 500  # blocks of 65,536 // 300 = 218 replicates: three calls
    weights = random_groups(rng, 280, [5, 3], share_coded=0.9)
    results = st.diversity_of_groups(weights, participants=total, bootstrap=bootstrap, seed=2)
    generator = np.random.default_rng(2)
    block = 65_536 // total
    draws = np.vstack(
        [
            generator.integers(0, total, size=(min(block, bootstrap - first), total))
            for first in range(0, bootstrap, block)
        ]
    )
    for result, expected in zip(results, plain_loop(weights, total, draws), strict=True):
        check(result, expected)


def test_a_group_with_one_coded_participant_has_no_interval_and_others_still_do():
    weights = [
        st.fractional_weights(np.array([[1, 0], [0, 1], [1, 1], [0, 0]])),
        st.fractional_weights(np.array([[0, 0], [1, 0], [0, 0], [0, 0]])),
    ]
    first, second = st.diversity_of_groups(weights, bootstrap=200, seed=1)
    assert second["n"] == 1 and second["ci"]["gini_simpson"] is None and second["ci"]["shares"] is None
    assert first["n"] == 3 and first["ci"]["gini_simpson"] is not None


def test_rare_group_leaves_out_replicates_that_draw_none_of_its_participants():
    # 2 of 12 participants coded: many replicates draw neither; those are left out, not zero.
    presence = np.zeros((12, 2))
    presence[0, 0] = presence[1, 1] = 1
    result = st.diversity_of_groups([st.fractional_weights(presence)], bootstrap=400, seed=3)[0]
    draws = np.random.default_rng(3).integers(0, 12, size=(400, 12))
    expected = plain_loop([st.fractional_weights(presence)], 12, draws)[0]
    assert len(expected["shares"]) < 400
    check(result, expected)


def test_percentile_rows_equals_numpy_percentile_with_missing_values():
    rng = np.random.default_rng(0)
    table = rng.random((6, 41))
    table[1, ::3] = np.nan
    table[2, :] = np.nan
    table[3] = np.round(table[3] * 4)  # ties
    got = st.percentile_rows(table.copy())
    for row, values in enumerate(table):
        values = values[~np.isnan(values)]
        if values.size:
            assert list(got[:, row]) == list(np.percentile(values, [2.5, 97.5]))
        else:
            assert np.isnan(got[:, row]).all()


# ---------------------------------------------------------------- fixed costs: one query per question


def statement(n):
    """Queries for n analytic statements: on PostgreSQL each runs in a savepoint with SET LOCAL jit."""
    return n * 4 if connection.vendor == "postgresql" else n


def test_heterogeneity_reads_the_codebook_once_and_answers_in_one_statement(study, django_assert_num_queries):
    scope = analytics.make_scope(study.team.project)
    with django_assert_num_queries(1 + statement(1)):  # codebook; pairs and N together
        result = analytics.heterogeneity(scope, groups=analytics.codebook(scope).groups())
    assert result["n"] == 6


def test_profile_query_counts_n_in_the_statement_that_finds_the_matches(study, django_assert_num_queries):
    scope = analytics.make_scope(study.team.project)
    visa = study.codes["Visa route"].pk
    with django_assert_num_queries(3):  # codebook, attribute definitions, matches with N
        result = analytics.run_query(scope, f'code:{visa} AND nationality = "Iraq"', also=False)
    coded = analytics.run_query(scope, f"code:{visa}", also=False)["participants"]
    iraqi = analytics.run_query(scope, 'nationality = "Iraq"', also=False)["participants"]
    both = [p for p in coded if p in iraqi]
    assert result["participants"] == both and both
    assert (result["k"], result["n"]) == (len(both), 6)


def test_profile_query_without_matches_still_reports_n(study):
    result = analytics.run_query(
        analytics.make_scope(study.team.project),
        'nationality = "Syria" AND NOT nationality = "Syria"',
        also=False,
    )
    assert (result["k"], result["n"]) == (0, 6)


def test_population_filter_and_query_share_one_codebook_and_definitions(study, django_assert_num_queries):
    with django_assert_num_queries(3):
        scope = analytics.make_scope(study.team.project, where='nationality = "Iraq"')
        analytics.run_query(scope, '"Visa route"', also=False)


def test_events_versus_people_is_one_statement_after_the_definitions(study, django_assert_num_queries):
    scope = analytics.make_scope(study.team.project)
    with django_assert_num_queries(2):
        result = analytics.events_vs_people(scope, attribute="crossing_attempts")
    assert result["n"] == 6


def test_frequencies_count_n_in_the_same_statement(study, django_assert_num_queries):
    scope = analytics.make_scope(study.team.project)
    with django_assert_num_queries(1 + statement(1)):
        result = analytics.code_frequencies(scope, per_coder=False)
    assert result["n"] == 6
