"""Analytics on a synthetic project: 1,000 interviews, 400 participants, 200 codes, 100,000 codings.

Prints p50/p95 of each analytic (the selector behind the page and the API, Python
post-processing included) beside the bare SQL aggregate that answers the same
question. Targets (issue 5): each analytic ≤ 2× its bare SQL; co-occurrence ≤ 1 s.

The profile query (7) and events vs people (10) have two bare lines: the first only counts
(matches; values over all participants); the second answers what the analytic answers —
the matching participants listed, the distribution over the population, and N (people
with at least one interview) — in one hand-written statement. Both ratios are printed.

Each timed call builds its Scope as a request does (so the codebook and attribute
definitions are read in every call, not cached across calls). Where there is a bare SQL
line, the analytic and the bare SQL run alternately, call by call, so that both see the
same load on a shared machine; the ratio is of their medians. "cpu" is this process's
CPU time per call (Python, driver), not the database server's.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qc_bench_analytics \
        .venv/bin/python benchmarks/analytics.py [runs]

The database named by DATABASE_URL is wiped. Without DATABASE_URL it runs on SQLite.
"""

# ruff: noqa: S608  (benchmark SQL: table names from model metadata, values as parameters)

import datetime as dt
import random
import statistics
import sys
import time

from common import report, setup_django, timings

setup_django("analytics")

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from coding import analytics  # noqa: E402
from coding.models import Code, Coding  # noqa: E402
from interviews.models import (  # noqa: E402
    AttributeDefinition,
    AttributeValue,
    Interview,
    Membership,
    Participant,
    Project,
    SpeakerTurn,
)

N_PARTICIPANTS, N_INTERVIEWS, N_GROUPS, CHILDREN, N_CODINGS = 400, 1000, 20, 9, 100_000
TEXT_LENGTH, TURN = 6000, 300
REPEAT = int(sys.argv[1]) if len(sys.argv) > 1 else 15
NATIONS = ["Afghanistan", "Iraq", "Syria", "Iran", "Yemen", "Cameroon", "Cuba", "Sri Lanka"]


