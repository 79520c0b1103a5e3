"""The ticket page's orders panel and the shopper's other inquiries.

The page itself never waits on the order system: it carries the fragment's URL, and the fragment
(fetched by the page's script) says "orders unavailable" when the order system is down or slow.
"""

import pytest
from django.test import Client

from tests.factories import TicketFactory, UserFactory, queue
from tests.orders.conftest import WANGS_RING_ORDER
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db

UNAVAILABLE = "Orders unavailable"


def fragment_url(ticket) -> str:
    return f"/console/tickets/{ticket.id}/orders/"


def test_the_ticket_page_renders_without_asking_the_order_system(signed_in, ana, wangs_ticket, console_orders) -> None:
    response = signed_in(ana).get(f"/console/tickets/{wangs_ticket.id}/")

    assert response.status_code == 200
    assert f'data-orders-url="{fragment_url(wangs_ticket)}"' in response.text
    assert "Loading the shopper" in response.text
    assert console_orders.requests_served == 0


def test_the_live_refresh_of_the_ticket_page_leaves_the_panels_out(
    signed_in, ana, wangs_ticket, console_orders
) -> None:
    response = signed_in(ana).get(f"/console/tickets/{wangs_ticket.id}/live/")

    assert response.status_code == 200
    assert "ticket-orders" not in response.text and "shopper-history" not in response.text


def test_the_fragment_lists_the_shoppers_orders_with_the_inquirys_order_first_and_highlighted(
    signed_in, ana, wangs_ticket, console_orders
) -> None:
    response = signed_in(ana).get(fragment_url(wangs_ticket))

    assert response.status_code == 200
    html = response.text
    assert html.index(WANGS_RING_ORDER) < html.index("JD20261020114")
    assert f'class="order order-named" id="order-{WANGS_RING_ORDER.lower()}"' in html
    assert "In this inquiry" in html
    assert "18K金钻石戒指 (7号)" in html and "3999.00 CNY" in html
    assert '>Tracking <span class="count">5<' in html and "Signed for" in html  # the named order's whole route
    assert 'aria-current="step">Delivered<' in html
    assert response.headers["Cache-Control"].startswith("max-age=0")


def test_a_late_parcel_is_marked_late_with_its_promised_date(signed_in, ana, wang, console_orders) -> None:
    roses = TicketFactory(
        shopper=wang, status=TicketStatus.ASSIGNED, queue=queue("flowers"), assigned_agent=ana.user,
        order_number="JD20261101004",
    )  # fmt: skip

    html = signed_in(ana).get(fragment_url(roses)).text

    assert ">Late<" in html and "Promised by" in html and "late-text" in html


def test_the_fragment_says_orders_unavailable_when_the_order_system_is_down(
    signed_in, ana, wangs_ticket, console_orders
) -> None:
    console_orders.stop()

    response = signed_in(ana).get(fragment_url(wangs_ticket))

    assert response.status_code == 200
    assert UNAVAILABLE in response.text and "data-orders-retry" in response.text


def test_the_fragment_says_orders_unavailable_when_the_order_system_is_slow(
    signed_in, ana, wangs_ticket, console_orders
) -> None:
    console_orders.delay_seconds = 2.0

    response = signed_in(ana).get(fragment_url(wangs_ticket))

    assert response.status_code == 200 and UNAVAILABLE in response.text


def test_the_fragment_says_orders_unavailable_when_no_order_system_is_configured(
    settings, signed_in, ana, wangs_ticket
) -> None:
    settings.ORDER_API_URL = ""
    response = signed_in(ana).get(fragment_url(wangs_ticket))
    assert response.status_code == 200 and UNAVAILABLE in response.text


def test_an_order_named_in_the_inquiry_that_the_order_system_does_not_know_is_pointed_out(
    signed_in, ana, wangs_ticket, console_orders
) -> None:
    wangs_ticket.order_number = "JD-TYPO"
    wangs_ticket.save()

    html = signed_in(ana).get(fragment_url(wangs_ticket)).text

    assert "(JD-TYPO) is not in the order system" in html
    assert WANGS_RING_ORDER in html and "In this inquiry" not in html


def test_only_agents_who_may_see_the_ticket_get_its_orders(
    client: Client, signed_in, ana, mei, sam, wangs_ticket, console_orders
) -> None:
    url = fragment_url(wangs_ticket)
    assert client.get(url).headers["Location"] == f"/accounts/login/?next={url}"
    visitor = Client()
    visitor.force_login(UserFactory.create(username="visitor"))
    assert visitor.get(url).status_code == 403
    assert signed_in(mei).get(url).status_code == 404  # another queue's ticket: as if it did not exist
    assert signed_in(sam).get(url).status_code == 200
    assert signed_in(ana).post(url).status_code == 405
    assert console_orders.requests_served == 2  # Sam's lookup only (list + the named order)


def test_the_shoppers_other_inquiries_are_listed_newest_first_and_linked_where_the_agent_may_open_them(
    signed_in, ana, wang, wangs_ticket, django_assert_max_num_queries
) -> None:
    earlier = TicketFactory.create(shopper=wang, body="项链的扣子坏了", status=TicketStatus.RESOLVED)
    elsewhere = TicketFactory.create(
        shopper=wang, body="宝宝奶粉什么时候到", status=TicketStatus.QUEUED, queue=queue("maternal_baby")
    )
    TicketFactory.create(body="someone else's")

    html = signed_in(ana).get(f"/console/tickets/{wangs_ticket.id}/").text
    history = html[html.index('id="shopper-history"') :]

    assert history.index(f"#{elsewhere.id}") < history.index(f"#{earlier.id}")
    assert "项链的扣子坏了" in history and "宝宝奶粉什么时候到" in history
    assert "someone else" not in history
    # Ana holds neither: she sees they exist, and may open neither.
    assert f'href="/console/tickets/{earlier.id}/"' not in history
    assert f'href="/console/tickets/{elsewhere.id}/"' not in history


def test_a_supervisor_can_open_every_earlier_inquiry(signed_in, sam, wang, wangs_ticket) -> None:
    earlier = TicketFactory.create(shopper=wang, body="项链的扣子坏了", status=TicketStatus.RESOLVED)
    html = signed_in(sam).get(f"/console/tickets/{wangs_ticket.id}/").text
    assert f'href="/console/tickets/{earlier.id}/"' in html


def test_a_first_inquiry_says_so(signed_in, ana, wangs_ticket) -> None:
    html = signed_in(ana).get(f"/console/tickets/{wangs_ticket.id}/").text
    assert "first inquiry" in html
