"""Seed a database for the resilience suite and print what was made as one line of JSON.

``python -m tests.resilience.seed [--coders N] [--interviews N] [--codings N] [--large]`` with
DATABASE_URL set (the database must be migrated). Project A has an owner, a supervisor, N coders,
a viewer, interviews from the shared benchmark corpus (../shared/bench) with the first coder's
codings; project B belongs to ``outsider``. ``--large`` adds a 2 MB transcript with 5,000 codings
(LD2). Every user gets an API token; the JSON carries ids and tokens (a throw-away database).

Content goes through the services, except the bulk of codings, which is inserted in one query per
interview after the same checks ``coding.demo`` makes (5,000 service calls would dominate the run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A copy of ../shared/bench/corpus.py (see benchmarks/corpus/PROVENANCE.md).
SHARED_BENCH = ROOT / "benchmarks" / "corpus"
PASSWORD = "resilience suite password 42"  # noqa: S105 (a throw-away database)


def corpus_module():
    sys.path.insert(0, str(SHARED_BENCH))
    import corpus

    return corpus


def turns_of(transcript):
    return [
        {"start": s - len(speaker) - 2, "end": e, "speaker": speaker, "role": speaker.lower()}
        for s, e, speaker in transcript.turn_spans()
    ]


def add_codings(interview, coder, codes, plan, limit: int | None = None) -> int:
    from coding.models import Coding

    rows, seen = [], set()
    for h in plan:
        for tag in h.tags:
            key = (codes[tag].pk, h.start, h.end)
            if key in seen or not (0 <= h.start < h.end <= interview.text_length):
                continue
            if limit is not None and len(rows) >= limit:
                break
            seen.add(key)
            rows.append(
                Coding(
                    project_id=interview.project_id,
                    interview=interview,
                    code=codes[tag],
                    coder=coder,
                    start=h.start,
                    end=h.end,
                )
            )
    Coding.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def build(*, coders: int, interviews: int, codings: int, large: bool) -> dict:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from coding import services as coding_services
    from interviews import services
    from interviews.models import Role

    corpus = corpus_module()
    users = get_user_model().objects

    def user(name):
        made = users.create_user(username=name, password=PASSWORD)
        return made, Token.objects.create(user=made).key

    owner, owner_token = user("owner")
    supervisor, supervisor_token = user("supervisor")
    viewer, viewer_token = user("viewer")
    outsider, outsider_token = user("outsider")
    coder_list = [user(f"coder{i:02d}") for i in range(1, coders + 1)]

    project = services.create_project(name="Resilience project", owner=owner)
    services.add_member(project=project, user=supervisor, role=Role.SUPERVISOR)
    services.add_member(project=project, user=viewer, role=Role.VIEWER)
    for coder, _ in coder_list:
        services.add_member(project=project, user=coder, role=Role.CODER)
    codes = [
        coding_services.create_code(project=project, name=path, definition=description)
        for path, description in corpus.make_codebook()
    ]
    transcripts = corpus.make_corpus(n_docs=interviews)
    made = []
    for t in transcripts:
        participant = services.create_participant(project=project, pseudonym=f"P{t.index + 1:03d}")
        made.append(
            services.create_interview(
                participant=participant, title=t.name, text=t.text, turns=turns_of(t), anonymised_by=owner
            )
        )
    plan = corpus.make_highlight_plan([t.text for t in transcripts], n_highlights=codings)
    first_coder = coder_list[0][0] if coder_list else owner
    for index, interview in enumerate(made):
        add_codings(interview, first_coder, codes, [h for h in plan if h.doc == index])

    other = services.create_project(name="Another team's project", owner=outsider)
    other_participant = services.create_participant(project=other, pseudonym="B001")
    other_interview = services.create_interview(
        participant=other_participant,
        title="Another team's interview",
        text="Interviewer: Hello.\nParticipant: This belongs to another team.",
        turns=[],
        anonymised_by=outsider,
    )
    coding_services.create_code(project=other, name="Another team's code")

    result = {
        "project": project.pk,
        "interviews": [i.pk for i in made],
        "interview_lengths": [i.text_length for i in made],
        "codes": [c.pk for c in codes],
        "password": PASSWORD,
        "tokens": {
            "owner": owner_token,
            "supervisor": supervisor_token,
            "viewer": viewer_token,
            "outsider": outsider_token,
            "coders": [token for _, token in coder_list],
        },
        "coder_ids": [c.pk for c, _ in coder_list],
        "other_project": other.pk,
        "other_interview": other_interview.pk,
    }
    if large:
        # About 2 MB of text (390,000 words) with 5,000 codings (LD2).
        long_t = corpus.make_transcript(901, words=390_000)
        participant = services.create_participant(project=project, pseudonym="P-LARGE")
        interview = services.create_interview(
            participant=participant,
            title="Large interview",
            text=long_t.text,
            turns=turns_of(long_t),
            anonymised_by=owner,
        )
        long_plan = corpus.make_highlight_plan([long_t.text], n_highlights=5000, hot_count=5000)
        n = add_codings(interview, first_coder, codes, long_plan, limit=5000)
        result["large_interview"] = interview.pk
        result["large_bytes"] = len(long_t.text.encode())
        result["large_codings"] = n
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coders", type=int, default=2)
    parser.add_argument("--interviews", type=int, default=3)
    parser.add_argument(
        "--codings", type=int, default=300, help="codings of the first coder over the interviews"
    )
    parser.add_argument("--large", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import transaction

    with transaction.atomic():
        result = build(coders=args.coders, interviews=args.interviews, codings=args.codings, large=args.large)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
