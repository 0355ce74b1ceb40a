"""Pure statistics over tables the database has already aggregated.

Nothing here touches the ORM: every function takes small arrays (participants ×
categories, never codings) and returns plain numbers, so each one can be checked
against an independent computation in the tests.

Conventions
- Logarithms are natural (Shannon H in nats), as in ``scipy.stats.entropy``.
- Evenness is Pielou's J = H / ln S with S the *observed* richness (categories with
  a share above zero); it is undefined (None) when S < 2.
- Gini–Simpson is 1 − Σ p², the chance that two participants drawn at random
  (with replacement) fall in different categories.
- Bootstrap intervals resample participants with replacement (percentile method,
  seeded, so the same data always give the same interval). Several groups share one
  resample of the participants (see ``diversity_of_groups``).
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_BOOTSTRAP = 2000
DEFAULT_SEED = 20211108  # the day the crisis peaked at Kuźnica; any fixed number would do


def shares_from_weights(weights: np.ndarray) -> np.ndarray:
    """Category shares from a participants × categories weight matrix whose rows sum to 1."""
    weights = np.asarray(weights, dtype=float)
    if weights.shape[0] == 0:
        return np.zeros(weights.shape[1] if weights.ndim == 2 else 0)
    return weights.sum(axis=0) / weights.shape[0]


def fractional_weights(presence: np.ndarray) -> np.ndarray:
    """Turn a 0/1 participants × categories matrix into weights 1/k per row (k = codes in the row).

    Rows without any category are dropped by the caller; here they stay zero.
    """
    presence = np.asarray(presence, dtype=float)
    k = presence.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k > 0, presence / np.where(k > 0, k, 1), 0.0)


def _stats_rows(p: np.ndarray) -> dict[str, np.ndarray]:
    """Richness, Shannon H, evenness and Gini–Simpson for each row of a shares matrix (B × S)."""
    p = np.atleast_2d(np.asarray(p, dtype=float))
    positive = p > 0
    richness = positive.sum(axis=1)
    logs = np.log(np.where(positive, p, 1.0))
    shannon = -(p * logs).sum(axis=1) + 0.0  # no "-0.0" for a single category
    with np.errstate(invalid="ignore", divide="ignore"):
        evenness = np.where(richness >= 2, shannon / np.log(np.maximum(richness, 2)), np.nan)
    gini_simpson = 1.0 - (p**2).sum(axis=1)
    return {"richness": richness, "shannon": shannon, "evenness": evenness, "gini_simpson": gini_simpson}


def shannon(p) -> float:
    return float(_stats_rows(np.asarray(p, dtype=float))["shannon"][0])


def evenness(p) -> float | None:
    value = float(_stats_rows(np.asarray(p, dtype=float))["evenness"][0])
    return None if math.isnan(value) else value


def gini_simpson(p) -> float:
    return float(_stats_rows(np.asarray(p, dtype=float))["gini_simpson"][0])


def diversity(weights: np.ndarray, *, bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED) -> dict:
    """Diversity of one code group from a participants × categories weight matrix.

    Returns shares, richness, Shannon H, evenness and Gini–Simpson, each statistic
    with a percentile bootstrap 95% interval over participants (``ci``: [low, high],
    None when there are fewer than two participants). The one-group case of
    ``diversity_of_groups``: a row of zeros is a participant outside the distribution.
    """
    return diversity_of_groups([weights], bootstrap=bootstrap, seed=seed)[0]


def _empty_ci() -> dict:
    return {"richness": None, "shannon": None, "evenness": None, "gini_simpson": None, "shares": None}


def diversity_of_groups(
    weights: list[np.ndarray],
    *,
    participants: int | None = None,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> list[dict]:
    """Diversity of several code groups over the same participants, with one bootstrap for all.

    ``weights[g]`` is a participants × categories matrix for group g, every matrix with the
    same rows (the same participants in the same order); a participant's row sums to 1 in
    the groups where they have a category and is all zeros where they have none (they are
    then outside that group's distribution: its n counts the non-zero rows).
    ``participants`` (≥ the number of rows) is how many participants are resampled: the
    rows given plus participants with no category in any of the groups.

    Each group's point estimates are those of its own rows (shares = Σ weights / n). The
    bootstrap resamples the participants with replacement, once per replicate for all
    groups; in each replicate a group's shares are the mean weights of the resampled
    participants who have one of its categories (a replicate that draws none of them is
    left out of that group's intervals). When every participant has a category of the
    group this is the plain resampling of its n rows. Every group's replicate sums come
    from one (sparse) product of the weights with the participants × replicates draw
    counts, and the statistics and percentiles of all groups are computed together.
    Draws: ``np.random.default_rng(seed).integers(0, participants, …)``, one row of
    ``participants`` draws per replicate, generated in blocks of 65,536 // participants
    replicates (a single call whenever B × participants ≤ 65,536).
    """
    mats = [np.asarray(w, dtype=float) for w in weights]
    if any(w.ndim != 2 for w in mats):
        raise ValueError("weights must be participants × categories matrices")
    rows = mats[0].shape[0] if mats else 0
    total = max(rows, participants or 0)
    results = []
    coded = []
    for w in mats:
        if w.shape[0] != rows:
            raise ValueError("every group needs the same participant rows")
        member = w.sum(axis=1) > 0
        n = int(member.sum())
        shares = w.sum(axis=0) / n if n else np.zeros(w.shape[1])
        point = {k: v[0] for k, v in _stats_rows(shares).items()}
        coded.append(member)
        results.append(
            {
                "n": n,
                "shares": shares.tolist(),
                "richness": int(point["richness"]),
                "shannon": float(point["shannon"]),
                "evenness": None if math.isnan(point["evenness"]) else float(point["evenness"]),
                "gini_simpson": float(point["gini_simpson"]),
                "ci": _empty_ci(),
                "bootstrap": {"replicates": 0, "seed": seed},
            }
        )
    chosen = [g for g, r in enumerate(results) if r["n"] >= 2]
    if bootstrap <= 0 or not chosen:
        return results
    from scipy import sparse, special

    rng = np.random.default_rng(seed)
    k = len(chosen)
    sizes = [mats[g].shape[1] for g in chosen]
    starts = np.cumsum([0, *sizes[:-1]])
    scaled = [_whole_weights(mats[g]) for g in chosen]
    if all(x is not None for x in scaled) and max(m for _, m in scaled) * total < 2**24:
        # Fractional weights 1/k times a common multiple of the k's are whole numbers, and so
        # are the draw counts: every sum below is then a whole number under 2**24, exact in
        # float32 (twice as fast as float64 here), and the shares come out exactly.
        rows_used = [w for w, _ in scaled]
        multiplier = np.array([m for _, m in scaled], dtype=float)
        dtype = np.float32
    else:
        rows_used = [mats[g] for g in chosen]
        multiplier = np.ones(k)
        dtype = np.float64
    # Rows: every group's categories, then every group's "participant is in the distribution".
    # Mostly zeros (a participant has a few of the categories; small groups have few
    # participants), so the replicate sums are a sparse × dense product.
    weights_t = sparse.csr_matrix(
        np.vstack([w.T for w in rows_used] + [np.vstack([coded[g] for g in chosen])]).astype(dtype)
    )
    group_of_row = np.repeat(np.arange(k), sizes)
    categories = int(sum(sizes))
    # One table: 4 statistics × k groups, then the shares of every category; a column per replicate.
    table = np.empty((4 * k + categories, bootstrap))
    richness, shannon, evenness, gini_simpson = (table[m * k : (m + 1) * k] for m in range(4))
    shares = table[4 * k :]  # NaN where a replicate drew none of the group's participants
    # Replicates in blocks, so that the temporary arrays stay small (cache-sized, and reused
    # by the allocator instead of being mapped afresh for every request).
    block = max(1, min(bootstrap, 2**16 // total))
    for first in range(0, bootstrap, block):
        last = min(bootstrap, first + block)
        # How often each participant is drawn in each replicate of the block, participants ×
        # replicates: the replicate sums are those counts times the weights.
        keys = rng.integers(0, total, size=(last - first, total), dtype=np.int32).astype(np.int64)
        keys += (np.arange(last - first, dtype=np.int64) * total)[:, None]
        draws = np.bincount(keys.ravel(), minlength=(last - first) * total).reshape(last - first, total)
        sums = weights_t @ np.ascontiguousarray(draws[:, :rows].T, dtype=dtype)
        drawn = sums[categories:].astype(float)  # resampled participants in each group's distribution
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(
                sums[:categories], (drawn * multiplier[:, None])[group_of_row], out=shares[:, first:last]
            )
        np.add.reduceat(sums[:categories] > 0, starts, axis=0, dtype=float, out=richness[:, first:last])
        richness[:, first:last][drawn == 0] = np.nan  # NaN shares make the other statistics NaN
        part = shares[:, first:last]
        terms = special.entr(part)  # −p ln p, 0 at p = 0
        np.add.reduceat(terms, starts, axis=0, out=shannon[:, first:last])
        np.add.reduceat(np.multiply(part, part, out=terms), starts, axis=0, out=gini_simpson[:, first:last])
    shannon += 0.0  # no "-0.0" for a single category
    np.subtract(1.0, gini_simpson, out=gini_simpson)
    evenness.fill(np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(shannon, np.log(np.maximum(richness, 2)), out=evenness, where=richness >= 2)
    names = ["richness", "shannon", "evenness", "gini_simpson"]
    bounds = percentile_rows(table, (2.5, 97.5), overwrite=True)
    for j, g in enumerate(chosen):
        ci = {}
        for m, name in enumerate(names):
            low, high = bounds[:, m * k + j]
            ci[name] = None if math.isnan(low) else [float(low), float(high)]
        first = 4 * k + starts[j]
        ci["shares"] = [
            None if math.isnan(low) else [float(low), float(high)]
            for low, high in bounds[:, first : first + sizes[j]].T
        ]
        results[g]["ci"] = ci
        results[g]["bootstrap"] = {"replicates": bootstrap, "seed": seed}
    return results


def _whole_weights(weights: np.ndarray):
    """(whole-number weights, multiplier) when ``weights`` are fractional weights 1/k per row.

    The multiplier is the least common multiple of the k's, and the whole-number weights
    are multiplier / k where the fractional weight is 1/k; None when the weights are not of
    that form (then the caller uses them as they are).
    """
    present = weights > 0
    k = present.sum(axis=1)
    if not np.array_equal(weights, present / np.maximum(k, 1)[:, None]):
        return None
    distinct = np.unique(k[k > 0])
    multiplier = int(np.lcm.reduce(distinct)) if distinct.size else 1
    if multiplier >= 2**24:
        return None
    return present * (multiplier // np.maximum(k, 1))[:, None], multiplier


def percentile_rows(table: np.ndarray, q=(2.5, 97.5), *, overwrite: bool = False) -> np.ndarray:
    """``np.percentile(row, q)`` (linear method) of every row, NaNs left out: len(q) × rows.

    A row without any number gives NaN. One sort of all rows together, then numpy's own
    interpolation rule per row (the results are identical to ``np.percentile``): quicker
    than ``np.percentile`` on many rows, and rows may hold different numbers of values.
    ``overwrite``: sort ``table`` itself instead of a copy.
    """
    if overwrite and isinstance(table, np.ndarray) and table.dtype == float:
        table.sort(axis=1)  # in place: the caller does not need the table any more
        ordered = table
    else:
        ordered = np.sort(np.asarray(table, dtype=float), axis=1)  # NaNs sort last
    count = np.full(ordered.shape[0], ordered.shape[1])
    gaps = np.flatnonzero(np.isnan(ordered[:, -1]))  # only rows with a NaN need counting
    count[gaps] = (~np.isnan(ordered[gaps])).sum(axis=1)
    out = np.full((len(q), ordered.shape[0]), np.nan)
    has = count > 0
    rows = np.flatnonzero(has)
    for i, quantile in enumerate(np.true_divide(q, 100)):
        virtual = (count[has] - 1) * quantile
        below = np.floor(virtual).astype(np.int64)
        above = np.minimum(below + 1, count[has] - 1)
        gamma = virtual - below
        a, b = ordered[rows, below], ordered[rows, above]
        diff = b - a
        # numpy's _lerp: from the nearer end, for symmetry.
        out[i, has] = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    return out


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float] | None:
    """Wilson score 95% interval for a proportion k/n (None when n = 0)."""
    if n <= 0:
        return None
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def jaccard(a: set, b: set) -> float | None:
    """|a ∩ b| / |a ∪ b|; None when both are empty."""
    union = len(a | b)
    return None if union == 0 else len(a & b) / union


def jaccard_from_counts(both: int, n_a: int, n_b: int) -> float | None:
    union = n_a + n_b - both
    return None if union <= 0 else both / union


def median_from_frequencies(pairs: list[tuple[float, int]]) -> float | None:
    """Median of a distribution given as (value, count) pairs (average of the two middles)."""
    pairs = sorted((float(v), int(c)) for v, c in pairs if c > 0)
    total = sum(c for _, c in pairs)
    if total == 0:
        return None

    def nth(i: int) -> float:  # 0-based
        seen = 0
        for value, count in pairs:
            seen += count
            if i < seen:
                return value
        raise AssertionError("unreachable")

    if total % 2:
        return nth(total // 2)
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


def cluster_rows(presence: np.ndarray, *, clusters: int | None = None, threshold: float | None = None):
    """Average-linkage clustering of 0/1 rows on Jaccard distance (SciPy).

    Returns (leaf order, cluster label per row, condensed distance matrix).
    Two empty rows are at distance 0 (SciPy's convention).
    """
    from scipy.cluster.hierarchy import fcluster, leaves_list, linkage
    from scipy.spatial.distance import pdist

    presence = np.asarray(presence, dtype=bool)
    n = presence.shape[0]
    if n == 0:
        return [], [], np.zeros(0)
    if n == 1:
        return [0], [1], np.zeros(0)
    distances = pdist(presence, metric="jaccard")
    distances = np.nan_to_num(distances, nan=0.0)
    tree = linkage(distances, method="average")
    order = leaves_list(tree).tolist()
    if threshold is not None:
        labels = fcluster(tree, t=threshold, criterion="distance")
    else:
        labels = fcluster(tree, t=max(1, min(clusters or 1, n)), criterion="maxclust")
    return order, labels.tolist(), distances


MAX_PAIRS = 30_000_000


def close_pairs(interview, start, end, *, distance: int = 0, overlap: bool = True):
    """Index pairs (i, j) of passages in the same interview that overlap, or lie within ``distance``.

    A sort-and-sweep, vectorised: passages are sorted by (interview, start); for each one,
    the passages after it in that order that start before it ends (overlap: start < end,
    passages being end-exclusive) or at most ``distance`` characters after its end are its
    partners. Every unordered pair is found exactly once, from its earlier-starting member.
    Cost grows with the number of pairs, not with the square of the passages per interview.
    Raises ValueError when the pairs would exceed ``MAX_PAIRS``.
    """
    interview = np.asarray(interview, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    n = interview.size
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.lexsort((start, interview))
    span = int(max(end.max(), start.max())) + distance + 2
    _, slot = np.unique(interview[order], return_inverse=True)
    key = slot.astype(np.int64) * span + start[order]
    reach = end[order] if overlap else end[order] + distance
    limit = slot.astype(np.int64) * span + reach
    # Partners of sorted passage k are k+1 … hi[k]-1.
    hi = np.searchsorted(key, limit, side="left" if overlap else "right")
    counts = np.maximum(hi - np.arange(n) - 1, 0)
    total = int(counts.sum())
    if total > MAX_PAIRS:
        raise ValueError(f"{total} pairs")
    first = np.repeat(np.arange(n), counts)
    run_start = np.repeat(np.cumsum(counts) - counts, counts)
    second = first + 1 + (np.arange(total) - run_start)
    return order[first], order[second]
