"""Blind coding on every route that shows codings: a blind coder sees only their own codings
on the interview until a supervisor reveals it; supervisors always see everything.

Blind comes from the project (every coder is blind) or from one coder's assignment (only
that coder is). Each route is asked the same question — does this member see that coding? —
before and after the reveal.
"""

import csv
import io
from dataclasses import dataclass

import pytest
from django.urls import reverse

from coding import review
from coding import services as coding_services
from interviews import services
from interviews.models import AuditEvent, Project
from tests.conftest import MIXED_TEXT

# Participant speech (analytics count participant turns only): "Near the river 🌲 ...".
SPEECH = MIXED_TEXT.index("Near the river")


@dataclass
class Blind:
    mode: str
    mine: object  # cora's coding (code), cora may be blind
    theirs: object  # cody's coding (code2)
    memos: dict  # coding id -> memo on it by its coder


@pytest.fixture(params=["project", "assignment"])
def blind(request, team):
    """cora and cody code the same interview; cora codes blind (by project or by assignment)."""
    if request.param == "project":
        services.set_blind_coding(project=team.project, blind_coding=True)
        review.assign_interview(
            interview=team.interview, coders=[team.coder, team.coder2], by=team.supervisor
        )
    else:
        review.assign_interview(interview=team.interview, coders=[team.coder], blind=True, by=team.supervisor)
        review.assign_interview(interview=team.interview, coders=[team.coder2], by=team.supervisor)
    team.project.refresh_from_db()
    mine = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=SPEECH, end=SPEECH + 4
    )
    theirs = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder2, start=SPEECH + 5, end=SPEECH + 14
    )
    memos = {
        c.pk: coding_services.create_memo(
            project=team.project, author=c.coder, text=f"Note of {c.coder.username}", target=c
        )
        for c in (mine, theirs)
    }
    return Blind(request.param, mine, theirs, memos)


# ---------------------------------------------------------------- does this member see that coding?

P = "/api/projects/{}"


def _api(api, user):
    return api.as_user(user)


def _page(client, user):
    client.force_login(user)
    return client


def via_codings_list(team, api, client, user, coding):
    ids = [c["id"] for c in _api(api, user).get(f"{P.format(team.project.pk)}/codings/").json()["results"]]
    return coding.pk in ids


def via_codings_detail(team, api, client, user, coding):
    status = _api(api, user).get(f"{P.format(team.project.pk)}/codings/{coding.pk}/").status_code
    assert status in (200, 404)
    return status == 200


def via_coding_data(team, api, client, user, coding):
    data = (
        _api(api, user).get(f"{P.format(team.project.pk)}/interviews/{team.interview.pk}/coding-data/").json()
    )
    return coding.pk in {c["id"] for c in data["codings"]}


def via_coding_data_memos(team, api, client, user, coding):
    data = (
        _api(api, user).get(f"{P.format(team.project.pk)}/interviews/{team.interview.pk}/coding-data/").json()
    )
    return any(m["coding_id"] == coding.pk for m in data["memos"])


def via_workbench_page(team, api, client, user, coding):
    from tests.test_workbench_page import page_data

    response = _page(client, user).get(reverse("coding-view", args=[team.project.pk, team.interview.pk]))
    return coding.pk in {c["id"] for c in page_data(response)["codings"]}


def via_memos_api(team, api, client, user, coding):
    rows = _api(api, user).get(f"{P.format(team.project.pk)}/memos/").json()["results"]
    return any(m["coding"] == coding.pk for m in rows)


def via_memos_page(team, api, client, user, coding):
    page = _page(client, user).get(reverse("memos-page", args=[team.project.pk])).text
    return f"Note of {coding.coder.username}" in page


def via_retrieve_page(team, api, client, user, coding):
    page = _page(client, user).get(reverse("retrieve", args=[team.project.pk])).text
    return f"#c{coding.pk}" in page


