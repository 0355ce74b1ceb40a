"""Agreement on 100 interviews × 3 coders: α, κ and percentage agreement per code and overall.

The interviews are the shared corpus's transcripts (8,000 words each); coder 1 follows the shared
highlight plan, coders 2 and 3 are coder 1 with shifted boundaries and some codings left out or
added, so agreement is high but imperfect. Prints p50/p95 of each unit of analysis.
"""

import random

from common import corpus_module, report, setup_django, timings

setup_django("agreement")

from django.contrib.auth import get_user_model  # noqa: E402

from coding.agreement import Unit, project_agreement  # noqa: E402
from coding.models import Code, Coding  # noqa: E402
from interviews import services  # noqa: E402
from interviews.models import Interview, Membership, Participant, Role, SpeakerTurn  # noqa: E402

N_INTERVIEWS, CODINGS_PER_CODER = 100, 10_000


def build():
    corpus = corpus_module()
    transcripts = corpus.make_corpus(N_INTERVIEWS)
    codebook = corpus.make_codebook()
    plan = corpus.make_highlight_plan([t.text for t in transcripts], CODINGS_PER_CODER, hot_count=100)
    User = get_user_model()
    owner = User.objects.create(username="owner")
    project = services.create_project(name="Agreement benchmark", owner=owner)
    coders = [User.objects.create(username=f"coder{i}") for i in range(1, 4)]
    Membership.objects.bulk_create(Membership(project=project, user=c, role=Role.CODER) for c in coders)
    codes = Code.objects.bulk_create(Code(project=project, name=path) for path, _ in codebook)
    participants = Participant.objects.bulk_create(
        Participant(project=project, pseudonym=f"P-{i:03d}") for i in range(N_INTERVIEWS)
    )
    interviews = []
    for t, participant in zip(transcripts, participants, strict=True):
        text = t.text
        interviews.append(
            Interview(
                project=project,
                participant=participant,
                title=t.name,
                text=text,
                text_sha256="-",
                text_length=len(text),
                anonymised_at="2026-01-01T00:00Z",
                status="anonymised",
            )
        )
    interviews = Interview.objects.bulk_create(interviews)
    turns = []
    for t, interview in zip(transcripts, interviews, strict=True):
        for index, (start, end, speaker) in enumerate(t.turn_spans()):
            role = "interviewer" if speaker == corpus.INTERVIEWER else "participant"
            turns.append(
                SpeakerTurn(
                    interview=interview, index=index, start=start, end=end, speaker=speaker, role=role
                )
            )
    SpeakerTurn.objects.bulk_create(turns, batch_size=5000)
    rng = random.Random(7)
    rows = set()
    for coder_number in range(len(coders)):
        for h in plan:
            if coder_number and rng.random() < 0.1:
                continue  # left out by this coder
            length = interviews[h.doc].text_length
            jitter = (lambda: rng.randint(-6, 6)) if coder_number else (lambda: 0)
            start = max(0, h.start + jitter())
            end = min(length, max(start + 1, h.end + jitter()))
            for tag in h.tags:
                rows.add((h.doc, tag, coder_number, start, end))
    Coding.objects.bulk_create(
        (
            Coding(project=project, interview=interviews[d], code=codes[t], coder=coders[c], start=s, end=e)
            for d, t, c, s, e in rows
        ),
        batch_size=5000,
    )
    return project, len(rows)


project, n = build()
print(f"{N_INTERVIEWS} interviews × 3 coders, {n} codings, {Code.objects.count()} codes")
for unit in Unit:
    result = project_agreement(project, unit=unit)
    alpha = result.overall.alpha
    report(
        f"agreement by {unit.value} (overall α = {alpha:.3f})",
        timings(lambda unit=unit: project_agreement(project, unit=unit), repeat=10, warmup=1),
    )
