"""Ana works the console in a real browser (Chromium), against the product served by uvicorn.

Intake, routing and assignment run inside the server (eager Celery); hints travel over the
configured channel layer (Redis in CI, in memory locally). Screenshots go to var/screenshots/.
"""

import re

import pytest

from teams.models import AgentProfile
from tests.factories import queue
from tests.helpers import api_post, log_in, open_inquiry, refreshed, set_ui_language
from tickets.models import Message, TicketStatus

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("eager_celery"),
    # WhiteNoise hands Django's ASGI handler a sync file iterator for static files: it works,
    # and Django says so on every file. Production serves static files from elsewhere.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

TABLET = {"width": 768, "height": 1024}


def test_a_new_inquiry_reaches_anas_inbox_live_and_she_answers_it(
    console_server, page, expect, screenshots, ana, storefront_token
) -> None:
    log_in(page, console_server, "ana")
    expect(page.get_by_text("No tickets yet — new ones appear here automatically.")).to_be_visible()
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    ticket = open_inquiry(console_server, storefront_token, "戒指上的钻石松了，转人工！")

    row = page.locator(f'#my-tickets tr[data-ticket-id="{ticket["id"]}"]')
    expect(row).to_be_visible(timeout=3_000)  # pushed: well before the 5 s poll
    expect(row).to_have_class(re.compile("is-new"))
    expect(row).to_contain_text("Asks for a person")
    expect(page.locator("#live-announcer")).to_contain_text(f"New ticket #{ticket['id']} assigned to you")
    assert page.evaluate("window.sameDocument") is True
    page.screenshot(path=str(screenshots / "inbox.png"))

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"#{ticket['id']}")
    page.get_by_label("Reply to the shopper").fill("您好，我们马上为您处理镶嵌问题")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent to the shopper.")).to_be_visible()
    expect(page.locator("#conversation")).to_contain_text("您好，我们马上为您处理镶嵌问题")
    assert refreshed_status(ticket["id"]) == TicketStatus.WAITING_ON_SHOPPER

    # The shopper writes back: it appears on the open ticket page without a reload.
    page.evaluate("window.sameDocument = true")
    api_post(
        console_server,
        f"/api/v1/inquiries/{ticket['id']}/messages/",
        {"body": "好的，谢谢，我等你们消息"},
        {"X-Tracking-Token": ticket["tracking_token"]},
    )
    expect(page.locator("#conversation .msg-shopper").last).to_contain_text("好的，谢谢", timeout=3_000)
    assert page.evaluate("window.sameDocument") is True
    page.screenshot(path=str(screenshots / "ticket.png"), full_page=True)


def refreshed_status(ticket_id: int) -> str:
    from tickets.models import Ticket

    return Ticket.objects.get(pk=ticket_id).status


def test_ana_transfers_a_ticket_to_another_queue_with_a_note(console_server, page, expect, ana, mei, inquiry) -> None:
    ticket = inquiry("这个手镯其实是给宝宝的，尺寸怎么选？")
    log_in(page, console_server, "ana")

    page.locator(f'#my-tickets tr[data-ticket-id="{ticket.id}"]').get_by_role("link").click()
    page.locator("#transfer-form").locator("xpath=..").locator("summary").click()
    page.get_by_label("Transfer to").select_option(label="Maternal & baby")
    page.get_by_label("Note for whoever takes it next").fill("婴儿手镯，请母婴专员看一下")
    page.locator("#transfer-form").get_by_role("button", name="Transfer").click()

    page.wait_for_url(f"{console_server}/console/")
    expect(page.get_by_text(f"Ticket #{ticket.id} transferred to Maternal & baby.")).to_be_visible()
    expect(page.locator(f'#my-tickets tr[data-ticket-id="{ticket.id}"]')).to_have_count(0)
    moved = refreshed(ticket)
    assert moved.queue == queue("maternal_baby") and moved.assigned_agent == mei.user
    assert Message.objects.get(ticket=ticket, is_internal=True).body == "Transfer: 婴儿手镯，请母婴专员看一下"


def test_resolving_a_ticket_pulls_the_next_waiting_one_into_anas_inbox(
    console_server, page, expect, ana, inquiry
) -> None:
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=1)
    first, waiting = inquiry("耳钉少了一只"), inquiry("项链能刻字吗？")
    log_in(page, console_server, "ana")
    expect(page.locator(f'#waiting-tickets tr[data-ticket-id="{waiting.id}"]')).to_be_visible()

    page.locator(f'#my-tickets tr[data-ticket-id="{first.id}"]').get_by_role("link").click()
    page.get_by_role("button", name="Resolve").click()

    page.wait_for_url(f"{console_server}/console/")
    expect(page.get_by_text(f"Ticket #{first.id} resolved.")).to_be_visible()
    expect(page.locator(f'#my-tickets tr[data-ticket-id="{waiting.id}"]')).to_contain_text("项链能刻字吗")
    expect(page.locator("#agent-panel")).to_contain_text("1 / 1 open")
    assert refreshed(first).status == TicketStatus.RESOLVED


def test_ana_cannot_open_a_ticket_of_another_queue(console_server, page, expect, ana, mei, inquiry) -> None:
    baby = inquiry("奶瓶漏水", category="maternal_baby")
    log_in(page, console_server, "ana")

    response = page.goto(f"{console_server}/console/tickets/{baby.id}/")

    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("奶瓶漏水")).to_have_count(0)


def test_the_console_in_chinese_at_tablet_width(console_server, browser, expect, screenshots, ana, inquiry) -> None:
    set_ui_language("zh-hans", ana)
    ticket = inquiry("戒指尺寸偏大，想换小一号，转人工")
    page = browser.new_page(viewport=TABLET, locale="en-US")
    try:
        log_in(page, console_server, "ana")  # the login page follows the browser: English
        expect(page.get_by_role("heading", name="收件箱")).to_be_visible()
        expect(page.locator("#my-tickets")).to_contain_text("要求人工")
        expect(page.locator("#live-indicator")).to_have_text("实时")
        page.screenshot(path=str(screenshots / "inbox-zh-tablet.png"), full_page=True)
        page.locator(f'#my-tickets tr[data-ticket-id="{ticket.id}"]').get_by_role("link").click()
        expect(page.get_by_role("heading", name="对话")).to_be_visible()
        page.screenshot(path=str(screenshots / "ticket-zh-tablet.png"), full_page=True)
    finally:
        page.context.close()
