"""DP3: refused requests for project data (401/403/404) are stored in ``RefusedAccess``, after
the answer and in their own transaction; the table is append-only in the database, floods
are bounded, and a project's owners (not its supervisors) see the attempts against it."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from interviews import audit
from interviews.models import AuditEvent, RefusedAccess

from .conftest import make_interview
from .factories import UserFactory

SECRET = "Zebrafinch-4417"


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def rows():
    return list(RefusedAccess.objects.order_by("id"))


def _fields(row):
    return (row.user_id, row.username, row.project_id, row.method, row.path, row.status, row.ip, row.source)


# ---------------------------------------------------------------- what is recorded


def test_an_outsider_opening_a_project_page_leaves_one_row_without_the_query(team):
    path = f"/projects/{team.project.pk}/"
    assert browser(team.outsider).get(path, {"q": SECRET}).status_code == 404
    (row,) = rows()
    assert _fields(row) == (
        team.outsider.pk,
        "otto_outsider",
        team.project.pk,
        "GET",
        path,
        404,
        "127.0.0.1",
        "page",
    )
    assert abs(row.at - timezone.now()) < timedelta(minutes=1) and row.at.utcoffset() == timedelta(0)
    assert SECRET not in str(RefusedAccess.objects.values().get())


def test_an_outsider_reading_an_interview_through_the_api_leaves_one_row_and_no_text(team, api):
    interview = make_interview(team.participant, text=f"Participant: near {SECRET}.\n", title="Canary")
    path = f"/api/projects/{team.project.pk}/interviews/{interview.pk}/"
    response = api.as_user(team.outsider).get(path, {"search": SECRET})
    assert response.status_code == 404 and SECRET not in response.content.decode()
    (row,) = rows()
    assert _fields(row) == (
        team.outsider.pk,
        "otto_outsider",
        team.project.pk,
        "GET",
        path,
        404,
        "127.0.0.1",
        "api",
    )
    assert SECRET not in str(list(RefusedAccess.objects.values()))


def test_a_coder_refused_a_supervisor_route_leaves_a_403_row(team, api):
    assert api.as_user(team.coder).get(f"/api/projects/{team.project.pk}/audit/").status_code == 403
    assert browser(team.coder).get(reverse("audit-trail", args=[team.project.pk])).status_code == 403
    assert [(r.user_id, r.status, r.source) for r in rows()] == [
        (team.coder.pk, 403, "api"),
        (team.coder.pk, 403, "page"),
    ]


def test_an_anonymous_api_request_leaves_a_row_with_no_user(team):
    response = Client().get(f"/api/projects/{team.project.pk}/interviews/")
    assert response.status_code in (401, 403)
    (row,) = rows()
    assert (row.user_id, row.username, row.status, row.ip, row.project_id) == (
        None,
        "",
        response.status_code,
        "127.0.0.1",
        team.project.pk,
    )


def test_a_probe_for_a_project_that_does_not_exist_is_recorded_with_its_number(team):
    assert browser(team.outsider).get("/projects/987654/").status_code == 404
    assert browser(team.outsider).get("/projects/not-a-number/").status_code == 404
    assert [(r.project_id, r.path) for r in rows()] == [
        (987654, "/projects/987654/"),
        (None, "/projects/not-a-number/"),
    ]


def test_a_probe_with_a_nul_byte_in_its_path_is_recorded_without_it(team):
    assert browser(team.outsider).get(f"/api/projects/{team.project.pk}/codes/%00x/").status_code == 404
    (row,) = rows()
    assert row.path == f"/api/projects/{team.project.pk}/codes/x/"


def test_a_members_normal_requests_leave_no_row(team, api):
    assert browser(team.viewer).get(f"/projects/{team.project.pk}/").status_code == 200
    assert api.as_user(team.coder).get(f"/api/projects/{team.project.pk}/interviews/").status_code == 200
    assert browser(team.outsider).get(f"/projects/{team.other_project.pk}/").status_code == 200
    assert rows() == []


def test_refusals_are_still_logged_as_lines(team, caplog):
    caplog.set_level("WARNING", logger="security.refused")
    browser(team.outsider).get(f"/projects/{team.project.pk}/")
    assert any(
        f"refused GET /projects/{team.project.pk}/ with 404 for user {team.outsider.pk}" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.django_db(transaction=True)
def test_the_row_is_committed_although_the_requests_transaction_was_rolled_back(team, api):
    """ATOMIC_REQUESTS rolls back the refused view's work; the row is written after it, in its
    own committed transaction (a row written inside the view would be gone)."""
    assert connection.settings_dict["ATOMIC_REQUESTS"]
    response = api.as_user(team.viewer).post(f"/api/projects/{team.project.pk}/codes/", {"name": "Sneaky"})
    assert response.status_code == 403
    assert not team.project.codes.filter(name="Sneaky").exists()
    assert not connection.in_atomic_block
    (row,) = rows()
    assert (row.user_id, row.method, row.status) == (team.viewer.pk, "POST", 403)
    assert AuditEvent.objects.filter(project=team.project, action__startswith="code.").count() == 3


def test_a_failed_write_of_the_row_leaves_the_answer_and_is_logged(team, caplog):
    caplog.set_level("ERROR", logger="security.refused")
    with connection.cursor() as cursor:  # the table is gone for this test (rolled back after it)
        cursor.execute("ALTER TABLE interviews_refusedaccess RENAME TO interviews_refusedaccess_away")
    try:
        assert browser(team.outsider).get(f"/projects/{team.project.pk}/").status_code == 404
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE interviews_refusedaccess_away RENAME TO interviews_refusedaccess")
    assert any("could not store the refused GET" in r.getMessage() for r in caplog.records)
    assert rows() == []


# ---------------------------------------------------------------- flood control


def test_the_same_refusal_repeated_within_a_minute_is_stored_once(team, api):
    client = browser(team.outsider)
    for _ in range(25):
        assert client.get(f"/projects/{team.project.pk}/").status_code == 404
    outsider = api.as_user(team.outsider)
    for _ in range(3):
        assert outsider.get(f"/api/projects/{team.project.pk}/").status_code == 404
        assert outsider.delete(f"/api/projects/{team.project.pk}/").status_code == 404
    assert [(r.method, r.path) for r in rows()] == [
        ("GET", f"/projects/{team.project.pk}/"),
        ("GET", f"/api/projects/{team.project.pk}/"),
        ("DELETE", f"/api/projects/{team.project.pk}/"),
    ]


def test_a_scanner_adds_at_most_the_minutes_allowance_and_others_are_still_recorded(team):
    scanner = browser(team.outsider)
    for number in range(audit.REFUSALS_PER_WINDOW + 15):
        assert scanner.get(f"/projects/{900000 + number}/").status_code == 404
    assert RefusedAccess.objects.filter(user=team.outsider).count() == audit.REFUSALS_PER_WINDOW
    anonymous = Client(REMOTE_ADDR="203.0.113.9")
    assert anonymous.get(f"/api/projects/{team.project.pk}/codes/").status_code in (401, 403)
    assert RefusedAccess.objects.filter(user=None, ip="203.0.113.9").count() == 1
    assert browser(team.coder).get(reverse("audit-trail", args=[team.project.pk])).status_code == 403
    assert RefusedAccess.objects.filter(user=team.coder).count() == 1


# ---------------------------------------------------------------- append-only


def _row(team):
    browser(team.outsider).get(f"/projects/{team.project.pk}/")
    return RefusedAccess.objects.latest("id")


def test_a_refused_attempt_cannot_be_changed_by_saving_it(team):
    row = _row(team)
    row.status = 200
    with pytest.raises(ValueError):
        row.save()


def test_the_database_refuses_to_change_a_refused_attempt(team):
    row = _row(team)
    with pytest.raises(DatabaseError), transaction.atomic():
        RefusedAccess.objects.filter(pk=row.pk).update(path="/projects/")
    with pytest.raises(DatabaseError), transaction.atomic():
        RefusedAccess.objects.filter(pk=row.pk).update(user=None, username="")
    assert RefusedAccess.objects.get(pk=row.pk).path == f"/projects/{team.project.pk}/"


def test_deleting_the_user_keeps_the_row_with_their_name(team):
    prober = UserFactory(username="pat_prober")
    browser(prober).get(f"/projects/{team.project.pk}/")
    prober.delete()  # Django sets user to NULL: the one change the guard allows
    (row,) = rows()
    assert (row.user_id, row.username) == (None, "pat_prober")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the delete guard is PostgreSQL's")
def test_the_database_refuses_to_delete_a_refused_attempt_outside_the_purge(team):
    row = _row(team)
    with pytest.raises(DatabaseError), transaction.atomic():
        RefusedAccess.objects.filter(pk=row.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        # A purge cut-off lets only older rows go: this row is younger.
        with connection.cursor() as cursor:
            cutoff = (timezone.now() - timedelta(days=1)).isoformat()
            cursor.execute("SELECT set_config('app.refused_access_purge_before', %s, true)", [cutoff])
        RefusedAccess.objects.filter(pk=row.pk).delete()
    assert RefusedAccess.objects.filter(pk=row.pk).exists()


def _recorded_at(when) -> int:
    """A row as the middleware would have stored it ``when`` (``at`` is set on insert)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO interviews_refusedaccess (at, username, method, path, status, source) "
            "VALUES (%s, '', 'GET', '/projects/1/', 404, 'page')",
            [when],
        )
    return RefusedAccess.objects.latest("id").pk


