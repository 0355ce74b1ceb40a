"""IN1 and DP5 in a real browser: stored XSS in every user-provided field, and no third-party request.

A corpus of payloads (script tags, event handlers, ``javascript:`` URLs, SVG,
attribute and ``</script>`` breakouts, mXSS shapes, template injection, Unicode tricks)
is stored through the services in every string a user can write: project name and
description, participant pseudonyms, attribute labels, descriptions, choices and values,
interview titles, languages, interviewer pseudonyms, transcript text and speaker names,
code names, definitions, criteria and examples, coding comments and comment threads,
memo titles and texts, saved query names and descriptions, allowed words, user display
names and an import's file name and text. Then every page route the URL resolver knows
(ids filled in) is opened in headless Chromium as the owner, and

- no payload ran: no dialog, no call of the marker function, no CSP violation report
  (CSP would block an injected inline script, so a violation means markup got through);
- no element or attribute the payloads would create exists in the DOM (``on*``
  attributes, ``javascript:`` URLs, ``iframe``/``object``/``embed``/``base``,
  ``img src=x``, inline scripts other than ``json_script`` data);
- the payload is shown as text on the pages that show user content;
- (DP5) every request the page made went to the app's own origin.
"""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLResolver, get_resolver

from coding import comments as coding_comments
from coding import services as coding_services
from interviews import import_services, services
from interviews.models import ImportFile, ImportFileStatus, Membership
from tests.browser import log_in, screenshot

ROOT = Path(__file__).resolve().parent.parent


def in_browser(test):
    return pytest.mark.browser(pytest.mark.django_db(transaction=True)(test))


# Each payload calls __xss(n) if it ever runs. Short ones fit 40-character fields.
SHORT = [
    "<img src=x onerror=__xss(1)>",
    '"><svg onload=__xss(2)>',
    "'><img src=x onerror=__xss(3)>",
    "<script>__xss(4)</script>",
    "javascript:__xss(5)//",
    "{{7*7}}${7*7}<%=7*7%>",
    "\u202e<b onmouseover=__xss(6)>\u200bx",
    "＜script＞__xss(7)＜/script＞",
]
LONG = [
    '<a href="javascript:__xss(11)">click</a>',
    "</textarea></script><script>__xss(12)</script>",
    '<iframe srcdoc="<script>parent.__xss(13)</script>"></iframe>',
    "<details open ontoggle=__xss(14)>",
    '<noscript><p title="</noscript><img src=x onerror=__xss(15)>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=__xss(16)>",
    "<style>body{background:url(javascript:__xss(17))}</style>",
    '<base href="//evil.example/"><form action="javascript:__xss(18)"><button>go</button></form>',
    '"-__xss(19)-"\';__xss(20);//',
    "{{constructor.constructor('__xss(21)')()}} {% debug %} {{ settings.SECRET_KEY }}",
    "<svg><animate onbegin=__xss(22) attributeName=x dur=1s>"
    '<use href="data:image/svg+xml,<svg id=x/>"/></svg>',
    '<object data="javascript:__xss(23)"></object><embed src="javascript:__xss(24)">',
]
CORPUS = SHORT + LONG
ALL = " ".join(CORPUS)

INIT_SCRIPT = """
window.__xssHits = [];
window.__xss = (n) => window.__xssHits.push(String(n));
for (const name of ['alert', 'confirm', 'prompt', 'print']) {
  window[name] = (m) => window.__xssHits.push(name + ':' + m);
}
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
}, true);
"""

DOM_CHECK = """
() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) bad.push(el.tagName + '[' + a.name + ']');
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'srcdoc'].includes(a.name)
          && /^\\s*(javascript|vbscript|data:text\\/html)/i.test(a.value)) {
        bad.push(el.tagName + ' ' + a.name + '=' + a.value);
      }
    }
    if (['IFRAME', 'OBJECT', 'EMBED', 'BASE', 'MGLYPH', 'ANIMATE'].includes(el.tagName)) bad.push(el.tagName);
    if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') bad.push('img src=x');
    if (el.tagName === 'SCRIPT' && !el.src && el.type !== 'application/json') bad.push('inline script');
    if (el.tagName === 'STYLE' && el.textContent.includes('__xss')) bad.push('injected style');
  }
  return bad;
}
"""


@pytest.fixture(autouse=True)
def private_folders(settings, tmp_path):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    settings.EXPORT_DIR = tmp_path / "exports"


