"""The transcript coding view on the shared corpus: page data, polling, creating a coding, browser load.

Loads the shared corpus (50 transcripts of ~8,000 words, 30 codes, the 5,000-highlight plan; the
first interview has 300 highlights) into a fresh, anonymised project through the services, then
times one request at a time through Django's test client (in-process: the whole middleware, session
and DRF stack, no network):

* the coding view's page data for the interview with 300 highlights (text, turns, codings, codebook,
  members, memos) — the row Taguette's "load the interview with 300 codings" stands beside;
* the same request answered 304 by its ETag (what the 3-second poll costs when nothing changed);
* the coding view page itself (HTML with the same data inlined);
* creating one coding through the API (POST, validation, insert, answer) — beside Taguette's
  "create one coding".

With /usr/bin/chromium present it also serves the app with ``runserver`` and measures, in headless
Chromium, how long a 20,000-word transcript with 500 codings takes from navigation start to ready
to code (text, highlights and stripes drawn).

Run from the repository root: ``.venv/bin/python benchmarks/workbench.py``.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, corpus_module, report, setup_django

setup_django("workbench")

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from coding import services as coding_services  # noqa: E402
from interviews import services  # noqa: E402
from interviews.models import Role  # noqa: E402

PASSWORD = "a long benchmark password 7"  # noqa: S105 (a throw-away benchmark database)


def timed(label, fn, *, repeat, beside=""):
    """Report wall-clock and CPU milliseconds per call.

    The machine is shared: with other work running, wall time includes waiting for a core. CPU time
    of this process (the whole server side runs in it, SQLite included) is what a request costs
    when it has a core to itself.
    """
    for _ in range(3):
        fn()
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    report(label, wall, beside=beside)
    report("  the same, CPU time", cpu)


def turns_of(transcript):
    return [
        {"start": s - len(speaker) - 2, "end": e, "speaker": speaker, "role": speaker.lower()}
        for s, e, speaker in transcript.turn_spans()
    ]


def load_plan(plan, interviews, codes, coder, limit=None):
    made = skipped = 0
    for h in plan:
        for tag in h.tags:
            if limit is not None and made >= limit:
                return made, skipped
            try:
                coding_services.create_coding(
                    interview=interviews[h.doc], code=codes[tag], coder=coder, start=h.start, end=h.end
                )
                made += 1
            except ValidationError:
                skipped += 1  # the same range with the same code twice
    return made, skipped


def build():
    corpus = corpus_module()
    transcripts = corpus.make_corpus()
    codebook = corpus.make_codebook()
    plan = corpus.make_highlight_plan([t.text for t in transcripts])
    users = get_user_model().objects
    owner = users.create_user(username="owner", password=PASSWORD)
    coder = users.create_user(username="coder", password=PASSWORD)
    project = services.create_project(name="Workbench benchmark", owner=owner)
    services.add_member(project=project, user=coder, role=Role.CODER)
    codes = [
        coding_services.create_code(project=project, name=path, definition=description)
        for path, description in codebook
    ]
    interviews = []
    for t in transcripts:
        participant = services.create_participant(project=project, pseudonym=f"P{t.index + 1:03d}")
        interviews.append(
            services.create_interview(
                participant=participant, title=t.name, text=t.text, turns=turns_of(t), anonymised_by=owner
            )
        )
    started = time.perf_counter()
    made, skipped = load_plan(plan, interviews, codes, coder)
    seconds = time.perf_counter() - started
    print(f"loaded {len(interviews)} interviews, {len(codes)} codes, {made} codings ({skipped} duplicates)")
    print(f"  through coding.services.create_coding: {seconds * 1000 / made:.2f} ms per coding")

    # A long interview for the browser: 20,000 words, 500 codings.
    long_t = corpus.make_transcript(900, words=20_000)
    long_participant = services.create_participant(project=project, pseudonym="P-LONG")
    long_interview = services.create_interview(
        participant=long_participant,
        title="Long interview",
        text=long_t.text,
        turns=turns_of(long_t),
        anonymised_by=owner,
    )
    long_plan = corpus.make_highlight_plan([long_t.text], n_highlights=500, hot_count=500)
    long_made, _ = load_plan(long_plan, [long_interview], codes, coder, limit=500)
    return project, coder, interviews[0], codes, long_interview, long_made


def measure_http(project, coder, hot, codes):
    setup_test_environment()
    client = Client()
    client.force_login(coder)
    data_url = f"/api/projects/{project.pk}/interviews/{hot.pk}/coding-data/"
    n = hot.codings.count()
    print(
        f"\ninterview {hot.title!r}: {hot.text_length} characters, {hot.turns.count()} turns, {n} codings\n"
    )

    def page_data():
        response = client.get(data_url)
        assert response.status_code == 200
        assert len(response.json()["codings"]) == n

    timed(
        f"page data of the interview with {n} codings (GET)",
        page_data,
        repeat=200,
        beside="Taguette p50 96-144 ms, p95 123-155 ms; target p95 <= 40 ms",
    )

    etag = client.get(data_url)["ETag"]

    def poll():
        assert client.get(data_url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    timed("poll with ETag, nothing changed (304)", poll, repeat=200)

    page_url = f"/projects/{project.pk}/interviews/{hot.pk}/code/"

    def page():
        assert client.get(page_url).status_code == 200

    timed("coding view page, HTML with the data inlined", page, repeat=100)

    codings_url = f"/api/projects/{project.pk}/codings/"
    counter = iter(range(10_000))
    code = codes[-1]

    def create():
        i = next(counter)
        start = 7 + i * 3
        response = client.post(
            codings_url,
            {"interview": hot.pk, "code": code.pk, "start": start, "end": start + 40},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content

    timed(
        "create one coding (POST, round trip)",
        create,
        repeat=200,
        beside="Taguette p50 23 ms, p95 28-30 ms; target p95 <= 10 ms",
    )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_browser(project, long_interview, long_made):
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        print("\n(browser load not measured: /usr/bin/chromium is missing)")
        return
    port = free_port()
    env = {**os.environ, "APP_ENV": "test", "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from playwright.sync_api import sync_playwright

        base = f"http://127.0.0.1:{port}"
        url = f"{base}/projects/{project.pk}/interviews/{long_interview.pk}/code/"
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(chromium),
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--disable-sync",
                ],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/accounts/login/?next=/")
            page.fill("#id_username", "coder")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            samples, renders = [], []
            for i in range(12):
                page.goto(url)
                page.wait_for_selector("body[data-workbench=ready]")
                if i >= 2:
                    samples.append(page.evaluate("performance.now()"))
                    renders.append(
                        page.evaluate("performance.getEntriesByName('wb-first-render')[0].duration")
                    )
            words = len(long_interview.text.split())
            print()
            report(
                f"browser: {words:,} words, {long_made} codings, navigation to ready",
                samples,
                beside="target < 1,000 ms",
            )
            report("  of which the first render in workbench.js", renders)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def main():
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    project, coder, hot, codes, long_interview, long_made = build()
    measure_http(project, coder, hot, codes)
    measure_browser(project, long_interview, long_made)
    print(f"\nload average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
