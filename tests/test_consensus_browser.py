"""The "Done when" flow on the demo project, in a real browser: agreement → disagreements →
settle → the dashboard counts the consensus layer."""

import re

import pytest

from coding import services as coding_services
from coding.analytics import code_frequencies, make_scope
from coding.demo import DEMO_USERS, load_demo
from coding.models import Coding

from .browser import log_in, screenshot

pytestmark = pytest.mark.browser


def test_supervisor_settles_a_disagreement_and_sees_it_counted_in_the_consensus_layer(page, live_server):
    project = load_demo().project
    username, password = DEMO_USERS[0][0], DEMO_USERS[0][1]
    log_in(page, username, password)

    page.goto(f"/projects/{project.pk}/agreement/")
    overall = page.locator("#agreement-overall")
    assert re.fullmatch(r"-?\d\.\d{3}", overall.locator("td.alpha").inner_text().strip())
    assert page.locator("th", has_text="κ coder1 × coder2").count() == 1
    alphas = page.locator("tr[data-code] td.alpha").all_inner_texts()
    assert sum(1 for a in alphas if re.fullmatch(r"-?\d\.\d{3}", a.strip())) >= 5  # α per code
    assert "Each participant turn is one unit" in page.content()
    screenshot(page, "consensus-agreement")

    page.locator("#agreement-interviews a").first.click()
    page.wait_for_load_state()
    assert "/disagreements/" in page.url
    summary = page.locator("#disagreement-summary").inner_text()
    open_before = int(re.search(r"(\d+) still open", summary).group(1))
    assert open_before > 0

    group = page.locator("section.dgroup:has(.open-badge)").first
    code_id = int(group.get_attribute("data-code"))
    group.locator("button", has_text="Accept coder1").first.click()
    page.wait_for_load_state()
    assert "Settled" in page.locator(".messages").inner_text()
    open_after = int(
        re.search(r"(\d+) still open", page.locator("#disagreement-summary").inner_text()).group(1)
    )
    assert open_after == open_before - 1
    screenshot(page, "consensus-disagreements")
    layer = coding_services.consensus_coder(project)
    assert Coding.objects.filter(coder=layer, code_id=code_id).count() == 1

    page.goto(f"/projects/{project.pk}/analytics/?unit=codings&include_interviewer=on")
    page.select_option("#id_coder", label="Consensus")  # the dashboard submits on change
    page.wait_for_url(re.compile(rf"coder={layer.pk}"))
    code_name = project.codes.get(pk=code_id).name
    table = page.locator("#table-frequencies tbody tr")
    cells = {
        table.nth(i).locator("td").nth(0).text_content().strip(): table.nth(i)
        .locator("td")
        .nth(1)
        .text_content()
        for i in range(table.count())
    }
    shown = int(cells[code_name])
    expected = {
        r["code_id"]: r["count"]
        for r in code_frequencies(
            make_scope(project, unit="codings", coder_id=layer.pk, include_interviewer=True)
        )["rows"]
    }
    assert shown == expected[code_id] == 1
    screenshot(page, "consensus-dashboard")
    assert not page.guard.errors


def test_selecting_text_after_an_emoji_fills_the_new_range_in_code_points(page, live_server, team):
    text = team.interview.text
    start = text.index("Near")
    for coder, end in ((team.coder, start + 30), (team.coder2, start + 40)):
        coding_services.create_coding(
            interview=team.interview, code=team.code, coder=coder, start=start, end=end
        )
    log_in(page, "sam_supervisor")
    page.goto(f"/projects/{team.project.pk}/interviews/{team.interview.pk}/disagreements/")
    wanted = "with my brother"
    page.evaluate(
        """(wanted) => {
            const element = document.querySelector('.group-text');
            const node = element.firstChild;
            const at = node.textContent.indexOf(wanted);  // UTF-16 index: the emoji before it is 2 units
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + wanted.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            element.dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
        }""",
        wanted,
    )
    form = page.locator("form.new-range").first
    expected = text.index(wanted)
    assert form.locator("input[name=start]").input_value() == str(expected)
    assert form.locator("input[name=end]").input_value() == str(expected + len(wanted))
    form.locator("button").click()
    page.wait_for_load_state()
    layer = coding_services.consensus_coder(team.project)
    settled = Coding.objects.get(coder=layer)
    assert text[settled.start : settled.end] == wanted
    assert not page.guard.errors


def test_coding_view_shows_a_codings_comments_and_takes_a_reply(page, live_server, team):
    from coding import comments
    from coding.models import CodingComment
    from interviews.models import Membership

    text = team.interview.text
    start = text.index("Near")
    coding = coding_services.create_coding(
        interview=team.interview, code=team.code, coder=team.coder, start=start, end=start + 10
    )
    first = comments.add_comment(
        membership=Membership.objects.get(project=team.project, user=team.coder2),
        coding=coding,
        text="<b>Too short?</b>",
    )
    view = f"/projects/{team.project.pk}/interviews/{team.interview.pk}/code/"
    log_in(page, "cora_coder", next_path=view)
    page.wait_for_selector("body[data-workbench=ready]")
    page.goto(f"{live_server.url}{view}?at={start}#c{coding.pk}")
    page.wait_for_selector("body[data-workbench=ready]")
    page.wait_for_selector("#wb-editor:not([hidden])")
    page.wait_for_selector("#wb-comment-list li.wb-thread")
    assert "<b>Too short?</b>" in page.locator("#wb-comment-list").inner_text()
    page.locator("#wb-comment-list button", has_text="Reply").click()
    page.fill("#wb-comment-text", "No, it is the whole answer.")
    page.click("#wb-comment-form button[type=submit]")
    page.wait_for_selector("#wb-comment-list .wb-reply")
    reply = CodingComment.objects.get(parent=first)
    assert reply.author == team.coder and reply.text == "No, it is the whole answer."
    assert not page.guard.errors