def seed(team, live_server):
    """Store the corpus in every user-provided string field, through the services."""
    project = team.project
    services.update_project(project=project, name="Study " + SHORT[0], description=ALL)
    User = get_user_model()
    User.objects.filter(pk=team.coder.pk).update(first_name=SHORT[1], last_name=LONG[0])
    User.objects.filter(pk=team.supervisor.pk).update(first_name=SHORT[3], last_name=SHORT[4])
    services.create_attribute_definition(
        project=project,
        key="origin",
        label="Origin " + SHORT[2],
        kind="categorical",
        choices=[SHORT[0], SHORT[3], SHORT[5]],
        description=LONG[1],
    )
    services.create_attribute_definition(project=project, key="notes", label=LONG[2][:120], kind="text")
    services.update_participant(
        participant=team.participant, attributes={"origin": SHORT[0], "notes": ALL[:2000]}
    )
    people = [services.create_participant(project=project, pseudonym=payload[:40]) for payload in SHORT[1:]]
    text_lines = [f"{payload[:60]}: {payload} said {LONG[i % len(LONG)]}" for i, payload in enumerate(CORPUS)]
    text = "\n".join(text_lines) + "\n"
    turns, pos = [], 0
    for line in text_lines:
        speaker = line.split(": ", 1)[0]
        turns.append({"start": pos, "end": pos + len(line), "speaker": speaker[:80], "role": "participant"})
        pos += len(line) + 1
    interview = services.create_interview(
        participant=people[0],
        title="Interview " + LONG[1],
        text=text,
        turns=turns,
        anonymised_by=team.owner,
        language=SHORT[3][:40],
        interviewer_pseudonym=SHORT[1][:40],
    )
    code = coding_services.create_code(
        project=project,
        name=SHORT[0],
        parent=team.code_group,
        definition=LONG[0],
        inclusion_criteria=LONG[3],
        exclusion_criteria=LONG[4],
        example=LONG[5],
    )
    coding_services.update_code(code=team.code2, name=LONG[6][:120], definition=LONG[7])
    coding = coding_services.create_coding(
        interview=interview, code=code, coder=team.coder, start=0, end=20, comment=LONG[8]
    )
    coding_services.create_coding(
        interview=interview, code=team.code2, coder=team.coder2, start=5, end=40, comment=LONG[9]
    )
    coder = Membership.objects.get(project=project, user=team.coder)
    thread = coding_comments.add_comment(membership=coder, coding=coding, text=LONG[10])
    coding_comments.add_comment(membership=coder, coding=coding, text=LONG[11], parent=thread)
    coding_services.create_memo(project=project, author=team.coder, text=ALL, title=LONG[0][:200])
    coding_services.create_memo(
        project=project, author=team.coder, text=LONG[2], title=SHORT[4], target=interview
    )
    coding_services.create_memo(project=project, author=team.coder, text=LONG[3], target=code)
    coding_services.create_saved_query(
        project=project, created_by=team.coder, name=SHORT[0], expression='"Visa route"', description=LONG[0]
    )
    import_services.add_allowed_word(project=project, word="<svg/onload=__xss(30)>", by=team.owner)
    batch = import_services.start_import(
        project=project,
        by=team.owner,
        files=[(f"{SHORT[0][:20]}.txt", ("Interviewer: " + LONG[1] + "\nP1: " + ALL + "\n").encode())],
    )
    import_file = ImportFile.objects.get(batch=batch)
    assert import_file.status == ImportFileStatus.READY, import_file.reason
    return {
        "project_pk": project.pk,
        "interview_pk": interview.pk,
        "participant_pk": people[0].pk,
        "code_pk": code.pk,
        "file_pk": import_file.pk,
        "member_pk": coder.pk,
    }


