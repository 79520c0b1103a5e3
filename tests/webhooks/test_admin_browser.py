"""An admin looks an event up by its envelope id in a real browser (Chromium), in English and in
Chinese, at desktop and phone width: the event list (newest first by seq) and the delivery log.
Screenshots go to var/screenshots/webhooks/."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from tests.webhooks.receiver import Receiver
from tickets.services import ShopperDetails, open_ticket
from webhooks.fanout import fan_out
from webhooks.models import WebhookEndpoint, WebhookEvent

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize(("locale", "language", "search"), [("en-US", "en", "Search"), ("zh-CN", "zh-hans", "搜索")])
def test_an_admin_finds_an_event_and_its_deliveries_by_the_envelope_id(
    console_server, browser, expect, screenshots, receiver: Receiver,
    endpoint_for: Callable[..., WebhookEndpoint], locale, language, search,
) -> None:  # fmt: skip
    shots = screenshots / "webhooks"
    shots.mkdir(exist_ok=True)
    User.objects.create_superuser("root-admin", password="pw-for-tests")
    endpoint_for(receiver.url, ["*"])
    for n in range(3):
        open_ticket(shopper=ShopperDetails(external_id=f"u-{n}"), channel="chat", body="项链能刻字吗", language="zh")
    fan_out()
    wanted = WebhookEvent.objects.filter(type="ticket.created").order_by("seq").first()
    assert wanted is not None
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_page(viewport=viewport, locale=locale)
        try:
            page.goto(f"{console_server}/admin/login/?next=/admin/webhooks/webhookevent/")
            page.locator("#id_username").fill("root-admin")
            page.locator("#id_password").fill("pw-for-tests")
            page.locator("input[type=submit]").click()
            page.wait_for_url(f"{console_server}/admin/webhooks/webhookevent/")
            expect(page.locator("#result_list")).to_contain_text(str(wanted.uuid))
            page.screenshot(path=str(shots / f"events-{language}-{width}.png"), full_page=True)

            page.locator("#searchbar").fill(str(wanted.uuid))
            page.get_by_role("button", name=search).click()
            expect(page.locator("#result_list tbody tr")).to_have_count(1)
            page.screenshot(path=str(shots / f"events-found-{language}-{width}.png"), full_page=True)

            page.goto(f"{console_server}/admin/webhooks/webhookdelivery/?q={wanted.uuid}")
            expect(page.locator("#result_list tbody tr")).to_have_count(1)
            page.screenshot(path=str(shots / f"deliveries-found-{language}-{width}.png"), full_page=True)
        finally:
            page.context.close()
