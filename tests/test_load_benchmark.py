"""LD1's comparison (benchmarks/load.py) places each request by the moment it started, so that
how long a request took cannot decide whether it counts as "export running"."""

import random
from functools import partial

from benchmarks import load

WINDOW = 10.0
export_window = partial(load.in_export_window, since=0.0, window=WINDOW)


# Exports of 1.1 s back to back in every other window, with the 0.5 s the benchmark's client
# waits between noticing one is done and starting the next.
RUNNING = [(w * WINDOW + k * 1.6, w * WINDOW + k * 1.6 + 1.1) for w in range(1, 24, 2) for k in range(7)]


def test_a_request_counts_where_it_started_whatever_it_overlapped():
    def place(start):
        return load.phase_of(start, RUNNING, export_window, control=False)

    assert place(10.5) == "export running"
    # Started in a quiet window, still running when the next window's export started: quiet.
    assert place(9.9) == "no export"
    # Started between two exports of an export window: neither.
    assert place(11.3) is None
    assert place(21.0) == "no export"


def test_the_control_run_places_requests_by_the_window_they_started_in():
    assert load.phase_of(10.5, [], export_window, control=True) == "export running"
    assert load.phase_of(11.3, [], export_window, control=True) == "export running"
    assert load.phase_of(9.9, [], export_window, control=True) == "no export"


def test_with_no_export_effect_at_all_both_phases_have_the_same_p95():
    """Heavy-tailed request times drawn the same in every phase: the comparison must find no
    difference. (Placing a request with the export whenever it overlapped one reads +16%
    here.)"""
    rng = random.Random(20261129)
    phases = {"no export": {}, "export running": {}}
    for _ in range(60_000):
        start = rng.uniform(0, 240)
        ms = round(1000 * rng.lognormvariate(-3.4, 1.2))
        phase = load.phase_of(start, RUNNING, export_window, control=False)
        if phase is not None:
            phases[phase][ms] = phases[phase].get(ms, 0) + 1
    quiet = load.percentile(phases["no export"], 0.95)
    busy = load.percentile(phases["export running"], 0.95)
    assert sum(phases["export running"].values()) > 10_000
    assert abs(busy / quiet - 1) < 0.05, (quiet, busy)