def build():
    rng = random.Random(5)
    User = get_user_model()
    owner = User.objects.create(username="owner")
    coders = [User.objects.create(username=f"coder{i}") for i in range(2)]
    project = Project.objects.create(name="Synthetic")
    Membership.objects.bulk_create(
        [Membership(project=project, user=owner, role="owner")]
        + [Membership(project=project, user=c, role="coder") for c in coders]
    )
    nationality = AttributeDefinition.objects.create(
        project=project, key="nationality", label="Nationality", kind="categorical", choices=NATIONS
    )
    attempts = AttributeDefinition.objects.create(
        project=project, key="crossing_attempts", label="Crossing attempts", kind="integer"
    )
    people = Participant.objects.bulk_create(
        [Participant(project=project, pseudonym=f"LV-{i:03d}") for i in range(N_PARTICIPANTS)]
    )
    values = []
    for p in people:
        values.append(AttributeValue(participant=p, definition=nationality, value_text=rng.choice(NATIONS)))
        if rng.random() < 0.8:
            values.append(AttributeValue(participant=p, definition=attempts, value_number=rng.randint(0, 40)))
    AttributeValue.objects.bulk_create(values)
    words = ["border", "visa", "Minsk", "forest", "guards", "cold", "asylum", "we", "walked", "night"]
    interviews = []
    for i in range(N_INTERVIEWS):
        text = " ".join(rng.choice(words) for _ in range(TEXT_LENGTH // 6))[:TEXT_LENGTH].ljust(TEXT_LENGTH)
        interviews.append(
            Interview(
                project=project,
                participant=people[i % N_PARTICIPANTS],
                title=f"Interview {i}",
                interview_date=None if i % 50 == 0 else dt.date(2022, 1, 1) + dt.timedelta(days=i % 300),
                text=text,
                text_sha256="0" * 64,
                text_length=TEXT_LENGTH,
                status="coded" if i % 3 else "in_coding",
            )
        )
    interviews = Interview.objects.bulk_create(interviews, batch_size=200)
    turns = []
    for interview in interviews:
        for k, start in enumerate(range(0, TEXT_LENGTH, TURN)):
            role = "interviewer" if k % 2 == 0 else "participant"
            turns.append(
                SpeakerTurn(
                    interview=interview, index=k, start=start, end=min(TEXT_LENGTH, start + TURN),
                    speaker=role, role=role,
                )
            )  # fmt: skip
    SpeakerTurn.objects.bulk_create(turns, batch_size=5000)
    codes = []
    for g in range(N_GROUPS):
        group = Code.objects.create(project=project, name=f"Group {g}", is_codable=False, order=g)
        codes += Code.objects.bulk_create(
            [Code(project=project, name=f"Code {g}.{c}", parent=group, order=c) for c in range(CHILDREN)]
        )
    rows, seen = [], set()
    while len(rows) < N_CODINGS:
        interview = rng.choice(interviews)
        code = codes[min(len(codes) - 1, int(rng.paretovariate(1.2)) - 1 + rng.randrange(0, 20))]
        coder = rng.choice(coders)
        start = rng.randrange(0, TEXT_LENGTH - 50)
        end = min(TEXT_LENGTH, start + rng.randint(30, 400))
        key = (interview.pk, code.pk, coder.pk, start, end)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            Coding(project=project, interview=interview, code=code, coder=coder, start=start, end=end)
        )
    Coding.objects.bulk_create(rows, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return project, nationality, attempts


def bare(sql, params):
    def run():
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL jit = off")  # as the selectors do: compare like with like
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def alternating(fn, base, *, repeat: int, warmup: int = 2):
    """Milliseconds per call of ``fn`` and of ``base``, called in turn; and fn's CPU ms per call."""
    for _ in range(warmup):
        fn()
        base()
    mine, theirs, cpu = [], [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        mine.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        started = time.perf_counter()
        base()
        theirs.append((time.perf_counter() - started) * 1000)
    return mine, theirs, cpu


def main():
    started = time.perf_counter()
    project, nationality, attempts = build()
    print(
        f"{connection.vendor}: built {Interview.objects.count()} interviews, {Participant.objects.count()} "
        f"participants, {Code.objects.count()} codes, {Coding.objects.count()} codings "
        f"in {time.perf_counter() - started:.0f} s; {REPEAT} runs each\n"
    )
    book = analytics.Codebook(project)

    def scope():  # a request's scope: nothing loaded yet
        return analytics.make_scope(project)

    def everything():
        return analytics.make_scope(project, include_interviewer=True)

    group = book.groups()[0]
    groups = book.groups()
    coding, interview, value = Coding._meta.db_table, Interview._meta.db_table, AttributeValue._meta.db_table
    turn, participant = SpeakerTurn._meta.db_table, Participant._meta.db_table
    p = project.pk
    # N and the population the analytics count in: participants with at least one interview.
    people = (
        f"SELECT pp.id FROM {participant} pp WHERE pp.project_id = %s AND EXISTS "
        f"(SELECT 1 FROM {interview} ii WHERE ii.participant_id = pp.id AND ii.project_id = %s)"
    )

    cases = [
        (
            "1 code frequencies, participant unit (rolled up)",
            lambda: analytics.code_frequencies(everything(), per_coder=False),
            f"SELECT c.code_id, COUNT(DISTINCT i.participant_id) FROM {coding} c "
            f"JOIN {interview} i ON i.id = c.interview_id WHERE c.project_id = %s GROUP BY c.code_id",
            [p],
        ),
        (
            "1 … only participant speech (turn join)",
            lambda: analytics.code_frequencies(scope(), per_coder=False),
            f"SELECT c.code_id, COUNT(DISTINCT i.participant_id) FROM {coding} c "
            f"JOIN {interview} i ON i.id = c.interview_id WHERE c.project_id = %s AND EXISTS (SELECT 1 "
            f"FROM {turn} t WHERE t.interview_id = c.interview_id AND t.role = 'participant' "
            f'AND t.start < c."end" AND t."end" > c.start) GROUP BY c.code_id',
            [p],
        ),
        (
            "1 … only participant speech, + per coder",
            lambda: analytics.code_frequencies(scope(), per_coder=True),
            f"WITH e AS (SELECT c.code_id, c.coder_id, i.participant_id FROM {coding} c "
            f"JOIN {interview} i ON i.id = c.interview_id WHERE c.project_id = %s AND EXISTS (SELECT 1 "
            f"FROM {turn} t WHERE t.interview_id = c.interview_id AND t.role = 'participant' "
            f'AND t.start < c."end" AND t."end" > c.start)) '
            f"SELECT code_id, NULL, COUNT(DISTINCT participant_id) FROM e GROUP BY code_id "
            f"UNION ALL SELECT code_id, coder_id, COUNT(DISTINCT participant_id) FROM e "
            f"GROUP BY code_id, coder_id",
            [p],
        ),
        (
            "2 participant × code matrix (count, coverage)",
            lambda: analytics.participant_code_matrix(everything(), value="count"),
            f'SELECT i.participant_id, c.code_id, COUNT(*), SUM(c."end" - c.start) FROM {coding} c '
            f"JOIN {interview} i ON i.id = c.interview_id WHERE c.project_id = %s "
            f"GROUP BY i.participant_id, c.code_id",
            [p],
        ),
        (
            "3 co-occurrence, overlapping passages, participants",
            lambda: analytics.cooccurrence(everything(), mode="overlap"),
            f"SELECT a.code_id, b.code_id, COUNT(DISTINCT i.participant_id) FROM {coding} a "
            f'JOIN {coding} b ON b.interview_id = a.interview_id AND a.start < b."end" '
            f'AND b.start < a."end" AND a.code_id < b.code_id '
            f"JOIN {interview} i ON i.id = a.interview_id WHERE a.project_id = %s "
            f"GROUP BY a.code_id, b.code_id",
            [p],
        ),
        (
            "3 … only participant speech",
            lambda: analytics.cooccurrence(scope(), mode="overlap"),
            None,
            None,
        ),
        (
            "3 … nearby (≤ 200 characters apart)",
            lambda: analytics.cooccurrence(everything(), mode="nearby", distance=200),
            None,
            None,
        ),
        (
            "3 … same participant",
            lambda: analytics.cooccurrence(everything(), mode="participant"),
            None,
            None,
        ),
        (
            "4 code × nationality crosstab (one group)",
            lambda: analytics.crosstab(everything(), group=group, attribute="nationality"),
            f"SELECT c.code_id, av.value_text, COUNT(DISTINCT i.participant_id) FROM {coding} c "
            f"JOIN {interview} i ON i.id = c.interview_id "
            f"JOIN {value} av ON av.participant_id = i.participant_id "
            f"AND av.definition_id = %s WHERE c.project_id = %s GROUP BY c.code_id, av.value_text",
            [nationality.pk, p],
        ),
        (
            "5 heterogeneity, all 20 groups, 2,000 bootstrap replicates",
            lambda: analytics.heterogeneity(everything(), groups=groups),
            f"SELECT DISTINCT c.code_id, i.participant_id FROM {coding} c "
            f"JOIN {interview} i ON i.id = c.interview_id WHERE c.project_id = %s",
            [p],
        ),
        (
            "6 profiles over 3 groups, clustering 400 participants",
            lambda: analytics.profiles(everything(), groups=groups[:3]),
            None,
            None,
        ),
        (
            "7 profile query (2 codes AND attribute)",
            lambda: analytics.run_query(
                everything(),
                f"(code:{book.children[groups[0]][0]} OR code:{book.children[groups[1]][0]}) "
                "AND crossing_attempts >= 3",
                also=False,
            ),
            f"SELECT COUNT(*) FROM interviews_participant p WHERE p.project_id = %s "
            f"AND EXISTS (SELECT 1 FROM "
            f"{coding} c JOIN {interview} i ON i.id = c.interview_id WHERE i.participant_id = p.id "
            f"AND c.code_id IN (%s, %s)) AND EXISTS (SELECT 1 FROM {value} av WHERE av.participant_id = p.id "
            f"AND av.definition_id = %s AND av.value_number >= 3)",
            [p, book.children[groups[0]][0], book.children[groups[1]][0], attempts.pk],
        ),
        (
            "7 … bare SQL also listing them, with N and the population",
            lambda: analytics.run_query(
                everything(),
                f"(code:{book.children[groups[0]][0]} OR code:{book.children[groups[1]][0]}) "
                "AND crossing_attempts >= 3",
                also=False,
            ),
            f"WITH people AS ({people}) SELECT 0, p.id, p.pseudonym FROM {participant} p "
            f"WHERE p.id IN (SELECT id FROM people) AND EXISTS (SELECT 1 FROM "
            f"{coding} c JOIN {interview} i ON i.id = c.interview_id WHERE i.participant_id = p.id "
            f"AND c.code_id IN (%s, %s)) AND EXISTS (SELECT 1 FROM {value} av WHERE av.participant_id = p.id "
            f"AND av.definition_id = %s AND av.value_number >= 3) "
            f"UNION ALL SELECT 1, COUNT(*), NULL FROM people ORDER BY 1, 3, 2",
            [p, p, book.children[groups[0]][0], book.children[groups[1]][0], attempts.pk],
        ),
        (
            "7 … and what else the matches share (frequencies among them)",
            lambda: analytics.run_query(everything(), f"code:{book.children[groups[0]][0]}"),
            None,
            None,
        ),
        (
            "9 saturation curve (date order, per coder)",
            lambda: analytics.saturation(everything()),
            f"SELECT c.code_id, c.coder_id, c.interview_id FROM {coding} c WHERE c.project_id = %s "
            f"GROUP BY c.code_id, c.coder_id, c.interview_id",
            [p],
        ),
        (
            "10 events vs people (crossing attempts)",
            lambda: analytics.events_vs_people(everything(), attribute="crossing_attempts"),
            f"SELECT value_number, COUNT(*) FROM {value} WHERE definition_id = %s GROUP BY value_number",
            [attempts.pk],
        ),
        (
            "10 … bare SQL over the population, with N",
            lambda: analytics.events_vs_people(everything(), attribute="crossing_attempts"),
            f"WITH people AS ({people}) SELECT value_number, COUNT(DISTINCT participant_id) FROM {value} "
            f"WHERE definition_id = %s AND value_number IS NOT NULL AND participant_id IN "
            f"(SELECT id FROM people) GROUP BY value_number UNION ALL SELECT NULL, COUNT(*) FROM people",
            [p, p, attempts.pk],
        ),
    ]
    for label, fn, sql, params in cases:
        if sql:
            samples, base, cpu = alternating(fn, bare(sql, params), repeat=REPEAT)
            ratio = statistics.median(samples) / statistics.median(base)
            beside = (
                f"cpu {statistics.median(cpu):6.1f} ms   "
                f"bare SQL p50 {statistics.median(base):7.1f} ms   ratio {ratio:4.2f}×"
            )
        else:
            samples = timings(fn, repeat=REPEAT)
            beside = ""
        report(label, samples, beside=beside)

    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="owner"))
    url = f"/api/projects/{p}/analytics/frequencies/?include_interviewer=true&per_coder=false"
    assert client.get(url).status_code == 200
    report(
        "API GET frequencies (same as the first line, via DRF)",
        timings(lambda: client.get(url), repeat=REPEAT),
    )


if __name__ == "__main__":
    main()
