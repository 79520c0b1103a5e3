"""After a proactive ticket: the shopper's own inquiry about that order joins it (API and shopper
page), and a late delivery is compensated once, through the after-sales execution, however often
the task is retried."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from aftersales.models import AfterSalesRequest, Kind, Opener, RequestStatus, Resolution
from aftersales.services import execute_request
from core import events as domain_events
from proactive.models import AnomalyKind, AnomalyRule, Compensation, ProactiveCase
from proactive.services import sweep
from tests.helpers import inquiry_payload, service_missing
from tests.orders.conftest import _fresh_order_systems, console_orders, order_service  # noqa: F401
from tests.proactive.conftest import ZHAO, shipped_order
from tickets.models import AuthorKind, Ticket

pytestmark = pytest.mark.django_db
T0 = datetime.fromisoformat("2026-12-01T09:00:00+08:00")
CHERRIES = "JD20261101003"  # the reference order service's order of shopper-003


def at(hours: float) -> Any:
    return time_machine.travel(T0 + timedelta(hours=hours), tick=False)


@pytest.fixture
def stalled_case(send: Any) -> ProactiveCase:
    with at(0):
        send(shipped_order(CHERRIES, shipped=T0, promised=T0 + timedelta(days=5)))
    with at(24.5):
        sweep()
    return ProactiveCase.objects.select_related("ticket").get(order_number=CHERRIES, kind=AnomalyKind.STALLED)


def zhaos_inquiry(external_id: str = ZHAO["external_id"]) -> dict[str, Any]:
    return inquiry_payload(
        shopper={"external_id": external_id, "phone": ZHAO["phone"]},
        body="我的车厘子怎么还没到？",
        order={"number": CHERRIES, "product_category": "fresh_food"},
    )


def test_the_shoppers_inquiry_about_the_order_joins_the_proactive_ticket(
    storefront_client: Any, stalled_case: ProactiveCase
) -> None:
    tickets_before = Ticket.objects.count()
    response = storefront_client.post("/api/v1/inquiries/", zhaos_inquiry(), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["id"] == stalled_case.ticket_id
    assert response.json()["joined"] is True
    assert Ticket.objects.count() == tickets_before
    bodies = list(stalled_case.ticket.messages.values_list("author_kind", "body"))
    assert bodies[-1] == (AuthorKind.SHOPPER, "我的车厘子怎么还没到？")


@pytest.mark.parametrize("mode", ["assign", "offer"])
def test_a_joining_inquiry_that_asks_for_a_person_brings_one_like_any_other(
    storefront_client: Any, stalled_case: ProactiveCase, mode: str
) -> None:
    """The shopper's first word on a proactive ticket goes through the handoff detector: "转人工"
    puts the ticket on top and a person on it at once (an offer, in a queue that offers)."""
    from routing.models import Offer
    from teams.models import SpecialistQueue
    from teams.selectors import reset_config_cache
    from tests.factories import AgentFactory, queue

    fresh = queue("fresh_food")
    if mode == "offer":
        SpecialistQueue.objects.filter(pk=fresh.pk).update(mode=SpecialistQueue.Mode.OFFER)
        reset_config_cache()
    liu = AgentFactory.create(skills=["fresh_food"], languages=["zh"], capacity=3)
    calm = storefront_client.post("/api/v1/inquiries/", zhaos_inquiry(), format="json")
    ticket = Ticket.objects.get(pk=calm.json()["id"])
    assert calm.json()["joined"] is True and ticket.handoff_requested_at is None  # no one asked yet

    asks = inquiry_payload(
        shopper={"external_id": ZHAO["external_id"]},
        body="转人工！车厘子到底什么时候到？",
        order={"number": CHERRIES, "product_category": "fresh_food"},
    )
    response = storefront_client.post("/api/v1/inquiries/", asks, format="json")
    assert response.status_code == 201 and response.json()["joined"] is True
    ticket = Ticket.objects.get(pk=stalled_case.ticket_id)
    assert "asks_for_human" in ticket.signals and "proactive" in ticket.signals
    assert ticket.priority == Ticket.PRIORITY_TOP and ticket.handoff_requested_at is not None
    handoff = ticket.routing_decisions.get(kind="handoff")
    assert (
        handoff.reason.startswith("shopper's message needs a person; signals: ") and "asks_for_human" in handoff.reason
    )
    if mode == "offer":
        assert Offer.objects.get(ticket=ticket, state=Offer.State.PENDING).agent_id == liu.user_id
    else:
        assert ticket.assigned_agent_id == liu.user_id and ticket.handoff_assigned_at is not None


def test_a_retried_joining_inquiry_adds_no_second_message(storefront_client: Any, stalled_case: ProactiveCase) -> None:
    first = storefront_client.post("/api/v1/inquiries/", zhaos_inquiry(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = storefront_client.post("/api/v1/inquiries/", zhaos_inquiry(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] == stalled_case.ticket_id
    assert stalled_case.ticket.messages.filter(author_kind=AuthorKind.SHOPPER).count() == 1


def test_an_inquiry_naming_an_order_is_one_statement_whether_it_joins_or_opens_a_ticket(
    storefront_client: Any, stalled_case: ProactiveCase, monkeypatch: pytest.MonkeyPatch, request: Any
) -> None:
    """The look for an open proactive case rides in intake's own statement (tickets.intake_write):
    a new ticket costs one query with or without an order number, and a found case writes nothing
    there (no ticket, no shopper update, no ticket.created for the webhook outbox)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cxconsole.celery import app as celery_app
    from tickets.services import OrderSnapshot, ShopperDetails, open_ticket
    from webhooks.models import WebhookEvent
    from webhooks.outbox import forget_subscriptions
    from webhooks.services import create_endpoint

    if connection.vendor != "postgresql":
        service_missing("one statement is PostgreSQL's (SQLite looks for the case with a query of its own)")
    monkeypatch.setattr(celery_app, "send_task", lambda *a, **k: None)
    request.addfinalizer(forget_subscriptions)  # the endpoint goes with the test's transaction
    create_endpoint(client=storefront_client.user, url="http://127.0.0.1:9/hook", event_types=["ticket.created"])
    domain_events.wanted("ticket.created")  # the outbox's subscription cache is warm, as in a running process
    storefront, events_before = storefront_client.user, WebhookEvent.objects.count()

    def inquiry(external_id: str, order: str) -> Any:
        return open_ticket(
            shopper=ShopperDetails(external_id=external_id, name="新名字"),
            channel="chat",
            body="我的车厘子怎么还没到？",
            order=OrderSnapshot(number=order, product_category="fresh_food"),
            client=storefront,
        )

    def statements(captured: CaptureQueriesContext) -> list[str]:
        return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]  # the test's own

    with CaptureQueriesContext(connection) as other_order:
        opened = inquiry(ZHAO["external_id"], "JD-NO-CASE")
    assert opened.created and not opened.joined and opened.ticket.pk != stalled_case.ticket_id
    assert len(statements(other_order)) == 1, statements(other_order)
    assert WebhookEvent.objects.filter(type="ticket.created").count() == events_before + 1

    tickets_before = Ticket.objects.count()
    with CaptureQueriesContext(connection) as joining:
        joined = inquiry(ZHAO["external_id"], CHERRIES)
    assert joined.joined and joined.ticket.pk == stalled_case.ticket_id
    assert statements(joining)[0].startswith("WITH j AS")
    assert Ticket.objects.count() == tickets_before
    assert not WebhookEvent.objects.filter(type="ticket.created", ticket_id=None).exists()
    assert WebhookEvent.objects.filter(type="ticket.created").count() == events_before + 1
    assert stalled_case.ticket.messages.filter(author_kind=AuthorKind.SHOPPER).count() == 1


