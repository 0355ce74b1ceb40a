"""Analytics against brute-force counts in Python over random small studies (hypothesis).

Each example builds a fresh project: a code group G with children (one of which has a
child of its own), a root code R, up to six participants with a nationality and a
number of crossing attempts, interviews with or without speaker turns, and random
codings by two coders. The brute force re-implements each rule from its docstring in
plain Python loops.
"""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_

from coding import analytics
from coding.models import Code, Coding
from interviews import services
from interviews.models import AttributeValue, Interview, Participant, SpeakerTurn

TEXT_LENGTH = 60
INTERVIEWER_END = 20  # turns: [0, 20) interviewer, [20, 60) participant

CODE_NAMES = ["G1", "G2", "G3", "G1a", "R"]
PARENT = {"G1": "G", "G2": "G", "G3": "G", "G1a": "G1", "R": None}

coding_strategy = st_.tuples(
    st_.integers(0, 7),  # interview slot
    st_.sampled_from(CODE_NAMES),
    st_.integers(0, 1),  # coder
    st_.integers(0, TEXT_LENGTH - 1),  # start
    st_.integers(1, 25),  # length
)
person_strategy = st_.tuples(
    st_.sampled_from(["Iraq", "Syria", None]),
    st_.one_of(st_.none(), st_.integers(0, 6)),
    st_.integers(0, 2),  # interviews
    st_.booleans(),  # interviews have turns
)
study_strategy = st_.tuples(
    st_.lists(person_strategy, min_size=1, max_size=6), st_.lists(coding_strategy, max_size=30)
)


class World:
    """A random study in the database and the same facts in Python."""

    def __init__(self, team, people, codings):
        owner, coders = team.owner, [team.coder, team.coder2]
        self.project = services.create_project(name="Random study", owner=owner)
        for coder in coders:
            services.add_member(project=self.project, user=coder, role="coder")
        services.create_attribute_definition(
            project=self.project, key="nationality", label="N", kind="categorical", choices=["Iraq", "Syria"]
        )
        services.create_attribute_definition(project=self.project, key="attempts", label="A", kind="integer")
        group = Code.objects.create(project=self.project, name="G", is_codable=False)
        self.codes = {"G": group}
        for name in CODE_NAMES:
            parent = self.codes.get(PARENT[name]) if PARENT[name] else None
            self.codes[name] = Code.objects.create(project=self.project, name=name, parent=parent)
        self.code_name = {c.pk: n for n, c in self.codes.items()}
        self.people, self.interviews = [], []  # interviews: (interview, participant index, has turns)
        self.nationality, self.attempts = {}, {}
        for i, (nationality, attempts, n_interviews, turns) in enumerate(people):
            person = Participant.objects.create(project=self.project, pseudonym=f"P{i}")
            self.people.append(person)
            values = {}
            if nationality:
                values["nationality"] = nationality
                self.nationality[i] = nationality
            if attempts is not None:
                values["attempts"] = attempts
                self.attempts[i] = attempts
            services.set_participant_attributes(participant=person, values=values)
            for k in range(n_interviews):
                interview = Interview.objects.create(
                    project=self.project,
                    participant=person,
                    title=f"I{i}.{k}",
                    text="x" * TEXT_LENGTH,
                    text_length=TEXT_LENGTH,
                    text_sha256="0" * 64,
                )
                if turns:
                    SpeakerTurn.objects.create(
                        interview=interview,
                        index=0,
                        start=0,
                        end=INTERVIEWER_END,
                        speaker="I",
                        role="interviewer",
                    )
                    SpeakerTurn.objects.create(
                        interview=interview,
                        index=1,
                        start=INTERVIEWER_END,
                        end=TEXT_LENGTH,
                        speaker="P",
                        role="participant",
                    )
                self.interviews.append((interview, i, turns))
        # (id, code name, coder index, interview slot, start, end, participant index, turns)
        self.codings = []
        seen = set()
        rows = []
        for slot, name, coder, start, length in codings:
            if not self.interviews:
                break
            slot %= len(self.interviews)
            end = min(TEXT_LENGTH, start + length)
            if start >= end or (slot, name, coder, start, end) in seen:
                continue
            seen.add((slot, name, coder, start, end))
            interview = self.interviews[slot][0]
            rows.append(
                Coding(
                    project=self.project,
                    interview=interview,
                    code=self.codes[name],
                    coder=coders[coder],
                    start=start,
                    end=end,
                )
            )
        slot_of = {iv.pk: k for k, (iv, _, _) in enumerate(self.interviews)}
        for coding in Coding.objects.bulk_create(rows):
            slot = slot_of[coding.interview_id]
            _, person, turns = self.interviews[slot]
            name, coder = self.code_name[coding.code_id], coders.index(coding.coder)
            self.codings.append((coding.pk, name, coder, slot, coding.start, coding.end, person, turns))
        self.coder_ids = [c.pk for c in coders]

    def subtree(self, name):
        found = {name}
        changed = True
        while changed:
            changed = False
            for child, parent in PARENT.items():
                if parent in found and child not in found:
                    found.add(child)
                    changed = True
        return found

    def eligible(self, include_interviewer=False, coder=None):
        out = []
        for row in self.codings:
            _, _, c, _, start, end, _, turns = row
            if coder is not None and c != coder:
                continue
            if not include_interviewer and turns and not (start < TEXT_LENGTH and end > INTERVIEWER_END):
                continue
            out.append(row)
        return out

    def population(self):
        return {i for _, i, _ in self.interviews}