def via_retrieve_csv(team, api, client, user, coding):
    response = _page(client, user).get(reverse("retrieve", args=[team.project.pk]), {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return str(coding.pk) in [row[0] for row in csv.reader(io.StringIO(text))]


def _frequency(rows, code):
    return next(r["count"] for r in rows if r["code_id"] == code.pk)


def via_analytics_api(team, api, client, user, coding):
    for unit in ("participants", "codings"):
        body = (
            _api(api, user).get(f"{P.format(team.project.pk)}/analytics/frequencies/", {"unit": unit}).json()
        )
        count = _frequency(body["rows"], coding.code)
        if count:
            return True
    return False


def via_analytics_query(team, api, client, user, coding):
    body = (
        _api(api, user)
        .get(f"{P.format(team.project.pk)}/analytics/query/", {"q": f'"{coding.code.name}"'})
        .json()
    )
    return bool(body["participants"])


def via_analytics_download(team, api, client, user, coding):
    url = reverse("analytics-download", args=[team.project.pk, "frequencies", "csv"])
    response = _page(client, user).get(url, {"unit": "codings"})
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text)):
        if row and row[0].strip().endswith(coding.code.name):
            return row[1] not in ("0", "")
    raise AssertionError(f"no row for {coding.code.name}: {text[:300]}")


def via_dashboard(team, api, client, user, coding):
    response = _page(client, user).get(
        reverse("analytics-dashboard", args=[team.project.pk]), {"unit": "codings"}
    )
    assert response.status_code == 200
    _result, table, _chart = response.context["sections"]["frequencies"]
    for row in table.rows:
        if str(row[0].value).endswith(coding.code.name):
            return bool(row[1].value)
    raise AssertionError("no row for the code")


def via_codebook_api(team, api, client, user, coding):
    code = _api(api, user).get(f"{P.format(team.project.pk)}/codes/{coding.code_id}/").json()
    return code["coding_count"] > 0


def via_codebook_page(team, api, client, user, coding):
    response = _page(client, user).get(reverse("codebook", args=[team.project.pk]))
    codes = {c.pk: c for root in response.context["roots"] for c in _walk(root)}
    return codes[coding.code_id].coding_count > 0


def _walk(node):
    yield node
    for child in node.subcodes:
        yield from _walk(child)


def via_interviews_api(team, api, client, user, coding):
    rows = _api(api, user).get(f"{P.format(team.project.pk)}/interviews/").json()["results"]
    counts = {r["id"]: r["coding_count"] for r in rows}
    own = team.interview.codings.filter(coder=user).count()
    return counts[team.interview.pk] > (own if coding.coder != user else 0)


def via_project_home(team, api, client, user, coding):
    response = _page(client, user).get(reverse("project-home", args=[team.project.pk]))
    coders = [c.pk for c in response.context["coders"]]
    (row,) = [i for i in response.context["interviews"] if i.pk == team.interview.pk]
    return row.per_coder[coders.index(coding.coder_id)] > 0


def via_participant_page(team, api, client, user, coding):
    response = _page(client, user).get(
        reverse("participant-detail", args=[team.project.pk, team.participant.pk])
    )
    return coding.code_id in {row["code_id"] for row in response.context["profile"]}


ROUTES = {
    "codings API list": via_codings_list,
    "codings API detail": via_codings_detail,
    "coding-data API": via_coding_data,
    "coding-data API memos": via_coding_data_memos,
    "workbench page": via_workbench_page,
    "memos API": via_memos_api,
    "memos page": via_memos_page,
    "retrieve page": via_retrieve_page,
    "retrieve CSV": via_retrieve_csv,
    "analytics API": via_analytics_api,
    "analytics query API": via_analytics_query,
    "analytics download": via_analytics_download,
    "analytics dashboard": via_dashboard,
    "codebook API counts": via_codebook_api,
    "codebook page counts": via_codebook_page,
    "interviews API counts": via_interviews_api,
    "project home counts": via_project_home,
    "participant page profile": via_participant_page,
}


@pytest.mark.parametrize("route", ROUTES)
def test_blind_coder_sees_others_codings_only_after_the_reveal(team, api, client, blind, route):
    sees = ROUTES[route]
    assert sees(team, api, client, team.coder, blind.mine), "a blind coder sees their own codings"
    assert not sees(team, api, client, team.coder, blind.theirs), "hidden before the reveal"
    assert sees(team, api, client, team.supervisor, blind.theirs), "supervisors see everything"
    assert sees(team, api, client, team.owner, blind.mine)
    review.reveal(interview=team.interview, by=team.supervisor)
    assert sees(team, api, client, team.coder, blind.theirs), "visible after the reveal"
    review.unreveal(interview=team.interview, by=team.supervisor)
    assert not sees(team, api, client, team.coder, blind.theirs), "hidden again after unreveal"