def test_another_shoppers_inquiry_naming_the_order_opens_its_own_ticket(
    storefront_client: Any, stalled_case: ProactiveCase
) -> None:
    payload = zhaos_inquiry("someone-else")
    response = storefront_client.post("/api/v1/inquiries/", payload, format="json")
    assert response.status_code == 201
    assert response.json()["id"] != stalled_case.ticket_id
    assert "joined" not in response.json() or response.json()["joined"] is False


def test_on_the_shopper_page_the_inquiry_joins_only_for_a_browser_holding_the_link(
    client: Any, stalled_case: ProactiveCase
) -> None:
    from tickets.links import make_access_token

    form = {"body": "车厘子还没到，怎么回事", "order_number": CHERRIES, "email": "zhao@example.com"}
    stranger = client.post("/shop/", form)
    assert stranger.status_code == 302
    assert f"/shop/inquiries/{stalled_case.ticket_id}/" not in stranger["Location"]
    client.get(f"/shop/access/{make_access_token(stalled_case.ticket_id)}/")
    holder = client.post("/shop/", {**form, "body": "还是没到"})
    assert holder["Location"].endswith(f"/shop/inquiries/{stalled_case.ticket_id}/")
    assert stalled_case.ticket.messages.filter(author_kind=AuthorKind.SHOPPER, body="还是没到").exists()


