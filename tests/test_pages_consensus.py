"""The agreement page and the disagreement view (server-rendered, supervisors only)."""

import re

from coding import consensus
from coding import services as coding_services
from coding.models import Coding, CodingComment
from interviews.models import AuditEvent


def two_coders_disagree(team):
    a = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=40, end=60
    )
    b = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder2, start=45, end=70
    )
    return a, b


def page(team):
    return f"/projects/{team.project.pk}/interviews/{team.interview.pk}/disagreements/"


def test_agreement_page_shows_alpha_and_kappa_per_code_and_explains_units(team, client):
    two_coders_disagree(team)
    client.force_login(team.supervisor)
    response = client.get(f"/projects/{team.project.pk}/agreement/", {"unit": "characters"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Krippendorff's α" in html
    assert "κ cody_coder × cora_coder" in html or "κ cora_coder × cody_coder" in html
    assert "Each character of participant speech is one unit" in html
    assert "Each participant turn is one unit" in html
    row = re.search(rf'<tr data-code="{team.code.pk}">(.*?)</tr>', html, re.S).group(1)
    alpha = re.search(r'<td class="alpha">([^<]*)</td>', row).group(1)
    assert re.fullmatch(r"-?\d\.\d{3}", alpha)
    assert page(team) in html


def test_agreement_page_refuses_one_coder_and_coders(team, client):
    client.force_login(team.supervisor)
    response = client.get(f"/projects/{team.project.pk}/agreement/", {"coder": [team.coder.pk]})
    assert response.status_code == 400
    client.force_login(team.coder)
    assert client.get(f"/projects/{team.project.pk}/agreement/").status_code == 403


def test_disagreement_view_shows_lanes_quotes_escaped_and_settle_buttons(team, client):
    a, b = two_coders_disagree(team)
    coding_services.update_coding(coding=a, comment="")
    from coding import comments
    from interviews.models import Membership

    comments.add_comment(
        membership=Membership.objects.get(project=team.project, user=team.coder),
        coding=a,
        text="<script>alert(1)</script>",
    )
    client.force_login(team.supervisor)
    html = client.get(page(team)).content.decode()
    text = team.interview.text
    assert "Different ranges" in html
    assert "Accept cora_coder" in html and "Accept cody_coder" in html
    assert "Union 40–70" in html and "Intersection 45–60" in html
    assert f'<q dir="auto">{text[40:60]}</q>' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_settling_from_the_page_writes_the_consensus_coding_and_redirects(team, client):
    a, b = two_coders_disagree(team)
    client.force_login(team.supervisor)
    response = client.post(
        page(team),
        {"action": "settle", "code": team.code.pk, "method": "union", "codings": [a.pk, b.pk]},
    )
    assert response.status_code == 302
    layer = coding_services.consensus_coder(team.project)
    assert list(Coding.objects.filter(coder=layer).values_list("start", "end")) == [(40, 70)]
    html = client.get(page(team)).content.decode()
    assert "Settled" in html and "Undo this settlement" in html
    settled = Coding.objects.get(coder=layer)
    assert client.post(page(team), {"action": "undo", "coding": settled.pk}).status_code == 302
    assert not Coding.objects.filter(coder=layer).exists()
    assert AuditEvent.objects.filter(action__startswith="consensus.").count() == 2


def test_an_empty_intersection_or_bad_range_answers_400_with_the_reason(team, client):
    a = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=0, end=5
    )
    b = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder2, start=3, end=9
    )
    client.force_login(team.supervisor)
    bad = client.post(
        page(team),
        {
            "action": "settle",
            "code": team.code.pk,
            "method": "new",
            "codings": [a.pk, b.pk],
            "start": 9,
            "end": 2,
        },
    )
    assert bad.status_code == 400 and "must end after it starts" in bad.content.decode()
    assert not Coding.objects.filter(coder=coding_services.consensus_coder(team.project)).exists()


def test_comment_and_resolve_from_the_disagreement_view(team, client):
    a, _ = two_coders_disagree(team)
    client.force_login(team.supervisor)
    assert (
        client.post(page(team), {"action": "comment", "coding": a.pk, "text": "Too wide?"}).status_code == 302
    )
    comment = CodingComment.objects.get()
    assert client.post(page(team), {"action": "resolve", "comment": comment.pk}).status_code == 302
    comment.refresh_from_db()
    assert comment.resolved and comment.resolved_by == team.supervisor
    assert "Too wide?" in client.get(page(team)).content.decode()


def test_disagreement_view_of_another_projects_interview_is_404(team, client):
    client.force_login(team.supervisor)
    url = f"/projects/{team.project.pk}/interviews/{team.other_interview.pk}/disagreements/"
    assert client.get(url).status_code == 404
    assert consensus.disagreements(team.interview, [team.coder, team.coder2]).groups == []


def test_agreed_groups_are_hidden_unless_every_group_is_asked_for(team, client):
    for coder in (team.coder, team.coder2):
        coding_services.create_coding(
            interview=team.interview, code=team.code2, coder=coder, start=40, end=60
        )
    client.force_login(team.supervisor)
    assert 'section class="dgroup' not in client.get(page(team)).content.decode()
    html = client.get(page(team), {"show": "all"}).content.decode()
    assert 'class="dgroup kind-agreed' in html and "Agreed" in html


def test_the_disagreement_view_reads_a_fixed_number_of_queries(team, client, django_assert_max_num_queries):
    from coding import comments
    from interviews.models import Membership

    def build(first, n):
        for i in range(first, first + n):
            a = coding_services.create_coding(
                interview=team.interview,
                code=team.code2,
                coder=team.coder,
                start=40 + 10 * i,
                end=45 + 10 * i,
            )
            comments.add_comment(
                membership=Membership.objects.get(project=team.project, user=team.coder2),
                coding=a,
                text=f"{i}",
            )

    client.force_login(team.supervisor)
    build(0, 1)
    coding_services.consensus_coder(team.project)
    client.get(page(team) + "?show=all")
    with django_assert_max_num_queries(14) as few:
        client.get(page(team) + "?show=all")
    build(1, 6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(page(team) + "?show=all").content.decode()
    assert html.count('class="dgroup') == 7


def test_reading_agreement_and_disagreements_does_not_make_the_consensus_layer(team, client, api):
    two_coders_disagree(team)
    client.force_login(team.supervisor)
    assert client.get(f"/projects/{team.project.pk}/agreement/").status_code == 200
    html = client.get(page(team)).content.decode()
    assert "cody_coder" in html
    supervisor = api.as_user(team.supervisor)
    base = f"/api/projects/{team.project.pk}/interviews/{team.interview.pk}"
    answer = supervisor.get(f"{base}/disagreements/")
    assert answer.status_code == 200 and answer.json()["consensus_coder"] is None
    assert supervisor.get(f"{base}/consensus/").json() == []
    team.project.refresh_from_db()
    assert team.project.consensus_user_id is None