@pytest.mark.parametrize("route", ["codings API list", "coding-data API", "retrieve page", "analytics API"])
def test_blind_by_assignment_hides_only_from_that_coder(team, api, client, blind, route):
    """Project blind: cody is blind too. Assignment blind: only cora is; cody sees her work."""
    sees = ROUTES[route]
    assert sees(team, api, client, team.coder2, blind.mine) is (blind.mode == "assignment")


def test_viewer_sees_no_codings_of_a_blind_project_until_the_reveal(team, api, client):
    services.set_blind_coding(project=team.project, blind_coding=True)
    team.project.refresh_from_db()
    coding = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=SPEECH, end=SPEECH + 4
    )
    assert not via_codings_list(team, api, client, team.viewer, coding)
    assert not via_retrieve_page(team, api, client, team.viewer, coding)
    review.reveal(interview=team.interview, by=team.supervisor)
    assert via_codings_list(team, api, client, team.viewer, coding)
    assert via_retrieve_page(team, api, client, team.viewer, coding)


def test_hidden_coding_cannot_be_changed_or_deleted_by_another_coder(team, api, blind):
    client = api.as_user(team.coder)
    url = f"{P.format(team.project.pk)}/codings/{blind.theirs.pk}/"
    assert client.patch(url, {"comment": "x"}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    memo_url = f"{P.format(team.project.pk)}/memos/{blind.memos[blind.theirs.pk].pk}/"
    assert client.get(memo_url).status_code == 404


def test_coders_cannot_export_so_exports_cannot_leak(team, api, client, blind):
    """The REFI-QDA and tabular exports are the supervisors' (who see everything)."""
    coder = api.as_user(team.coder)
    for path in ("export/qdpx/", "export/codings.csv", "export/profiles.xlsx", "exports/"):
        method = coder.post if path == "exports/" else coder.get
        assert method(f"{P.format(team.project.pk)}/{path}").status_code == 403, path
    client.force_login(team.coder)
    assert client.get(reverse("exchange", args=[team.project.pk])).status_code == 403
    supervisor = api.as_user(team.supervisor)
    table = supervisor.get(f"{P.format(team.project.pk)}/export/codings.csv")
    assert table.status_code == 200
    body = b"".join(table.streaming_content) if table.streaming else table.content
    assert b"cody_coder" in body


# ---------------------------------------------------------------- the coding view's version tag


def data_url(team):
    return f"{P.format(team.project.pk)}/interviews/{team.interview.pk}/coding-data/"


def test_blind_coders_etag_ignores_others_work_and_changes_on_reveal(team, api, blind):
    cora = api.as_user(team.coder)
    before = cora.get(data_url(team))["ETag"]
    coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder2, start=SPEECH, end=SPEECH + 3
    )
    assert cora.get(data_url(team))["ETag"] == before, "cody's work does not show through the tag"
    assert cora.get(data_url(team), HTTP_IF_NONE_MATCH=before).status_code == 304
    coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder, start=SPEECH, end=SPEECH + 3
    )
    mine_changed = cora.get(data_url(team))["ETag"]
    assert mine_changed != before, "my own work changes it"
    review.reveal(interview=team.interview, by=team.supervisor)
    response = cora.get(data_url(team), HTTP_IF_NONE_MATCH=mine_changed)
    assert response.status_code == 200, "a reveal changes the tag"
    assert blind.theirs.pk in {c["id"] for c in response.json()["codings"]}
    assert response.json()["me"]["blind"] is False


def test_blind_and_seeing_members_get_different_tags(team, api, blind):
    blind_tag = api.as_user(team.coder).get(data_url(team))
    assert blind_tag.json()["me"]["blind"] is True
    review.reveal(interview=team.interview, by=team.supervisor)
    seeing_tag = api.as_user(team.coder).get(data_url(team))
    assert seeing_tag["ETag"] != blind_tag["ETag"]


