"""In a real browser (Chromium): Ana opens Wang's ticket. The page is there at once; the shopper's
orders arrive after it (the ring she asks about first, highlighted, with its tracking), and when
the order system is down the panel says so and the rest of the page works. Phone and desktop,
English and Chinese."""

import pytest

from tests.helpers import SCREENS, signed_in_page
from tests.orders.conftest import WANGS_RING_ORDER

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

TEXT = {
    "en-US": {"loading": "Loading the shopper's orders", "unavailable": "Orders unavailable", "named": "In this inquiry", "title": "Recent orders"},
    "zh-CN": {"loading": "正在加载顾客的订单", "unavailable": "订单暂不可用", "named": "本次咨询", "title": "近期订单"},
}  # fmt: skip


@pytest.mark.parametrize(("locale", "device", "viewport"), SCREENS)
def test_ana_sees_wangs_orders_arrive_after_the_page_with_the_ring_highlighted(
    console_server, browser, expect, screenshots, ana, wangs_ticket, console_orders, settings, locale, device, viewport
) -> None:
    settings.ORDER_API_TIMEOUT = 5.0
    console_orders.delay_seconds = 0.6  # a slowish order system: the page must not wait for it
    text = TEXT[locale]
    page = signed_in_page(browser, console_server, ana.user, locale, viewport)
    try:
        page.goto(f"{console_server}/console/tickets/{wangs_ticket.id}/")
        expect(page.locator("#ticket-title")).to_be_visible()
        expect(page.locator("#ticket-orders")).to_contain_text(text["loading"])

        named = page.locator(f"#order-{WANGS_RING_ORDER.lower()}")
        expect(named).to_be_visible(timeout=5_000)
        expect(named).to_contain_text(text["named"])
        expect(named).to_contain_text("18K金钻石戒指")
        expect(page.locator("#ticket-orders article.order")).to_have_count(2)
        expect(page.locator("#shopper-history")).to_be_visible()
        named.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / f"orders-up-{locale}-{device}.png"), full_page=device == "desktop")
    finally:
        page.context.close()


@pytest.mark.parametrize(("locale", "device", "viewport"), SCREENS)
def test_when_the_order_system_is_down_the_page_still_works_and_the_panel_says_orders_unavailable(
    console_server, browser, expect, screenshots, ana, wangs_ticket, console_orders, locale, device, viewport
) -> None:
    console_orders.stop()
    text = TEXT[locale]
    page = signed_in_page(browser, console_server, ana.user, locale, viewport)
    try:
        page.goto(f"{console_server}/console/tickets/{wangs_ticket.id}/")
        expect(page.locator("#ticket-orders")).to_contain_text(text["unavailable"])
        expect(page.locator("#reply-form")).to_be_visible()
        retry = page.locator("#ticket-orders [data-orders-retry]")
        expect(retry).to_be_visible()

        console_orders.start()  # back on the same port: "try again" brings the orders
        if device == "desktop":
            page.screenshot(path=str(screenshots / f"orders-down-{locale}-{device}.png"), full_page=True)
        else:
            page.locator("#ticket-orders").scroll_into_view_if_needed()
            page.screenshot(path=str(screenshots / f"orders-down-{locale}-{device}.png"))
        retry.click()
        expect(page.locator(f"#order-{WANGS_RING_ORDER.lower()}")).to_be_visible(timeout=5_000)
    finally:
        page.context.close()
