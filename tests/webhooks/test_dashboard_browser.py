"""In a real browser (Chromium), at phone and desktop widths, in English and Chinese: supervisor
Sam sees that the storefront's webhook endpoint was disabled, and where to look."""

import os
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from teams.models import AgentProfile
from webhooks.models import WebhookEndpoint

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

SHOTS = Path(os.environ.get("SHOTS_DIR", "var/screenshots")) / "webhooks"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
HEADINGS = {"en-US": "Storefront webhooks", "zh-CN": "商城 Webhook"}
DISABLED = {"en-US": "events are not reaching the storefront", "zh-CN": "事件已无法送达商城"}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_sam_sees_a_disabled_storefront_endpoint_on_the_dashboard(
    console_server: str,
    browser: Any,
    expect: Any,
    sam: AgentProfile,
    endpoint_for: Any,
    locale: str,
    size: str,
) -> None:
    endpoint = endpoint_for("https://shop.example.com/hooks/customer-service/events")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at=timezone.now(), disabled_reason="20 failed attempts in a row", consecutive_failures=20
    )
    page = browser.new_page(viewport=VIEWPORTS[size], locale=locale)
    try:
        page.goto(f"{console_server}/accounts/login/")
        page.locator("input[name=username]").fill("sam")
        page.locator("input[name=password]").fill("pw-for-tests")
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(f"{console_server}/console/")
        page.goto(f"{console_server}/console/dashboard/")

        card = page.locator("#webhook-alerts")
        expect(card).to_be_visible()
        expect(card.get_by_role("heading")).to_have_text(HEADINGS[locale])
        expect(card).to_contain_text("shop.example.com/hooks/customer-service/events")
        expect(card).to_contain_text(DISABLED[locale])
        box = card.bounding_box()
        assert box is not None and box["x"] + box["width"] <= VIEWPORTS[size]["width"]  # no sideways scroll
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"dashboard-webhooks-{size}-{locale}.png"))
    finally:
        page.context.close()