def test_workbench_page_tells_a_blind_coder(team, client, blind):
    client.force_login(team.coder)
    url = reverse("coding-view", args=[team.project.pk, team.interview.pk])
    assert 'id="wb-blind"' in client.get(url).text
    client.force_login(team.supervisor)
    assert 'id="wb-blind"' not in client.get(url).text


# ---------------------------------------------------------------- switching blind coding


def test_supervisor_switches_blind_coding_through_the_project_api(team, api):
    url = f"{P.format(team.project.pk)}/"
    response = api.as_user(team.supervisor).patch(url, {"blind_coding": True}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["blind_coding"] is True
    assert Project.objects.get(pk=team.project.pk).blind_coding is True
    event = AuditEvent.objects.get(action="project.blind_coding_changed")
    assert (event.before, event.after, event.actor_id) == (
        {"blind_coding": False},
        {"blind_coding": True},
        team.supervisor.pk,
    )


def test_supervisor_cannot_change_other_project_fields_and_coders_cannot_switch(team, api):
    url = f"{P.format(team.project.pk)}/"
    both = {"blind_coding": True, "name": "Renamed"}
    assert api.as_user(team.supervisor).patch(url, both, format="json").status_code == 403
    assert api.as_user(team.coder).patch(url, {"blind_coding": True}, format="json").status_code == 403
    assert api.as_user(team.outsider).patch(url, {"blind_coding": True}, format="json").status_code == 404
    assert api.as_user(team.owner).patch(url, both, format="json").status_code == 200
    project = Project.objects.get(pk=team.project.pk)
    assert (project.name, project.blind_coding) == ("Renamed", True)


def test_blind_coding_given_when_a_project_is_created(team, api):
    response = api.as_user(team.coder).post(
        "/api/projects/", {"name": "Pilot", "blind_coding": True}, format="json"
    )
    assert response.status_code == 201
    assert Project.objects.get(pk=response.json()["id"]).blind_coding is True


def test_supervisor_switches_blind_coding_on_the_assignments_page(team, client):
    client.force_login(team.supervisor)
    url = reverse("project-blind-coding", args=[team.project.pk])
    assert client.post(url, {"blind_coding": "on"}).status_code == 302
    assert Project.objects.get(pk=team.project.pk).blind_coding is True
    assert client.post(url, {}).status_code == 302
    assert Project.objects.get(pk=team.project.pk).blind_coding is False
    client.force_login(team.coder)
    assert client.post(url, {"blind_coding": "on"}).status_code == 403
    assert Project.objects.get(pk=team.project.pk).blind_coding is False


# ---------------------------------------------------------------- in the browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_blind_coder_sees_only_own_highlights_until_the_reveal(page, team):
    from tests.browser import log_in

    review.assign_interview(interview=team.interview, coders=[team.coder], blind=True, by=team.supervisor)
    review.assign_interview(interview=team.interview, coders=[team.coder2], by=team.supervisor)
    mine = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=SPEECH, end=SPEECH + 4
    )
    theirs = coding_services.create_coding(
        interview=team.interview, code=team.code2, coder=team.coder2, start=SPEECH + 5, end=SPEECH + 14
    )
    log_in(page, "cora_coder", next_path=f"/projects/{team.project.pk}/interviews/{team.interview.pk}/code/")
    page.wait_for_selector("body[data-workbench=ready]")
    highlighted = """() => Array.from(document.querySelectorAll("#wb-text .wb-coded"))
        .flatMap((seg) => seg.dataset.codings.split(",")).filter(Boolean).map(Number)"""
    shown = set(page.evaluate(highlighted))
    assert mine.pk in shown
    assert theirs.pk not in shown
    assert page.locator("#wb-blind").is_visible()

    review.reveal(interview=team.interview, by=team.supervisor)
    # The page's poll (every 3 s, with its ETag) brings the other coder's codings.
    page.wait_for_function(
        f"""() => Array.from(document.querySelectorAll("#wb-text .wb-coded"))
            .some((seg) => seg.dataset.codings.split(",").includes("{theirs.pk}"))""",
        timeout=15000,
    )
    assert {mine.pk, theirs.pk} <= set(page.evaluate(highlighted))
