"""In the browser, at phone and desktop widths, in English and Chinese: Ana's sidebar count follows a
ticket arriving in her queue without a reload; she searches a two-character word (退款); she opens
a ticket a supervisor moved to Bo and reads its history and after-sales status, with no button."""

from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales.models import AfterSalesRequest, Kind, Opener, RequestStatus, Resolution
from routing.models import Assignment, AssignmentReason
from tests.factories import ShopperFactory, TicketFactory, queue
from tests.helpers import SCREENS, SCREENSHOTS, set_ui_language, signed_in_page
from tickets.events import notify_ticket_changed
from tickets.models import TicketStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = SCREENSHOTS / "workspace-items"


@pytest.fixture
def anas_day(ana, bo):
    shopper = ShopperFactory.create(name="李女士")
    jewelry = queue("jewelry")
    TicketFactory.create(shopper=shopper, body="上次的耳环退款了", status=TicketStatus.CLOSED, queue=jewelry)
    for body in ("退款什么时候到账", "戒指退款申请好了吗"):
        TicketFactory.create(body=body, status=TicketStatus.ASSIGNED, assigned_agent=ana.user, queue=jewelry)
    TicketFactory.create(body="手链什么时候发货", status=TicketStatus.QUEUED, queue=jewelry, queued_at=timezone.now())
    moved = TicketFactory.create(
        shopper=shopper,
        body="项链的扣子坏了，想退款",
        status=TicketStatus.ASSIGNED,
        assigned_agent=bo.user,
        queue=jewelry,
        order_number="SO-RO-1",
    )
    Assignment.objects.create(
        ticket=moved, agent=ana.user, reason=AssignmentReason.ROUTING, ended_at=timezone.now(), end_reason="reassigned"
    )
    Assignment.objects.create(ticket=moved, agent=bo.user, reason=AssignmentReason.SUPERVISOR)
    AfterSalesRequest.objects.create(
        ticket=moved,
        shopper=shopper,
        kind=Kind.REFUND_ONLY,
        resolution=Resolution.REFUND,
        status=RequestStatus.PENDING_REVIEW,
        opened_by=Opener.SHOPPER,
        order_number="SO-RO-1",
        currency="CNY",
        amount_requested=Decimal("88.00"),
    )
    return moved


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
@pytest.mark.parametrize(("locale", "name", "viewport"), SCREENS, ids=[f"{s[0]}-{s[1]}" for s in SCREENS])
def test_live_sidebar_short_search_and_a_read_only_former_ticket(
    console_server, browser, expect, ana, anas_day, settings, locale, name, viewport
) -> None:
    settings.CONSOLE_SIDEBAR_COUNTS_SECONDS = 0  # the count follows at once here
    settings.CONSOLE_QUEUE_HINT_SECONDS = 1  # a queue's change reaches the page within 1 - 1.5 s
    SHOTS.mkdir(parents=True, exist_ok=True)
    zh = locale.startswith("zh")
    if zh:
        set_ui_language("zh-hans", ana)
    suffix = f"{'zh' if zh else 'en'}-{viewport['width']}"
    jewelry = queue("jewelry")
    page = signed_in_page(browser, console_server, ana.user, locale, viewport)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{console_server}/console/")
        count = page.locator(f"#view-queue-{jewelry.id} .count")
        expect(count).to_have_text("1")
        page.wait_for_timeout(500)  # the live socket connects

        arriving = TicketFactory.create(
            body="耳环少了一只", status=TicketStatus.QUEUED, queue=jewelry, queued_at=timezone.now()
        )
        notify_ticket_changed(arriving, kind="queued")
        expect(count).to_have_text("2", timeout=10_000)
        page.screenshot(path=str(SHOTS / f"inbox-live-sidebar-{suffix}.png"), full_page=True)

        page.locator("#search-q").fill("退款")
        page.locator("#search-q").press("Enter")
        rows = page.locator("#ticket-list tbody tr")
        expect(rows).to_have_count(3)  # her two, and the one she once held
        page.screenshot(path=str(SHOTS / f"search-two-characters-{suffix}.png"), full_page=True)

        page.goto(f"{console_server}/console/tickets/{anas_day.id}/")
        expect(page.locator("#read-only-notice")).to_be_visible()
        expect(page.locator("#shopper-history")).to_contain_text("上次的耳环退款了")
        expect(page.locator("#ticket-aftersales")).to_contain_text("88.00")
        expect(page.locator("#ticket-orders")).to_be_visible()
        for hidden in ("#reply-form", "#resolve-form", "#book-callback-form", "#open-aftersales-form"):
            expect(page.locator(hidden)).to_have_count(0)
        expect(page.locator("#ticket-aftersales form")).to_have_count(0)
        page.screenshot(path=str(SHOTS / f"former-ticket-read-only-{suffix}.png"), full_page=True)
        assert errors == []
    finally:
        page.context.close()
