"""The agent's workspace in a real browser: a canned reply inserted with "/", sent with the
keyboard, then the next ticket; a draft that survives a reload; the counter and the over-limit
refusal; the supervisor's reassign warning; readable sparklines. Screenshots at phone, tablet and
desktop widths, in English and Chinese."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from macros.models import Macro
from macros.services import create_macro
from routing.services import set_agent_status
from supervision.services import sample_queue_health
from teams.models import AgentProfile, AgentStatus
from tests.helpers import SCREENSHOTS, log_in, set_ui_language
from tickets.models import AuthorKind, Message, TicketStatus

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("eager_celery"),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

SHOTS = SCREENSHOTS / "composer"
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 800}
VIEWS = {"phone": PHONE, "tablet": TABLET, "desktop": DESKTOP}


def _page(browser, profile: AgentProfile, zh: bool, view: str):
    if zh:
        set_ui_language("zh-hans", profile)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return browser.new_page(viewport=VIEWS[view], locale="en-US")


def _shot(page, name: str, zh: bool, view: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}-{'zh' if zh else 'en'}-{view}.png"), full_page=False)


@pytest.mark.parametrize(("zh", "view"), [(False, "desktop"), (True, "tablet"), (True, "phone")])
def test_a_macro_inserted_with_slash_is_sent_with_the_keyboard_and_the_next_ticket_opens(
    console_server, browser, expect, ana, sam, inquiry, zh, view
) -> None:
    first = inquiry("戒指尺寸偏大，想换小一号")
    second = inquiry("项链扣坏了")
    first.shopper.name = "王芳"
    first.shopper.save()
    macro = create_macro(
        actor=sam.user,
        name="Ask for photos",
        shortcut="photos",
        queue=None,
        body_en="Hi {{shopper_name}}, please send photos of order {{order_number}}.",
        body_zh="{{shopper_name}}您好，请发一下订单{{order_number}}的照片，{{agent_name}}马上为您处理。",
        then_status="waiting_on_shopper",
    )
    page = _page(browser, ana, zh, view)
    try:
        log_in(page, console_server, "ana")
        page.goto(f"{console_server}/console/tickets/{first.id}/")
        composer = page.locator("#reply-form textarea")
        composer.click()
        page.keyboard.type("/pho")
        expect(page.locator("#macro-menu")).to_be_visible()
        expect(page.locator("#macro-menu .macro-option")).to_have_count(1)
        _shot(page, "macro-menu", zh, view)
        page.keyboard.press("Enter")
        expect(composer).to_have_value("王芳您好，请发一下订单JD1的照片，Ana马上为您处理。")
        expect(page.locator("#reply-form .composer-macro")).to_be_visible()
        page.locator("#reply-form input[name=open_next]").check()
        _shot(page, "macro-inserted", zh, view)

        page.keyboard.press("Control+Enter")

        page.wait_for_url(f"{console_server}/console/tickets/{second.id}/")
        expect(page.locator(".flash-success")).to_be_visible()
        _shot(page, "next-ticket", zh, view)
    finally:
        page.context.close()
    sent = Message.objects.get(ticket=first, author_kind=AuthorKind.AGENT)
    assert sent.body.startswith("王芳您好")
    assert Macro.objects.get(pk=macro.pk).usage_count == 1
    first.refresh_from_db()
    assert first.status == TicketStatus.WAITING_ON_SHOPPER


@pytest.mark.parametrize(("zh", "view"), [(False, "desktop"), (True, "phone")])
def test_the_draft_survives_a_reload_and_over_limit_text_is_not_cut(
    console_server, browser, expect, ana, inquiry, zh, view
) -> None:
    ticket = inquiry()
    page = _page(browser, ana, zh, view)
    limit = settings.INQUIRY_BODY_MAX_LENGTH
    try:
        log_in(page, console_server, "ana")
        page.goto(f"{console_server}/console/tickets/{ticket.id}/")
        composer = page.locator("#reply-form textarea")
        composer.fill("您好，已为您登记换小一号")
        page.wait_for_timeout(400)  # the draft is saved a moment after typing stops
        page.reload()
        expect(page.locator("#reply-form textarea")).to_have_value("您好，已为您登记换小一号")

        pasted = "好" * (limit + 120)
        page.locator("#reply-form textarea").fill(pasted)
        counter = page.locator("#reply-form .char-count")
        expect(counter).to_be_visible()
        expect(counter).to_have_class("char-count is-over")
        page.keyboard.press("Control+Enter")
        expect(page.locator("#reply-form textarea")).to_have_value(pasted)  # whole, and still here
        page.locator("#reply-form textarea").scroll_into_view_if_needed()
        _shot(page, "over-limit", zh, view)
        page.locator("#reply-form textarea").fill("好" * (limit - 300))
        expect(counter).to_be_visible()
        expect(counter).not_to_have_class("char-count is-over")
        _shot(page, "near-limit", zh, view)

        # The internal-note toggle, by keyboard: Alt+I shows the note form.
        page.keyboard.press("Alt+I")
        expect(page.locator("#note-form")).to_be_visible()
        expect(page.locator("#reply-form")).to_be_hidden()
        # "?" (outside a text field) lists the shortcuts.
        page.locator("#note-form textarea").blur()
        page.keyboard.press("Shift+?")
        expect(page.locator("#shortcuts-dialog")).to_be_visible()
        _shot(page, "shortcuts", zh, view)
    finally:
        page.context.close()
    assert not Message.objects.filter(ticket=ticket, author_kind=AuthorKind.AGENT).exists()


@pytest.mark.parametrize(("zh", "view"), [(False, "desktop"), (True, "phone")])
def test_the_reassign_picker_warns_when_the_agent_does_not_speak_the_tickets_language(
    console_server, browser, expect, ana, bo, sam, inquiry, zh, view
) -> None:
    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry("My ring is too big, can I get a smaller size?", language="en")
    page = _page(browser, sam, zh, view)
    try:
        log_in(page, console_server, "sam")
        page.goto(f"{console_server}/console/dashboard/reassign/")
        page.locator(f"input[name=ticket][value='{ticket.id}']").check()
        page.locator("label[data-agent='bo'] input").check()
        warning = page.locator("#language-warning")
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("English")
        _shot(page, "reassign-warning", zh, view)

        page.get_by_label("Reason (kept in the audit log)" if not zh else "原因（记入审计日志）").fill("VIP")
        page.locator("#reassign-form button[type=submit]").click()
        expect(page.locator("#reassign-errors")).to_be_visible()
        expect(page.locator("#reassign-errors")).to_be_in_viewport()
        _shot(page, "reassign-refused", zh, view)
    finally:
        page.context.close()


@pytest.mark.parametrize(("zh", "view"), [(False, "desktop"), (True, "phone")])
def test_sparklines_and_canned_replies_pages_for_supervisors(
    console_server, browser, expect, sam, ana, inquiry, zh, view
) -> None:
    inquiry()
    inquiry("项链断了")
    now = timezone.now()
    for minutes_ago in (3, 2, 1, 0):
        sample_queue_health(now=now - timedelta(minutes=minutes_ago))
    create_macro(
        actor=sam.user, name="Ask for photos", shortcut="photos", queue=None, body_en="Photos?", body_zh="照片？"
    )
    page = _page(browser, sam, zh, view)
    try:
        log_in(page, console_server, "sam")
        page.goto(f"{console_server}/console/dashboard/")
        expect(page.locator("[data-queue='jewelry'] .spark-value")).to_be_visible()
        # The tiles are re-read live (a node may be replaced at any moment): scroll by selector.
        page.evaluate("document.querySelector(\"[data-queue='jewelry']\").scrollIntoView()")
        _shot(page, "sparkline", zh, view)
        page.goto(f"{console_server}/console/dashboard/macros/")
        expect(page.locator("tr[data-macro='photos']")).to_be_visible()
        _shot(page, "macros", zh, view)
        page.locator("#new-macro").click()
        _shot(page, "macro-new", zh, view)
    finally:
        page.context.close()
