"""Co-occurrence drill-down: a heatmap cell opens exactly the passages its count is made of.

The brute force re-implements the pairing rules of ``coding.drilldown`` in Python over
random studies (``tests.test_analytics_random.World``) and checks both the listed codings
and that the units they fall in are the co-occurrence count; the hand-worked study of
``tests.analytics_data`` checks the dashboard's links, the retrieve page and the API.
"""

import html
import itertools
import re
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings

from coding import analytics, drilldown

from .analytics_data import LINE2, LINE3, build_study
from .browser import log_in
from .test_analytics_random import World, study_strategy

MODES = (("overlap", 0), ("nearby", 0), ("nearby", 7), ("participant", 0))


def partners(a, b, mode, distance):
    """Brute force: do World rows a (of code X) and b (of code Y) co-occur?"""
    if mode == "participant":
        return a[6] == b[6]
    if a[3] != b[3]:
        return False
    if mode == "overlap":
        return a[4] < b[5] and b[4] < a[5]
    return b[4] <= a[5] + distance and a[4] <= b[5] + distance


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(study_strategy)
def test_drill_down_lists_the_codings_behind_every_cooccurrence_count(team, study):
    world = World(team, *study)
    for include, coder in ((False, None), (True, None), (False, 1)):
        rows = world.eligible(include_interviewer=include, coder=coder)
        coder_id = None if coder is None else world.coder_ids[coder]
        scope = analytics.make_scope(world.project, coder_id=coder_id, include_interviewer=include)
        for mode, distance in MODES:
            listed = {}
            names = [n for n in world.codes if n != "G"]
            for x, y in itertools.permutations(names, 2):
                got = set(
                    drilldown.cooccurring_codings(
                        scope,
                        code_id=world.codes[x].pk,
                        with_code_id=world.codes[y].pk,
                        mode=mode,
                        distance=distance,
                    ).values_list("id", flat=True)
                )
                xs = [r for r in rows if r[1] == x]
                ys = [r for r in rows if r[1] == y]
                want = {a[0] for a in xs if any(partners(a, b, mode, distance) for b in ys)}
                assert got == want, (include, coder, mode, distance, x, y)
                listed[(x, y)] = ([a for a in xs if a[0] in got], ys)
            # The passages listed for a cell make up the count in the cell, in every unit.
            units = ("participants",) if mode == "participant" else ("participants", "interviews", "codings")
            for unit in units:
                result = analytics.cooccurrence(replace(scope, unit=unit), mode=mode, distance=distance)
                order = [c["name"] for c in result["codes"]]
                for (x, y), (xs, ys) in listed.items():
                    count = result["counts"][order.index(x)][order.index(y)]
                    if unit == "participants":
                        want = len({a[6] for a in xs})
                    elif unit == "interviews":
                        want = len({a[3] for a in xs})
                    else:
                        want = sum(partners(a, b, mode, distance) for a in xs for b in ys)
                    assert count == want, (include, coder, mode, distance, unit, x, y)


@pytest.fixture
def hand(team):
    return build_study(team)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def passages(response):
    """(code name, participant pseudonym, start) of each passage on a retrieve page."""
    found = []
    for item in re.findall(r'<li class="passage">(.*?)</li>', response.content.decode(), flags=re.S):
        code = re.search(r"<strong>(.*?)</strong>", item).group(1)
        start = int(re.search(r"characters (\d+)–", item).group(1))
        pseudonym = re.search(r"</a> ·\s*(\S+) · coded by", item).group(1)
        found.append((html.unescape(code), pseudonym, start))
    return sorted(found)


def pair(link):
    query = parse_qs(urlsplit(link).query)
    return int(query["code"][0]), int(query["with_code"][0])


def link_for(links, x, y):
    return next(h for h in links if pair(h) == (x, y))


def cooccurrence_links(response):
    section = response.content.decode().split('id="cooccurrence"', 1)[1].split("</section>", 1)[0]
    return [html.unescape(h) for h in re.findall(r'href="([^"]*with_code=[^"]*)"', section)]


def test_heatmap_cells_and_table_open_the_passages_where_two_codes_overlap(hand, team):
    client = client_for(team.supervisor)
    page = client.get(reverse("analytics-dashboard", args=[team.project.pk]))
    assert page.status_code == 200
    links = set(cooccurrence_links(page))
    taliban, pushback = hand.codes["Taliban"].pk, hand.codes["Prior pushback"].pk
    btv, military = hand.codes["BTV"].pk, hand.codes["Military service"].pk
    # Only the two pairs that overlap in participant speech have links, each both ways.
    pairs = {pair(h) for h in links}
    assert pairs == {(taliban, pushback), (pushback, taliban), (btv, military), (military, btv)}
    for h in links:
        query = parse_qs(urlsplit(h).query)
        assert query["together"] == ["overlap"] and query["speech"] == ["participant"]
    assert passages(client.get(link_for(links, taliban, pushback))) == [("Taliban", "P1", LINE3[0])]
    assert passages(client.get(link_for(links, pushback, taliban))) == [("Prior pushback", "P1", LINE3[0])]
    assert passages(client.get(link_for(links, military, btv))) == [("Military service", "P2", LINE2[0])]
    assert passages(client.get(link_for(links, btv, military))) == [
        ("Belarusian tourist visa", "P2", LINE2[0])
    ]
    # The table beside the heatmap links the same passages.
    table = page.content.decode().split('id="table-cooccurrence"', 1)[1].split("</table>", 1)[0]
    assert html.escape(link_for(links, taliban, pushback)) in table


