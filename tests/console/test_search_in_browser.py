"""In the browser: Ana finds the month-old ticket a shopper asks about by its order number, and
walks her sidebar views; on a phone and a desktop, in English and Chinese."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ShopperFactory, TicketFactory, category, queue
from tests.helpers import SCREENSHOTS, log_in, set_ui_language
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SHOTS = SCREENSHOTS / "search"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def a_month_of_work(ana):
    """Ana's month: a closed ticket from 31 days ago (order SO-20261105-31), 30 resolved this week,
    one she holds now, and three waiting in the jewelry line."""
    wang = ShopperFactory(external_id="u-wang-88", name="王芳", phone="+8613800138000")
    jewelry, ring = queue("jewelry"), category("jewelry")
    now = timezone.now()
    month_ago = now - timedelta(days=31)
    old = TicketFactory(
        shopper=wang,
        body="项链的扣子坏了，能换一个吗？",
        status=TicketStatus.CLOSED,
        assigned_agent=ana.user,
        queue=jewelry,
        category=ring,
        order_number="SO-20261105-31",
        created_at=month_ago,
        resolved_at=month_ago + timedelta(hours=2),
        closed_at=month_ago + timedelta(days=7),
    )
    for n in range(30):
        TicketFactory(
            body=f"戒指尺寸偏大 {n}",
            status=TicketStatus.RESOLVED,
            assigned_agent=ana.user,
            queue=jewelry,
            category=ring,
            created_at=now - timedelta(hours=n + 2),
            resolved_at=now - timedelta(hours=n + 1),
        )
    TicketFactory(shopper=wang, body="又坏了", status=TicketStatus.ASSIGNED, assigned_agent=ana.user, queue=jewelry)
    for n in range(3):
        TicketFactory(body=f"耳环 {n}", status=TicketStatus.QUEUED, queue=jewelry, category=ring, queued_at=now)
    return old


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
@pytest.mark.parametrize(
    ("zh", "viewport"),
    [(False, DESKTOP), (False, PHONE), (True, DESKTOP), (True, PHONE)],
    ids=["en-desktop", "en-phone", "zh-desktop", "zh-phone"],
)
def test_ana_finds_a_month_old_ticket_by_its_order_number_and_walks_her_views(
    console_server, browser, expect, ana, a_month_of_work, zh, viewport
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    if zh:
        set_ui_language("zh-hans", ana)
    page = browser.new_page(viewport=viewport, locale="en-US")
    suffix = f"{'zh' if zh else 'en'}-{viewport['width']}"
    old = a_month_of_work
    try:
        log_in(page, console_server, "ana")
        expect(page.locator("#view-mine .count")).to_have_text("1")
        expect(page.locator("#view-resolved .count")).to_have_text("30")
        page.screenshot(path=str(SHOTS / f"inbox-sidebar-{suffix}.png"), full_page=True)

        page.locator("#search-q").fill("SO-20261105-31")
        page.locator("#search-q").press("Enter")
        page.wait_for_url(f"{console_server}/console/search/?q=SO-20261105-31")
        rows = page.locator("#ticket-list tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("项链的扣子坏了")
        page.screenshot(path=str(SHOTS / f"search-order-{suffix}.png"), full_page=True)
        rows.first.locator("a.ticket-link").click()
        page.wait_for_url(f"{console_server}/console/tickets/{old.id}/")
        expect(page.locator("#ticket-title")).to_contain_text(f"#{old.id}")
        expect(page.locator("#shopper-history")).to_contain_text("又坏了")
        page.screenshot(path=str(SHOTS / f"search-opened-{suffix}.png"), full_page=True)

        page.goto(f"{console_server}/console/views/resolved/")
        expect(page.locator("#ticket-list tbody tr")).to_have_count(25)
        page.locator('a[rel="next"]').click()
        expect(page.locator("#ticket-list tbody tr")).to_have_count(5)
        expect(page.locator('a[rel="prev"]')).to_be_visible()
        page.screenshot(path=str(SHOTS / f"view-resolved-page2-{suffix}.png"), full_page=True)
        page.goto(f"{console_server}/console/views/queue-{queue('jewelry').id}/")
        expect(page.locator("#ticket-list tbody tr")).to_have_count(3)
        page.screenshot(path=str(SHOTS / f"view-queue-{suffix}.png"), full_page=True)
    finally:
        page.context.close()