def test_the_retention_purge_removes_only_expired_attempts(team, capsys):
    now = timezone.now()
    expired = [_recorded_at(now - timedelta(days=days)) for days in (400, 181)]
    kept = [_recorded_at(now - timedelta(days=days)) for days in (179, 1)] + [_row(team).pk]
    call_command("purge_refused_access", "--older-than-days", "180")
    assert "2 refused attempt(s) older than 180 days deleted" in capsys.readouterr().out
    assert sorted(RefusedAccess.objects.values_list("pk", flat=True)) == sorted(kept)
    assert not RefusedAccess.objects.filter(pk__in=expired).exists()
    # With the clock set past the end of retention, the rest go too.
    assert audit.purge_refused_attempts(older_than_days=180, now=now + timedelta(days=181)) == 3
    assert rows() == []


def test_the_purge_keeps_at_least_a_day(team):
    with pytest.raises(ValueError):
        audit.purge_refused_attempts(older_than_days=0)


# ---------------------------------------------------------------- who sees them


def test_the_owner_sees_refused_attempts_on_the_audit_page_and_api(team, api):
    browser(team.outsider).get(f"/projects/{team.project.pk}/interviews/{team.interview.pk}/", {"q": SECRET})
    browser(team.outsider).get(f"/projects/{team.other_project.pk + 1000}/")  # not this project
    page = browser(team.owner).get(reverse("audit-trail", args=[team.project.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="refused"' in html and "otto_outsider" in html and SECRET not in html
    assert f"GET /projects/{team.project.pk}/interviews/{team.interview.pk}/" in html
    assert f"/projects/{team.other_project.pk + 1000}/" not in html
    listed = api.as_user(team.owner).get(f"/api/projects/{team.project.pk}/audit/refused/")
    assert listed.status_code == 200
    (attempt,) = listed.json()["results"]
    assert (attempt["username"], attempt["status"], attempt["ip"]) == ("otto_outsider", 404, "127.0.0.1")


def test_a_supervisor_does_not_see_refused_attempts(team, api):
    browser(team.outsider).get(f"/projects/{team.project.pk}/")
    page = browser(team.supervisor).get(reverse("audit-trail", args=[team.project.pk]))
    assert page.status_code == 200 and 'id="refused"' not in page.content.decode()
    assert "otto_outsider" not in page.content.decode()
    assert (
        api.as_user(team.supervisor).get(f"/api/projects/{team.project.pk}/audit/refused/").status_code == 403
    )


def test_an_owner_does_not_see_attempts_against_another_project(team, api):
    browser(UserFactory(username="nina_nobody")).get(f"/projects/{team.other_project.pk}/")
    assert RefusedAccess.objects.get().project_id == team.other_project.pk
    listed = api.as_user(team.owner).get(f"/api/projects/{team.project.pk}/audit/refused/")
    assert listed.json()["results"] == []
    assert "nina_nobody" not in browser(team.owner).get(reverse("audit-trail", args=[team.project.pk])).text


def test_the_audit_page_makes_as_many_queries_with_many_refused_attempts_as_with_one(team):
    url = reverse("audit-trail", args=[team.project.pk])
    owner = browser(team.owner)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert owner.get(url).status_code == 200
            return len(captured)

    browser(team.outsider).get(f"/projects/{team.project.pk}/")
    owner.get(url)  # the session's first request of the test stamps it; not counted
    one = queries()
    for number in range(1, 8):
        browser(UserFactory(username=f"prober_{number}")).get(f"/projects/{team.project.pk}/")
    assert RefusedAccess.objects.filter(project_id=team.project.pk).count() == 8
    assert queries() == one


def test_staff_read_refused_attempts_in_the_admin_but_cannot_add_change_or_delete_them(team):
    row = _row(team)
    root = browser(UserFactory(username="root_admin", is_staff=True, is_superuser=True))
    listing = root.get(reverse("admin:interviews_refusedaccess_changelist"))
    assert listing.status_code == 200 and f"/projects/{team.project.pk}/" in listing.text
    assert root.get(reverse("admin:interviews_refusedaccess_add")).status_code == 403
    assert root.get(reverse("admin:interviews_refusedaccess_delete", args=[row.pk])).status_code == 403
    page = root.get(reverse("admin:interviews_refusedaccess_change", args=[row.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert RefusedAccess.objects.filter(pk=row.pk).exists()