def test_same_participant_links_follow_the_dashboard_mode(hand, team):
    client = client_for(team.supervisor)
    page = client.get(reverse("analytics-dashboard", args=[team.project.pk]) + "?mode=participant")
    links = cooccurrence_links(page)
    btv, taliban = hand.codes["BTV"].pk, hand.codes["Taliban"].pk
    link = link_for(links, btv, taliban)
    assert "together=participant" in link
    # P1's BTV passage: BTV and Taliban are coded for P1 in different lines.
    assert passages(client.get(link)) == [("Belarusian tourist visa", "P1", LINE2[0])]


def test_nearby_drill_down_reaches_across_the_line_break(hand, team):
    client = client_for(team.supervisor)
    base = reverse("retrieve", args=[team.project.pk])
    btv, taliban = hand.codes["BTV"].pk, hand.codes["Taliban"].pk
    query = f"?code={btv}&with_code={taliban}&together=nearby&speech=participant"
    assert passages(client.get(base + query + "&distance=0")) == []
    assert passages(client.get(base + query + "&distance=1")) == [("Belarusian tourist visa", "P1", LINE2[0])]


def test_drill_down_needs_a_first_code_and_a_known_mode(hand, team):
    client = client_for(team.coder)
    base = reverse("retrieve", args=[team.project.pk])
    taliban, pushback = hand.codes["Taliban"].pk, hand.codes["Prior pushback"].pk
    response = client.get(f"{base}?with_code={taliban}")
    assert response.status_code == 400
    assert "Choose the code whose passages" in response.content.decode()
    assert client.get(f"{base}?code={taliban}&with_code={pushback}&together=sideways").status_code == 400
    assert client.get(f"{base}?code={taliban}&with_code={taliban}").status_code == 400
    response = client.get(f"{base}?code={taliban}&with_code={pushback}&where=nationality+%3D+%22Mars%22")
    assert response.status_code == 400
    assert "Mars" in html.unescape(response.content.decode())


def test_interviewer_turns_count_only_when_the_link_says_so(hand, team):
    """P4's Prior pushback is in an interviewer turn: it overlaps nothing, but the scope still matters."""
    client = client_for(team.supervisor)
    base = reverse("retrieve", args=[team.project.pk])
    pushback = hand.codes["Prior pushback"].pk
    everyone = passages(client.get(f"{base}?code={pushback}"))
    spoken = passages(client.get(f"{base}?code={pushback}&speech=participant"))
    assert ("Prior pushback", "P4", 0) in everyone
    assert ("Prior pushback", "P4", 0) not in spoken


def test_api_lists_the_codings_that_cooccur(hand, team, api):
    api.as_user(team.viewer)
    taliban, pushback = hand.codes["Taliban"].pk, hand.codes["Prior pushback"].pk
    url = f"/api/projects/{team.project.pk}/codings/"
    response = api.get(url, {"code": taliban, "with_code": pushback})
    assert response.status_code == 200, response.content
    rows = response.json()["results"] if isinstance(response.json(), dict) else response.json()
    assert [(r["code"], r["start"]) for r in rows] == [(taliban, LINE3[0])]
    response = api.get(url, {"with_code": pushback})
    assert response.status_code == 400 and "code" in response.json()
    response = api.get(url, {"code": taliban, "with_code": pushback, "together": "participant"})
    assert len(response.json()["results"] if isinstance(response.json(), dict) else response.json()) == 1


@pytest.mark.browser
def test_clicking_a_heatmap_cell_opens_its_passages(page, transactional_db, team):
    study = build_study(team)
    project = team.project.pk
    log_in(page, team.supervisor.username, next_path=f"/projects/{project}/analytics/")
    taliban = study.codes["Taliban"].pk
    cell = page.locator(f'#cooccurrence svg a[href^="/projects/{project}/retrieve/?code={taliban}&"]')
    assert cell.count() == 1
    with page.expect_navigation():
        cell.locator("rect").click()
    assert "/retrieve/" in page.url
    assert page.inner_text("#result-count").startswith("1 passage")
    assert "Taliban" in page.inner_text("#passages")
    assert page.guard.errors == []


def test_counts_hidden_from_viewers_have_no_link(hand, team):
    """A viewer who sees "<2" for a pair must not get the passages that would count it."""
    team.project.min_cell_size = 2
    team.project.save(update_fields=["min_cell_size"])
    page = client_for(team.viewer).get(reverse("analytics-dashboard", args=[team.project.pk]))
    assert page.status_code == 200
    assert cooccurrence_links(page) == []
    page = client_for(team.supervisor).get(reverse("analytics-dashboard", args=[team.project.pk]))
    assert len(set(cooccurrence_links(page))) == 4
