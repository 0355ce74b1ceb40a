"""Inter-coder agreement by range arithmetic: percentage agreement, Cohen's κ, Krippendorff's α.

The unit of analysis is explicit (``Unit``):

- ``characters``: each character of the counted text (by default participant speech) is a unit;
  a coder codes it with X or not. Codings are intervals, so the per-unit values are never expanded:
  a sweep over interval boundaries yields segments on which the number of coders who applied X is
  constant, and each segment adds its length to the coincidence matrix.
- ``turns``: each speaker turn is a unit; a coder codes it with X if any of their X codings overlaps it.
- ``participants``: each participant is a unit; a coder codes X if they applied X anywhere in that
  participant's interviews.

A coder takes part in an interview (is "present" for its units) if they made any coding in it, or
the caller says so (e.g. an assignment); a coder who is not present is *missing data* for those
units, which Krippendorff's α allows and Cohen's κ (pairwise) skips.

α is nominal. For binary values (coded / not coded) the coincidence matrix has three cells, and
α = 1 − (n − 1)·o₀₁ / (n₀·n₁). Overall figures sum the coincidence matrices (and κ's pair tables)
over codes: each (unit, code) pair is one unit.
"""

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from itertools import combinations

from interviews.models import SpeakerRole, SpeakerTurn

from .models import Code

Interval = tuple[int, int]


class Unit(StrEnum):
    CHARACTERS = "characters"
    TURNS = "turns"
    PARTICIPANTS = "participants"


# ---------------------------------------------------------------- interval arithmetic


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, merged, non-empty intervals."""
    merged: list[list[int]] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Intersection of two merged interval lists."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def length(intervals: list[Interval]) -> int:
    return sum(e - s for s, e in intervals)


def overlaps_any(intervals: list[Interval], start: int, end: int) -> bool:
    """Whether a merged interval list overlaps [start, end) (binary search)."""
    lo, hi = 0, len(intervals)
    while lo < hi:
        mid = (lo + hi) // 2
        if intervals[mid][1] <= start:
            lo = mid + 1
        else:
            hi = mid
    return lo < len(intervals) and intervals[lo][0] < end


# ---------------------------------------------------------------- coincidences


@dataclass
class Coincidence:
    """Binary nominal coincidence matrix (o₁₀ = o₀₁) and the pairwise tables behind κ."""

    o00: float = 0.0
    o01: float = 0.0
    o11: float = 0.0
    units: float = 0.0
    units_agreed: float = 0.0
    # (coder_a, coder_b) → [both, only_a, only_b, neither], in units
    pairs: dict = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0, 0.0, 0.0]))

    def add_unit(self, coded: int, present: int, weight: float = 1.0) -> None:
        """A unit (or ``weight`` identical units) that ``coded`` of ``present`` coders coded."""
        if present < 2:
            return
        not_coded = present - coded
        self.o11 += weight * coded * (coded - 1) / (present - 1)
        self.o00 += weight * not_coded * (not_coded - 1) / (present - 1)
        self.o01 += weight * coded * not_coded / (present - 1)
        self.units += weight
        if coded in (0, present):
            self.units_agreed += weight

    def add_pair(self, a, b, both: float, only_a: float, only_b: float, neither: float) -> None:
        key = (a, b) if str(a) <= str(b) else (b, a)
        if key != (a, b):
            only_a, only_b = only_b, only_a
        cell = self.pairs[key]
        cell[0] += both
        cell[1] += only_a
        cell[2] += only_b
        cell[3] += neither

    def merge(self, other: "Coincidence") -> None:
        self.o00 += other.o00
        self.o01 += other.o01
        self.o11 += other.o11
        self.units += other.units
        self.units_agreed += other.units_agreed
        for key, cell in other.pairs.items():
            self.add_pair(key[0], key[1], *cell)

    @property
    def alpha(self) -> float | None:
        """Krippendorff's α (nominal); None when there is no variation to judge agreement on."""
        n0 = self.o00 + self.o01
        n1 = self.o11 + self.o01
        n = n0 + n1
        if n <= 1 or n0 == 0 or n1 == 0:
            return None
        return 1.0 - (n - 1) * self.o01 / (n0 * n1)

    @property
    def percent_agreement(self) -> float | None:
        """Share of units on which every present coder gave the same value."""
        return self.units_agreed / self.units if self.units else None

    def kappas(self) -> dict:
        """Cohen's κ for each pair of coders (None where chance agreement is 1)."""
        return {pair: cohen_kappa(*cell) for pair, cell in self.pairs.items()}