def test_a_late_delivery_is_compensated_once_with_a_coupon_paid_once_under_retries(
    send: Any,
    console_orders: Any,  # noqa: F811
) -> None:
    captured: list[str] = []
    domain_events.subscribe("test-capture", lambda batch: captured.extend(e.type for e in batch))
    try:
        with at(0):
            send(shipped_order(CHERRIES, shipped=T0, promised=T0 + timedelta(hours=20)))
        with at(20.5):
            sweep()
            sweep()
    finally:
        domain_events.unsubscribe("test-capture")
    case = ProactiveCase.objects.get(order_number=CHERRIES, kind=AnomalyKind.LATE)
    request = AfterSalesRequest.objects.get(order_number=CHERRIES)
    assert case.compensation == request
    assert (request.kind, request.resolution, request.opened_by) == (
        Kind.COMPENSATION,
        Resolution.COUPON,
        Opener.SYSTEM,
    )
    assert request.status == RequestStatus.AUTO_APPROVED and request.amount_approved == Decimal("10.00")
    assert {"proactive.case_opened", "aftersales.requested", "aftersales.approved"} <= set(captured)
    assert "迟到必赔" in case.ticket.messages.get(author_kind=AuthorKind.SYSTEM).body
    # The execution task retried (a duplicate delivery, a retry after a lost answer): one coupon.
    assert execute_request(request_id=request.pk) == RequestStatus.DONE
    assert execute_request(request_id=request.pk) == RequestStatus.DONE
    AfterSalesRequest.objects.filter(pk=request.pk).update(status=RequestStatus.AUTO_APPROVED)
    assert execute_request(request_id=request.pk) == RequestStatus.DONE  # replayed by its idempotency key
    assert len(console_orders.coupons) == 1


def test_the_shipping_fee_is_refunded_when_the_rule_says_so(send: Any, console_orders: Any) -> None:  # noqa: F811
    AnomalyRule.objects.filter(kind=AnomalyKind.LATE, category__isnull=True).update(
        compensation=Compensation.SHIPPING_REFUND
    )
    with at(0):
        send(shipped_order(CHERRIES, shipped=T0, promised=T0 + timedelta(hours=20), shipping_fee="8.00"))
    with at(21):
        sweep()
    request = AfterSalesRequest.objects.get(order_number=CHERRIES)
    assert (request.resolution, request.amount_approved) == (Resolution.REFUND, Decimal("8.00"))
    assert execute_request(request_id=request.pk) == RequestStatus.DONE
    assert [r["amount"] for r in console_orders.refunds] == ["8.00"]


def test_a_late_case_never_compensates_the_same_order_twice(send: Any) -> None:
    from aftersales.services import open_system_compensation

    with at(0):
        send(shipped_order(CHERRIES, shipped=T0, promised=T0 + timedelta(hours=20)))
    with at(21):
        sweep()
    case = ProactiveCase.objects.get(order_number=CHERRIES, kind=AnomalyKind.LATE)
    again = open_system_compensation(
        ticket_id=case.ticket_id,
        order_number=CHERRIES,
        amount=Decimal("10.00"),
        currency="CNY",
        resolution=Resolution.COUPON,
        rule="late_coupon",
        detail="again",
    )
    assert not again.created
    assert AfterSalesRequest.objects.filter(order_number=CHERRIES).count() == 1
