"""Import of the shared corpus as plain text: decoding, turn recognition and the identifier scan.

The 50 transcripts of ../shared/bench (8,000 words each) are encoded as UTF-8
files and each goes through what the import task does to a ``.txt`` before a
researcher reviews it: ``parse_upload`` (checks, charset detection,
normalisation), ``analyse`` (speaker turns, proposed roles, every identifier
pattern, the project's sensitive-term list and the name heuristic). Reported:
milliseconds per transcript (p50/p95/max over 5 rounds of the 50).

A second figure adds storing the confirmed interview (``confirm_import``:
redactions applied, interview, turns and redaction log written) on the
benchmark database.

Run from the repository root: ``.venv/bin/python benchmarks/import.py``.
"""

import os
import tempfile
import time

from common import corpus_module, report, setup_django

setup_django("import")

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from interviews import import_services, services  # noqa: E402
from interviews.importing import parse_upload  # noqa: E402
from interviews.models import ImportBatch, ImportFile  # noqa: E402

TERMS = [
    ("Camp Bruzgi", "CAMP", "[CAMP]"),
    ("Kuźnica", "VILLAGE", "[VILLAGE-1]"),
    ("Ahmad Karimi", "NAME", "[NAME-1]"),
    ("Grupa Granica", "ORGANISATION", "[ORG-1]"),
    ("Narach", "VILLAGE", "[VILLAGE-2]"),
]


PLANT = (
    "My friend Hevin Barzani from Camp Bruzgi called me on +375 29 123 45 67 and wrote to "
    "hevin.b{n}@example.org; I was born on 12.03.1994, passport no. N1234{n:04d}, we waited at "
    "53.68840, 23.82580 with Soran. "
)


def _plant(text: str) -> str:
    lines = text.split("\n")
    for i in range(1, len(lines), 8):
        if lines[i].startswith("Participant: "):
            lines[i] = "Participant: " + PLANT.format(n=i) + lines[i][len("Participant: ") :]
    return "\n".join(lines)


def main():
    corpus = corpus_module()
    transcripts = corpus.make_corpus()
    files = [t.text.encode("utf-8") for t in transcripts]
    words = [len(t.text.split()) for t in transcripts]
    owner = get_user_model().objects.create(username="bench-owner")
    project = services.create_project(name="Import benchmark", owner=owner)
    for term, category, placeholder in TERMS:
        import_services.add_sensitive_term(
            project=project, term=term, category=category, placeholder=placeholder
        )
    import_services.add_allowed_word(project=project, word="Minsk")
    terms = import_services.term_index(project)
    allowed = set(project.allowed_words.values_list("word", flat=True))

    def one(data):
        document = parse_upload("transcript.txt", data)
        return import_services.analyse(document, terms=terms, allowed=allowed)

    for data in files[:3]:  # warm-up: regexes compiled, English word list loaded
        one(data)
    samples, results = [], []
    for _ in range(5):
        for data in files:
            started = time.perf_counter()
            results.append(one(data))
            samples.append((time.perf_counter() - started) * 1000)
    print(f"corpus: {len(files)} transcripts, {min(words)}–{max(words)} words each")
    print(
        f"per transcript: {sum(len(r['turns']) for r in results[:50]) / 50:.0f} turns, "
        f"{sum(len(r['findings']) for r in results[:50]) / 50:.1f} findings"
    )
    report("parse + turns + identifier scan (ms per transcript)", samples, beside="target p95 ≤ 45 ms")

    # The shared corpus holds no digits, names or emails; the same text with identifiers
    # planted in every fourth participant turn shows the cost when there is something to find.
    planted = [_plant(t.text).encode("utf-8") for t in transcripts]
    samples, results = [], []
    for _ in range(3):
        for data in planted:
            started = time.perf_counter()
            results.append(one(data))
            samples.append((time.perf_counter() - started) * 1000)
    print(f"planted: {sum(len(r['findings']) for r in results[:50]) / 50:.0f} findings per transcript")
    report("same, with planted identifiers (ms per transcript)", samples)

    # With storing: staged like the task leaves it, then confirmed with all proposals accepted.
    settings.IMPORT_STAGING_DIR = tempfile.mkdtemp(prefix="bench-import-")
    batch = ImportBatch.objects.create(project=project, created_by=owner, file_count=len(files))
    stored = []
    for n, data in enumerate(files):
        import_file = ImportFile.objects.create(
            batch=batch, project=project, name=f"{n}.txt", extension=".txt"
        )
        import_services._write_private(import_services._staging_path(import_file, "upload"), data)
        started = time.perf_counter()
        import_services.process_import_file(file_id=import_file.pk)
        import_file.refresh_from_db()
        findings = import_services.review_data(import_file=import_file)["findings"]
        import_services.confirm_import(
            import_file=import_file,
            by=owner,
            title=f"Interview {n}",
            new_pseudonym=f"B-{n:02d}",
            redactions=[f for f in findings if f["accepted"]],
        )
        stored.append((time.perf_counter() - started) * 1000)
    report("whole import incl. staging file and database writes (ms per transcript)", stored)
    os.rmdir(settings.IMPORT_STAGING_DIR)


if __name__ == "__main__":
    main()
