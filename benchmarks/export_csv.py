"""Tidy CSV export of every coding of the shared corpus (50 interviews, 6,026 codings).

Taguette 1.5.2 exports the same 6,026 codings as CSV in 1.4-2.0 s (../shared/bench/README.md);
our target is <= 450 ms. The project is loaded with the services (codebook, participants,
interviews); the codings are checked like ``coding.services`` checks them and then bulk-created.
Also prints the XLSX, profiles and QDPX exports of the same project for reference.

Run from the repository root: ``.venv/bin/python benchmarks/export_csv.py``
(``DATABASE_URL=postgres://...`` measures on PostgreSQL; that database is wiped).
"""

from common import corpus_module, report, setup_django, timings

setup_django("export_csv")

from django.contrib.auth import get_user_model  # noqa: E402

from coding import services as coding_services  # noqa: E402
from coding import tabular  # noqa: E402
from coding.models import Coding  # noqa: E402
from coding.refi import export  # noqa: E402
from interviews import services  # noqa: E402
from interviews.models import Role  # noqa: E402


def build():
    corpus = corpus_module()
    transcripts = corpus.make_corpus()
    codebook = corpus.make_codebook()
    plan = corpus.make_highlight_plan([t.text for t in transcripts])
    User = get_user_model()
    owner = User.objects.create(username="owner")
    coder = User.objects.create(username="coder")
    project = services.create_project(name="CSV export benchmark", owner=owner)
    coder2 = User.objects.create(username="coder2")
    services.add_member(project=project, user=coder, role=Role.CODER)
    services.add_member(project=project, user=coder2, role=Role.CODER)
    services.create_attribute_definition(
        project=project, key="group", label="Group", kind="categorical", choices=["A", "B"]
    )
    codes = [
        coding_services.create_code(project=project, name=path, definition=description)
        for path, description in codebook
    ]
    interviews = []
    for t in transcripts:
        participant = services.create_participant(
            project=project, pseudonym=f"P-{t.index:03d}", attributes={"group": "AB"[t.index % 2]}
        )
        interviews.append(
            services.create_interview(participant=participant, title=t.name, text=t.text, anonymised_by=owner)
        )
    rows, seen = [], set()
    for h in plan:
        interview = interviews[h.doc]
        assert 0 <= h.start < h.end <= interview.text_length
        for tag in h.tags:
            # The plan repeats a few (passage, code) pairs; one coder codes a
            # passage with a code once, so a repeat is the second coder's.
            key = (h.doc, tag, h.start, h.end)
            who = coder2 if key in seen else coder
            seen.add(key)
            rows.append(
                Coding(
                    project=project,
                    interview=interview,
                    code=codes[tag],
                    coder=who,
                    start=h.start,
                    end=h.end,
                )
            )
    Coding.objects.bulk_create(rows, batch_size=2000)
    return project


project = build()
n = Coding.objects.filter(project=project).count()
print(f"{project.interviews.count()} interviews, {n} codings, {project.codes.count()} codes")


def csv_codings():
    return len(tabular.csv_text(tabular.codings_table(project)))


size = csv_codings()
print(f"codings CSV: {size / 1e6:.2f} MB")
report("CSV of all codings (target <= 450 ms)", timings(csv_codings, repeat=15), beside="Taguette 1.4-2.0 s")
report("XLSX of all codings", timings(lambda: tabular.xlsx_bytes(tabular.codings_table(project)), repeat=5))
report(
    "CSV of participant x code profiles",
    timings(lambda: tabular.csv_text(tabular.profiles_table(project)), repeat=15),
)
report("QDPX of the whole project", timings(lambda: export.export_qdpx(project), repeat=5))


def through_the_api():
    from django.test import Client

    client = Client()
    client.force_login(project.memberships.get(role=Role.OWNER).user)

    def fetch():
        response = client.get(f"/api/projects/{project.pk}/export/codings.csv")
        assert response.status_code == 200
        return b"".join(response.streaming_content)

    return fetch


report("GET .../export/codings.csv (whole request)", timings(through_the_api(), repeat=15))
