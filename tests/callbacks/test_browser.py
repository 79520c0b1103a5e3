"""In a real browser (Chromium): Wang manages her callback through the signed link, in Chinese;
Ana sees a due callback arrive at the top of her inbox without reloading, and works it."""

from typing import Any

import pytest
from django.utils import timezone

from callbacks.links import make_link_token
from callbacks.models import Callback, CallbackStatus
from callbacks.services import available_slots, book_callback, cancel_callback, dispatch_due_callbacks
from tests.factories import queue
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]


def new_page(browser: Any, locale: str) -> Any:
    return browser.new_page(viewport={"width": 414, "height": 896}, locale=locale)


def test_wang_confirms_moves_and_cancels_her_callback_on_her_phone(
    console_server,
    browser,
    expect,
    screenshots,
    ticket_of,
    wang,
) -> None:
    slots = available_slots(queue=queue("jewelry"), now=timezone.now(), days=7)
    callback = book_callback(
        ticket=ticket_of(wang), scheduled_at=slots[2].start, window_end=slots[2].end, phone=wang.phone
    )
    page = new_page(browser, "zh-CN")
    try:
        page.goto(f"{console_server}/callbacks/{make_link_token(callback.pk)}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("您的回电")
        expect(page.locator("#callback-when")).to_contain_text("(Asia/Shanghai)")

        page.get_by_role("button", name="确认这个时间").click()
        expect(page.get_by_text("谢谢，您的回电已确认。")).to_be_visible()
        expect(page.locator(".callback-status")).to_contain_text("已确认")

        page.get_by_label("空闲时间（您的时区）").select_option(index=3)
        page.get_by_role("button", name="改到这个时间").click()
        expect(page.get_by_text("您的回电已改到新的时间。")).to_be_visible()
        page.screenshot(path=str(screenshots / "callback-shopper-page.png"), full_page=True)
        callback.refresh_from_db()
        assert callback.version == 2 and callback.scheduled_at != slots[2].start

        # Cancelling asks once: the button only shows once she opens the step.
        expect(page.get_by_role("button", name="确定取消回电")).to_be_hidden()
        page.locator("#cancel-callback summary").click()
        page.screenshot(path=str(SCREENSHOTS / "workspace" / "callback-cancel-confirm-phone-zh.png"), full_page=True)
        page.get_by_role("button", name="确定取消回电").click()
        expect(page.get_by_text("您的回电已取消。")).to_be_visible()
        # The link died with the callback: no phone, no booking from it any more.
        expect(page.get_by_role("heading", name="此回电已取消")).to_be_visible()
        assert wang.phone not in page.content()
        page.screenshot(path=str(SCREENSHOTS / "security" / "callback-link-closed-phone-zh.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(SCREENSHOTS / "security" / "callback-link-closed-desktop-zh.png"), full_page=True)
        callback.refresh_from_db()
        assert callback.status == CallbackStatus.CANCELLED

        response = page.goto(f"{console_server}/callbacks/{make_link_token(callback.pk)[:-4]}xxxx/")
        assert response.status == 400
        expect(page.get_by_role("heading", level=1)).to_have_text("此链接无效")
    finally:
        page.context.close()


def test_a_due_callback_appears_on_anas_inbox_live_and_she_completes_it(
    console_server,
    browser,
    expect,
    screenshots,
    ticket_of,
    wang,
    ana,
) -> None:
    ticket = ticket_of(wang)
    # Due now (whatever the hour of this run): written directly, as the booking rules do not matter here.
    callback = Callback.objects.create(
        ticket=ticket,
        queue=ticket.queue,
        owner=ana.user,
        booked_by="agent",
        phone=wang.phone,
        scheduled_at=timezone.now(),
    )
    page = new_page(browser, "en-US")
    try:
        page.goto(f"{console_server}/accounts/login/")
        page.get_by_label("Username").fill("ana")
        page.get_by_label("Password").fill("pw-for-tests")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{console_server}/console/")
        expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
        expect(page.locator("#due-callbacks")).to_contain_text("No callback is due.")

        assert dispatch_due_callbacks().surfaced == 1

        due = page.locator(f"#due-callback-{callback.pk}")
        expect(due).to_be_visible(timeout=3_000)  # pushed, well before the 5 s poll
        expect(due).to_contain_text("For you")
        page.screenshot(path=str(screenshots / "callback-inbox.png"))
        due.get_by_role("button", name="Start call").click()
        expect(page.get_by_text(f"Call {wang.phone} now.")).to_be_visible()
        page.locator(f"#due-callback-{callback.pk}").get_by_label("Outcome").select_option("reached")
        page.locator(f"#due-callback-{callback.pk}").get_by_role("button", name="Save outcome").click()
        expect(page.get_by_text("Outcome saved: the callback is now Completed.")).to_be_visible()
        callback.refresh_from_db()
        assert callback.status == CallbackStatus.COMPLETED
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("viewport", "name"), [({"width": 390, "height": 844}, "phone"), ({"width": 1280, "height": 800}, "desktop")]
)
def test_emma_opens_the_link_of_her_cancelled_callback_in_english(
    console_server, browser, expect, ticket_of, emma, viewport, name
) -> None:
    slots = available_slots(queue=queue("jewelry"), now=timezone.now(), days=7)
    callback = book_callback(
        ticket=ticket_of(emma), scheduled_at=slots[1].start, window_end=slots[1].end, phone=emma.phone
    )
    cancel_callback(callback_id=callback.pk)
    page = browser.new_page(viewport=viewport, locale="en-US")
    try:
        response = page.goto(f"{console_server}/callbacks/{make_link_token(callback.pk)}/")
        assert response.status == 410
        expect(page.get_by_role("heading", level=1)).to_have_text("This callback was cancelled")
        page.screenshot(path=str(SCREENSHOTS / "security" / f"callback-link-closed-{name}-en.png"), full_page=True)
    finally:
        page.context.close()
