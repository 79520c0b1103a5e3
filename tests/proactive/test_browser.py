"""In a real browser (Chromium): Ana opens the proactive ticket the rules opened for Wang's stalled
ring. The panel explains the anomaly (no scan since…, the category's limit) and shows the delivery
timeline. Phone and desktop, English and Chinese."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from proactive.ingest import ingest_events
from proactive.models import ProactiveCase
from proactive.services import sweep
from routing.services import route_new_tickets
from teams.services import STOREFRONT_GROUP, ensure_roles
from tests.factories import UserFactory
from tests.helpers import SCREENS, scroll_to, signed_in_page
from tests.proactive.conftest import WANG, event, shipped_order

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]
TEXT = {
    "en-US": {"title": "Proactive case", "kind": "Stalled", "why": "No scan since", "scan": "Logistics scan"},
    "zh-CN": {"title": "主动服务", "kind": "物流停滞", "why": "起无扫描", "scan": "物流扫描"},
}


@pytest.fixture
def stalled_ring_ticket(db: None) -> int:
    ensure_roles()
    shop = UserFactory.create(username="storefront-browser")
    shop.groups.add(Group.objects.get(name=STOREFRONT_GROUP))
    now = timezone.now()
    shipped = now - timedelta(hours=70)
    events = [
        *shipped_order(
            "JD20261120088", shipped=shipped, promised=now + timedelta(days=2), category="jewelry", shopper=WANG
        ),
        event(
            "logistics.scan",
            "JD20261120088",
            shipped + timedelta(hours=4),
            place="Shenzhen sorting centre",
            status="departed",
        ),
        event("logistics.scan", "JD20261120088", shipped + timedelta(hours=19), place="Hangzhou hub", status="arrived"),
    ]
    ingest_events(client=shop, raw_events=events, categories=frozenset({"jewelry"}))
    sweep()
    route_new_tickets()
    return ProactiveCase.objects.get(order_number="JD20261120088", kind="stalled").ticket_id


@pytest.mark.parametrize(("locale", "device", "viewport"), SCREENS)
def test_ana_sees_why_the_rules_opened_the_ticket_and_the_delivery_timeline(
    console_server: str,
    browser: Any,
    expect: Any,
    screenshots: Any,
    ana: Any,
    stalled_ring_ticket: int,
    locale: str,
    device: str,
    viewport: dict[str, int],
) -> None:
    text = TEXT[locale]
    page = signed_in_page(browser, console_server, ana.user, locale, viewport)
    try:
        page.goto(f"{console_server}/console/tickets/{stalled_ring_ticket}/")
        panel = page.locator("#proactive-case")
        expect(panel).to_be_visible()
        expect(panel).to_contain_text(text["title"])
        expect(panel).to_contain_text(text["kind"])
        expect(panel).to_contain_text(text["why"])
        expect(panel).to_contain_text("Hangzhou hub")
        expect(panel.locator(".proactive-timeline li")).to_have_count(5)
        expect(panel.locator(".proactive-timeline li").nth(4)).to_contain_text(text["scan"])
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the page scrolls sideways ({width}px)"
        page.screenshot(path=str(screenshots / f"proactive-page-{locale}-{device}.png"), full_page=True)
        scroll_to(page, "#proactive-case")
        # The viewport, not the element: a live re-read may swap the panel out mid-capture.
        page.screenshot(path=str(screenshots / f"proactive-panel-{locale}-{device}.png"))
    finally:
        page.context.close()