def cohen_kappa(both: float, only_a: float, only_b: float, neither: float) -> float | None:
    total = both + only_a + only_b + neither
    if total == 0:
        return None
    observed = (both + neither) / total
    a_yes, b_yes = (both + only_a) / total, (both + only_b) / total
    expected = a_yes * b_yes + (1 - a_yes) * (1 - b_yes)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


# ---------------------------------------------------------------- per unit of analysis


def characters(universe: list[Interval], coded_by: dict) -> Coincidence:
    """Character units of one interview for one code.

    ``universe``: merged intervals of counted text. ``coded_by``: coder → intervals coded with the
    code (any order, may overlap) for every *present* coder (an empty list: present, coded nothing).
    """
    result = Coincidence()
    present = len(coded_by)
    sets = {coder: intersect(union(intervals), universe) for coder, intervals in coded_by.items()}
    total = length(universe)
    if present >= 2:
        # Sweep: +1/-1 at the bounds of each coder's set gives segments of constant count.
        events: dict[int, int] = defaultdict(int)
        for intervals in sets.values():
            for start, end in intervals:
                events[start] += 1
                events[end] -= 1
        covered = defaultdict(int)  # number of coders → characters
        count, previous = 0, None
        for position in sorted(events):
            if count and previous is not None:
                covered[count] += position - previous
            count += events[position]
            previous = position
        covered[0] = total - sum(covered.values())
        for coded, chars in covered.items():
            if chars:
                result.add_unit(coded, present, chars)
    for a, b in combinations(sorted(sets, key=str), 2):
        both = length(intersect(sets[a], sets[b]))
        in_a, in_b = length(sets[a]), length(sets[b])
        result.add_pair(a, b, both, in_a - both, in_b - both, total - in_a - in_b + both)
    return result


def discrete(units: Iterable, coded_by: dict) -> Coincidence:
    """Discrete units (turns, participants): ``coded_by`` maps each present coder to the set of
    units they coded; every unit in ``units`` is judged by every present coder.

    Works on the coded units only: units nobody coded are counted, not visited.
    """
    result = Coincidence()
    units = set(units)
    sets = {coder: set(coded) & units for coder, coded in coded_by.items()}
    present = len(sets)
    coded_counts = Counter(unit for coded in sets.values() for unit in coded)
    for coded, n_units in Counter(coded_counts.values()).items():
        result.add_unit(coded, present, n_units)
    result.add_unit(0, present, len(units) - len(coded_counts))
    for a, b in combinations(sorted(sets, key=str), 2):
        both = len(sets[a] & sets[b])
        only_a, only_b = len(sets[a]) - both, len(sets[b]) - both
        result.add_pair(a, b, both, only_a, only_b, len(units) - both - only_a - only_b)
    return result


def turns_touched(turn_starts: list[int], turn_ends: list[int], intervals: Iterable[Interval]) -> set[int]:
    """Indices of the (sorted, non-overlapping) turns that any interval overlaps."""
    touched = set()
    for start, end in intervals:
        first = bisect_right(turn_ends, start)  # first turn ending after start
        last = bisect_left(turn_starts, end)  # turns starting before end
        touched.update(range(first, last))
    return touched


# ---------------------------------------------------------------- from the database


@dataclass
class AgreementResult:
    unit: Unit
    coders: list
    per_code: dict  # code_id → Coincidence
    overall: Coincidence

    def as_dict(self, code_names: dict | None = None) -> dict:
        def figures(c: Coincidence) -> dict:
            return {
                "alpha": c.alpha,
                "percent_agreement": c.percent_agreement,
                "units": c.units,
                "kappa": [
                    {"coders": list(pair), "kappa": kappa} for pair, kappa in sorted(c.kappas().items())
                ],
            }

        return {
            "unit": str(self.unit),
            "coders": self.coders,
            "overall": figures(self.overall),
            "codes": [
                {"code": code_id, "name": (code_names or {}).get(code_id), **figures(c)}
                for code_id, c in sorted(self.per_code.items())
            ],
        }


