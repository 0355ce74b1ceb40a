"""Retrieve on the shared corpus: all passages of a code with context, the page, and CSV export.

Loads the shared corpus (50 transcripts, 30 codes, the 5,000-highlight plan = 6,026 codings)
into a fresh project through the services, then times, one request at a time:

* the selector listing every passage of the most used code with ~200 characters of context
  either side (the database cuts them; the row Taguette's "list all passages of one code"
  stands beside);
* the retrieve page (first page of 50, with the total count) through Django's test client;
* CSV export of every passage of that code, and of all 6,026 codings.

Run from the repository root: ``.venv/bin/python benchmarks/retrieve.py``.
"""

import time

from common import corpus_module, report, setup_django, timings

setup_django("retrieve")

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from coding import selectors  # noqa: E402
from coding import services as coding_services  # noqa: E402
from coding.views.retrieve import _rows  # noqa: E402
from interviews import services  # noqa: E402


def build():
    corpus = corpus_module()
    transcripts = corpus.make_corpus()
    codebook = corpus.make_codebook()
    plan = corpus.make_highlight_plan([t.text for t in transcripts])
    owner = get_user_model().objects.create(username="owner")
    project = services.create_project(name="Retrieve benchmark", owner=owner)
    codes = [
        coding_services.create_code(project=project, name=path, definition=description)
        for path, description in codebook
    ]
    interviews = []
    for t in transcripts:
        participant = services.create_participant(project=project, pseudonym=f"P{t.index + 1:03d}")
        turns = [
            {"start": s - len(speaker) - 2, "end": e, "speaker": speaker, "role": speaker.lower()}
            for s, e, speaker in t.turn_spans()
        ]
        interviews.append(
            services.create_interview(
                participant=participant, title=t.name, text=t.text, turns=turns, anonymised_by=owner
            )
        )
    started = time.perf_counter()
    made = skipped = 0
    for h in plan:
        for tag in h.tags:
            try:
                coding_services.create_coding(
                    interview=interviews[h.doc], code=codes[tag], coder=owner, start=h.start, end=h.end
                )
                made += 1
            except ValidationError:
                skipped += 1  # the same range with the same code twice
    seconds = time.perf_counter() - started
    print(f"loaded {len(interviews)} interviews, {len(codes)} codes, {made} codings ({skipped} duplicates)")
    print(f"  through coding.services.create_coding: {seconds * 1000 / made:.2f} ms per coding")
    return project, owner


def main():
    project, owner = build()
    top = project.codings.values("code_id").annotate(n=Count("id")).order_by("-n").first()
    code_id, n = top["code_id"], top["n"]
    total = project.codings.count()
    print(f"most used code: {n} passages; all codings: {total}\n")

    def list_all_passages():
        pseudonyms = selectors.interview_participants(project)
        codings = selectors.passages(project, code_ids=[code_id])
        rows = list(_rows(codings, selectors.CONTEXT_CHARS, pseudonyms))
        assert len(rows) == n

    report(
        f"list all {n} passages of one code with context",
        timings(list_all_passages, repeat=30),
        beside="Taguette p95 1.8-2.4 s",
    )

    setup_test_environment()
    client = Client()
    client.force_login(owner)
    base = f"/projects/{project.pk}/retrieve/"

    def page():
        response = client.get(base, {"code": code_id})
        assert response.status_code == 200

    report("retrieve page (first 50 of them, with count), HTTP", timings(page, repeat=30))

    def csv_code():
        response = client.get(base, {"code": code_id, "format": "csv"})
        size = sum(len(chunk) for chunk in response.streaming_content)
        assert size > 0

    report(f"CSV export of the {n} passages of that code, HTTP", timings(csv_code, repeat=15))

    def csv_all():
        response = client.get(base, {"format": "csv"})
        lines = b"".join(response.streaming_content).count(b"\n")
        assert lines >= total

    report(
        f"CSV export of all {total} codings, HTTP",
        timings(csv_all, repeat=10, warmup=1),
        beside="Taguette p50 1.4-2.0 s",
    )


if __name__ == "__main__":
    main()