def examples(test):
    return settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=True,
    )(given(study_strategy)(test))


@pytest.mark.django_db
@examples
def test_frequencies_match_brute_force(team, study):
    world = World(team, *study)
    for include in (False, True):
        for unit in ("participants", "interviews", "codings"):
            scope = analytics.make_scope(world.project, unit=unit, include_interviewer=include)
            rows = {r["name"]: r["count"] for r in analytics.code_frequencies(scope, per_coder=False)["rows"]}
            for name in ["G", *CODE_NAMES]:
                inside = world.subtree(name)
                hits = [r for r in world.eligible(include) if r[1] in inside]
                key = {"participants": 6, "interviews": 3, "codings": 0}[unit]
                assert rows[name] == len({r[key] for r in hits}), (unit, include, name)
    matrix = analytics.participant_code_matrix(analytics.make_scope(world.project), value="coverage")
    names = [c["name"] for c in matrix["codes"]]
    for row in matrix["rows"]:
        person = int(row["pseudonym"][1:])
        for name, got in zip(names, row["values"], strict=True):
            inside = world.subtree(name)
            want = sum(r[5] - r[4] for r in world.eligible() if r[6] == person and r[1] in inside)
            assert got == want, (row["pseudonym"], name)
    coder_scope = analytics.make_scope(world.project, coder_id=world.coder_ids[1])
    rows = {r["name"]: r["count"] for r in analytics.code_frequencies(coder_scope)["rows"]}
    assert rows["G"] == len({r[6] for r in world.eligible(coder=1) if r[1] in world.subtree("G")})


@pytest.mark.django_db
@examples
def test_cooccurrence_matches_brute_force(team, study):
    world = World(team, *study)
    rows = world.eligible()
    for mode, distance in (("overlap", 0), ("nearby", 0), ("nearby", 7)):
        for unit in ("codings", "participants"):
            scope = analytics.make_scope(world.project, unit=unit)
            result = analytics.cooccurrence(scope, mode=mode, distance=distance)
            names = [c["name"] for c in result["codes"]]
            expected = {}
            for a, b in itertools.combinations(rows, 2):
                if a[3] != b[3] or a[1] == b[1]:
                    continue
                gap = max(a[4], b[4]) - min(a[5], b[5])
                close = gap < 0 if mode == "overlap" else gap <= distance
                if close:
                    expected.setdefault(frozenset((a[1], b[1])), []).append(a)
            for x, y in itertools.combinations(names, 2):
                pairs = expected.get(frozenset((x, y)), [])
                want = len(pairs) if unit == "codings" else len({p[6] for p in pairs})
                assert result["counts"][names.index(x)][names.index(y)] == want, (mode, distance, unit, x, y)
    person = analytics.cooccurrence(analytics.make_scope(world.project), mode="participant")
    names = [c["name"] for c in person["codes"]]
    has = {n: {r[6] for r in rows if r[1] == n} for n in names}
    for x, y in itertools.combinations(names, 2):
        both = len(has[x] & has[y])
        assert person["counts"][names.index(x)][names.index(y)] == both
        union = len(has[x] | has[y])
        jaccard = person["jaccard"][names.index(x)][names.index(y)]
        assert jaccard == (None if union == 0 else pytest.approx(both / union))