def page_routes():
    """Every page route (not the API, admin, logout or downloads), as (name, regex route)."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.name

    for route, name in walk(get_resolver().url_patterns):
        if route.startswith(("api/", "admin/")) or name in ("logout", "analytics-download"):
            continue
        yield name, route


def fill(route: str, ids: dict) -> str | None:
    path = route
    for key, value in ids.items():
        path = path.replace(f"<int:{key}>", str(value))
    if "<" in path:
        return None  # an id this walk has no object for (e.g. a POST-only action)
    return "/" + path


# Pages that show what users wrote; each must show some payload as text.
SHOWS_CONTENT = {
    "project-list",
    "project-home",
    "participant-list",
    "participant-detail",
    "codebook",
    "retrieve",
    "memos-page",
    "analytics-dashboard",
    "coding-view",
    "import-review",
}


def visit(page, path):
    response = page.goto(path)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # let page modules render their data
    return response


def open_every_page(page, live_server, team, ids, extra_query=None, username="olga_owner"):
    page.add_init_script(INIT_SCRIPT)
    log_in(page, username)
    visited = []
    for name, route in page_routes():
        path = fill(route, ids)
        if path is None:
            continue
        if extra_query and name in extra_query:
            path += extra_query[name]
        response = visit(page, path)
        status = response.status if response else 0
        assert status < 500, (path, status)
        if status == 405:  # a POST-only action
            continue
        visited.append((name, path, status))
        yield name, path
    assert len(visited) >= 15, visited


# What each walker must see the payloads on (a coder sees less than the owner).
SHOWN_TO = {
    "olga_owner": SHOWS_CONTENT,
    "cora_coder": {"project-home", "participant-detail", "codebook", "coding-view", "memos-page", "retrieve"},
}


@in_browser
@pytest.mark.parametrize("username", sorted(SHOWN_TO))
def test_no_stored_payload_runs_or_becomes_markup_on_any_page(team, page, live_server, username):
    ids = seed(team, live_server)
    extra = {"retrieve": f"?code={ids['code_pk']}", "analytics-dashboard": "?numeric=&saved="}
    problems = []
    shown_on, templates_shown_on, visited = set(), set(), []
    for name, path in open_every_page(page, live_server, team, ids, extra, username=username):
        visited.append(name)
        hits = page.evaluate("window.__xssHits")
        csp = page.evaluate("window.__csp")
        bad = page.evaluate(DOM_CHECK)
        if hits or csp or bad:
            problems.append((path, hits, csp, bad))
            screenshot(page, f"xss-{username}-{name}")
        text = page.locator("body").inner_text()
        if re.search(r"__xss\(\d+\)", text):
            shown_on.add(name)
        if "{{7*7}}${7*7}<%=7*7%>" in text:
            templates_shown_on.add(name)
    assert problems == []
    assert page.guard.dialogs == []
    assert page.guard.errors == []
    missing = SHOWN_TO[username] - shown_on
    assert not missing, f"these pages did not show the payloads as text: {missing}"
    # Template syntax in stored text is shown as typed, never evaluated (no "49").
    assert {"project-home", "memos-page"} <= templates_shown_on, templates_shown_on
    print("pages checked:", visited)


@in_browser
def test_the_detectors_catch_markup_that_got_through(team, page, live_server):
    """If escaping failed somewhere, the checks above would see it: inject the corpus as markup."""
    page.add_init_script(INIT_SCRIPT)
    log_in(page, "olga_owner")
    visit(page, f"/projects/{team.project.pk}/")
    page.evaluate("(html) => document.querySelector('main').insertAdjacentHTML('beforeend', html)", ALL)
    page.wait_for_timeout(300)
    bad = page.evaluate(DOM_CHECK)
    assert {"IMG[onerror]", "img src=x", "IFRAME", "BASE", "OBJECT", "EMBED"} <= set(bad), bad
    assert any(b.startswith("A href=javascript:") for b in bad), bad
    # The enforced CSP refused the inline handlers, and said so.
    assert page.evaluate("window.__csp"), "no CSP violation was reported"
    assert page.evaluate("window.__xssHits") == []


@in_browser
def test_every_page_requests_only_its_own_origin(team, page, live_server):
    ids = seed(team, live_server)
    by_page = {}
    for _name, path in open_every_page(page, live_server, team, ids):
        by_page[path] = list(page.guard.foreign_requests)
    assert page.guard.foreign_requests == [], by_page
    # The guard does see requests: every page loads its own CSS at least.
    assert page.guard.origin.startswith("http://")


def test_page_scripts_never_build_markup_from_strings():
    """Page modules put text into the DOM with textContent; none parses strings as HTML."""
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setTimeout\(\s*['\"]"
    )
    offenders = [
        f"{path.name}:{n}"
        for path in sorted((ROOT / "static" / "js").glob("*.js"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if sinks.search(line)
    ]
    assert offenders == []


def test_templates_never_switch_escaping_off():
    offenders = [
        f"{path.relative_to(ROOT)}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if re.search(r"\|\s*safe\b|autoescape\s+off|\|\s*safeseq", path.read_text())
    ]
    assert offenders == []
    # mark_safe only where every part was built by format_html (server-rendered charts).
    python = [
        str(path.relative_to(ROOT))
        for folder in ("coding", "interviews", "accounts", "config")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "mark_safe(" in path.read_text()
    ]
    assert python == ["coding/charts.py"], python


@pytest.mark.django_db
def test_a_colour_that_is_not_a_colour_is_refused(team, api):
    client = api.as_user(team.supervisor)
    for colour in (
        "red;background:url(javascript:alert(1))",
        '"><svg onload=alert(1)>',
        "#12345g",
        "expression(1)",
    ):
        response = client.post(
            f"/api/projects/{team.project.pk}/codes/",
            {"name": f"c {colour[:5]}", "colour": colour},
            format="json",
        )
        assert response.status_code == 400 and "colour" in response.json(), colour