def project_agreement(
    project,
    *,
    unit: Unit = Unit.CHARACTERS,
    interview_ids: list[int] | None = None,
    code_ids: list[int] | None = None,
    coder_ids: list[int] | None = None,
    count_interviewer: bool = False,
    present: dict | None = None,
) -> AgreementResult:
    """Agreement among coders over the project's interviews, per code and overall.

    Three queries (codings, presence, turns) and one pass over the codings' intervals; no
    per-character work. ``present`` (interview id → coder ids) overrides who took part in each
    interview (by default: everyone who made a coding there). Interviewer turns are left out of
    the counted text unless ``count_interviewer``; an interview without turns counts whole.
    """
    unit = Unit(unit)
    interviews = project.interviews.all()
    if interview_ids is not None:
        interviews = interviews.filter(pk__in=interview_ids)
    interview_rows = {
        pk: (length_, participant_id)
        for pk, length_, participant_id in interviews.values_list("pk", "text_length", "participant_id")
    }
    codings = project.codings.filter(interview_id__in=list(interview_rows))
    if coder_ids is not None:
        codings = codings.filter(coder_id__in=coder_ids)
    elif project.consensus_user_id is not None:
        # The consensus layer takes part only when asked for by id: it restates the coders.
        codings = codings.exclude(coder_id=project.consensus_user_id)
    if present is None:
        present = defaultdict(set)
        for interview_id, coder_id in codings.values_list("interview_id", "coder_id").distinct():
            present[interview_id].add(coder_id)
    else:
        present = {k: set(v) for k, v in present.items()}
    if code_ids is None:
        code_ids = list(
            Code.objects.filter(project=project, is_codable=True).order_by("pk").values_list("pk", flat=True)
        )
    coded: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))  # code → interview → coder
    for interview_id, code_id, coder_id, start, end in codings.filter(code_id__in=code_ids).values_list(
        "interview_id", "code_id", "coder_id", "start", "end"
    ):
        coded[code_id][interview_id][coder_id].append((start, end))

    turns_by_interview: dict = defaultdict(list)
    has_turns = set()
    for interview_id, start, end, role in (
        SpeakerTurn.objects.filter(interview_id__in=list(interview_rows))
        .order_by("interview_id", "start")
        .values_list("interview_id", "start", "end", "role")
    ):
        has_turns.add(interview_id)
        if count_interviewer or role != SpeakerRole.INTERVIEWER:
            turns_by_interview[interview_id].append((start, end))

    def universe(interview_id: int) -> list[Interval]:
        if interview_id in has_turns:
            return union(turns_by_interview[interview_id])
        return [(0, interview_rows[interview_id][0])]

    @cache
    def turn_bounds(interview_id: int) -> tuple[list[int], list[int]]:
        spans = turns_by_interview[interview_id] if interview_id in has_turns else universe(interview_id)
        return [t[0] for t in spans], [t[1] for t in spans]

    all_coders = sorted({c for coders in present.values() for c in coders})
    per_code: dict = {}
    overall = Coincidence()
    for code_id in code_ids:
        result = Coincidence()
        if unit == Unit.PARTICIPANTS:
            coders_of: dict = defaultdict(set)
            coded_participants: dict = defaultdict(set)
            for interview_id, coders in present.items():
                if interview_id not in interview_rows:
                    continue
                participant = interview_rows[interview_id][1]
                coders_of[participant] |= coders
                for coder in coders:
                    if coded[code_id][interview_id].get(coder):
                        coded_participants[coder].add(participant)
            # Participants grouped by who coded them: units judged by the same coders together.
            groups: dict = defaultdict(list)
            for participant, coders in coders_of.items():
                groups[frozenset(coders)].append(participant)
            for coders, participants in groups.items():
                result.merge(discrete(participants, {c: coded_participants[c] for c in coders}))
        else:
            for interview_id in interview_rows:
                coders = present.get(interview_id, set())
                if len(coders) < 2:
                    continue
                counted = universe(interview_id)
                by_coder = {c: coded[code_id][interview_id].get(c, []) for c in coders}
                if unit == Unit.CHARACTERS:
                    result.merge(characters(counted, by_coder))
                else:
                    starts, ends = turn_bounds(interview_id)
                    coded_turns = {c: turns_touched(starts, ends, v) for c, v in by_coder.items()}
                    result.merge(discrete(range(len(starts)), coded_turns))
        per_code[code_id] = result
        overall.merge(result)
    return AgreementResult(unit=unit, coders=all_coders, per_code=per_code, overall=overall)