@pytest.mark.django_db
@examples
def test_crosstab_and_heterogeneity_match_brute_force(team, study):
    world = World(team, *study)
    scope = analytics.make_scope(world.project)
    group = world.codes["G"].pk
    result = analytics.crosstab(scope, group=group, attribute="nationality")
    rows = world.eligible()
    people = world.population()
    coded = {name: {r[6] for r in rows if r[1] in world.subtree(name)} for name in ("G1", "G2", "G3")}
    for row in result["rows"]:
        for column, cell in zip(result["columns"], row["cells"], strict=True):
            want = {p for p in coded[row["name"]] if world.nationality.get(p) == column["value"]}
            assert cell["count"] == len(want)
        assert row["n"] == len(coded[row["name"]])
    for column in result["columns"]:
        assert column["n"] == len({p for p in people if world.nationality.get(p) == column["value"]})
    diversity = analytics.heterogeneity(scope, groups=[group], bootstrap=20)["groups"][0]
    members = sorted({p for s in coded.values() for p in s})
    assert diversity["n_coded"] == len(members)
    for category in diversity["categories"]:
        weight = sum(1 / sum(p in s for s in coded.values()) for p in coded[category["name"]])
        assert category["share"] == pytest.approx(weight / len(members) if members else 0)


ATOMS = [
    ('"G"', lambda w, p, coded: p in coded["G"]),
    ('"G/G1"', lambda w, p, coded: p in coded["G1"]),
    ('"G1a"', lambda w, p, coded: p in coded["G1a"]),
    ('"R"', lambda w, p, coded: p in coded["R"]),
    ('nationality = "Iraq"', lambda w, p, coded: w.nationality.get(p) == "Iraq"),
    ('nationality != "Iraq"', lambda w, p, coded: p in w.nationality and w.nationality[p] != "Iraq"),
    ("attempts >= 3", lambda w, p, coded: w.attempts.get(p, -1) >= 3),
    ("attempts < 2", lambda w, p, coded: p in w.attempts and w.attempts[p] < 2),
]

expression_strategy = st_.recursive(
    st_.integers(0, len(ATOMS) - 1).map(lambda i: ("atom", i)),
    lambda inner: st_.one_of(
        st_.tuples(st_.just("not"), inner),
        st_.tuples(st_.sampled_from(["and", "or"]), inner, inner),
    ),
    max_leaves=6,
)


def render(tree):
    if tree[0] == "atom":
        return ATOMS[tree[1]][0]
    if tree[0] == "not":
        return f"NOT ({render(tree[1])})"
    return f"({render(tree[1])}) {tree[0].upper()} ({render(tree[2])})"


def evaluate(tree, world, person, coded):
    if tree[0] == "atom":
        return ATOMS[tree[1]][1](world, person, coded)
    if tree[0] == "not":
        return not evaluate(tree[1], world, person, coded)
    left, right = evaluate(tree[1], world, person, coded), evaluate(tree[2], world, person, coded)
    return (left and right) if tree[0] == "and" else (left or right)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(study_strategy, st_.lists(expression_strategy, min_size=1, max_size=3))
def test_profile_query_matches_brute_force(team, study, trees):
    world = World(team, *study)
    scope = analytics.make_scope(world.project)
    rows = world.eligible()
    coded = {name: {r[6] for r in rows if r[1] in world.subtree(name)} for name in ["G", *CODE_NAMES]}
    for tree in trees:
        result = analytics.run_query(scope, render(tree))
        want = sorted(f"P{p}" for p in world.population() if evaluate(tree, world, p, coded))
        assert sorted(p["pseudonym"] for p in result["participants"]) == want, render(tree)
        assert result["n"] == len(world.population())


@pytest.mark.django_db
@examples
def test_events_and_saturation_match_brute_force(team, study):
    world = World(team, *study)
    scope = analytics.make_scope(world.project)
    events = analytics.events_vs_people(scope, attribute="attempts")
    values = [v for p, v in world.attempts.items() if p in world.population()]
    assert events["events"] == sum(values)
    assert events["people_with_value"] == len(values)
    if values:
        import statistics

        assert events["median"] == pytest.approx(statistics.median(values))
    curve = analytics.saturation(scope, order="created")
    seen, expected = set(), []
    rows = world.eligible()
    slots = sorted(range(len(world.interviews)), key=lambda k: world.interviews[k][0].pk)
    for k in slots:
        here = {r[1] for r in rows if r[3] == k}
        expected.append(len(here - seen))
        seen |= here
    assert [p["new"] for p in curve["points"]] == expected
    assert AttributeValue.objects.filter(participant__project=world.project).count() >= len(world.attempts)
