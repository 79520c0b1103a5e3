"""The rules sweep: each rule's boundary (time-machine), what a new anomaly opens (a ticket in the
category's specialist queue with the proactive signal, the shopper told in their language), and
one case per order and kind however often it runs."""

from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine

from notifications.models import Notification
from proactive.models import AnomalyKind, AnomalyRule, ProactiveCase, TrackedOrder
from proactive.services import PROACTIVE_SIGNAL, sweep
from routing.services import route_new_tickets
from tests.factories import category
from tests.proactive.conftest import WANG, event, shipped_order
from tickets.models import AuthorKind, Channel, TicketStatus

pytestmark = pytest.mark.django_db
T0 = datetime.fromisoformat("2026-12-01T09:00:00+08:00")


def kinds_opened(kind: str | None = None) -> list[tuple[str, str]]:
    cases = ProactiveCase.objects.filter(kind=kind) if kind else ProactiveCase.objects.all()
    return sorted(cases.values_list("order_number", "kind"))


def at(hours: float) -> Any:
    return time_machine.travel(T0 + timedelta(hours=hours), tick=False)


def test_stalled_opens_after_the_categorys_hours_without_a_scan_not_before(send: Any) -> None:
    # Fresh food: 24 h without a scan (its own rule); jewelry: the default 48 h.
    with at(0):
        send(shipped_order("FRESH", shipped=T0, promised=T0 + timedelta(days=5)))
        send(shipped_order("RING", shipped=T0, promised=T0 + timedelta(days=5), category="jewelry", shopper=WANG))
    with at(24):
        assert sweep().total == 0  # exactly 24 h: not yet
    with at(24.01):
        sweep()
    assert kinds_opened("stalled") == [("FRESH", "stalled")]
    with at(47.99):
        sweep()
    assert kinds_opened("stalled") == [("FRESH", "stalled")]
    with at(48.01):
        sweep()
    assert kinds_opened("stalled") == [("FRESH", "stalled"), ("RING", "stalled")]


def test_a_scan_restarts_the_stalled_clock(send: Any) -> None:
    with at(0):
        send(shipped_order("FRESH2", shipped=T0, promised=T0 + timedelta(days=5)))
    with at(20):
        send([event("logistics.scan", "FRESH2", T0 + timedelta(hours=20), place="Hub")])
    with at(30):
        sweep()
        assert not ProactiveCase.objects.filter(kind=AnomalyKind.STALLED).exists()
    with at(44.01):
        sweep()
        assert ProactiveCase.objects.filter(kind=AnomalyKind.STALLED, order_number="FRESH2").exists()


def test_late_opens_just_past_the_promised_time_and_not_once_delivered(send: Any) -> None:
    promised = T0 + timedelta(hours=10)
    with at(0):
        send(shipped_order("LATE1", shipped=T0, promised=promised, category="jewelry", shopper=WANG))
        send(shipped_order("ONTIME", shipped=T0, promised=promised, category="jewelry", shopper=WANG))
    with at(9):
        send([event("order.delivered", "ONTIME", T0 + timedelta(hours=9))])
        send([event("logistics.scan", "LATE1", T0 + timedelta(hours=9), place="Station")])
    with at(10):
        sweep()
        assert not ProactiveCase.objects.filter(kind=AnomalyKind.LATE).exists()
    with at(10.01):
        sweep()
    assert kinds_opened("late") == [("LATE1", "late")]


def test_failed_and_returned_open_at_once_and_only_once(send: Any) -> None:
    with at(0):
        send(shipped_order("FAIL", shipped=T0, promised=T0 + timedelta(days=3), category="jewelry", shopper=WANG))
        send(shipped_order("BACK", shipped=T0, promised=T0 + timedelta(days=3), category="jewelry", shopper=WANG))
    with at(5):
        send([event("delivery.failed", "FAIL", T0 + timedelta(hours=5), reason="address not found")])
        send([event("order.returned", "BACK", T0 + timedelta(hours=5))])
        sweep()
        sweep()
    assert kinds_opened("failed") == [("BACK", "failed"), ("FAIL", "failed")]


def test_a_cold_chain_alert_opens_at_once_and_fresh_goods_in_transit_too_long_too(send: Any) -> None:
    with at(0):
        send(shipped_order("COLD", shipped=T0, promised=T0 + timedelta(days=3)))
        send(shipped_order("SLOW", shipped=T0, promised=T0 + timedelta(days=3)))
    with at(1):
        send([event("cold_chain.alert", "COLD", T0 + timedelta(hours=1), temperature_c=9.5, detail="reefer door open")])
        # Keep SLOW moving so that only the transit-time rule can flag it.
        send([event("logistics.scan", "SLOW", T0 + timedelta(hours=1), place="Hub")])
        sweep()
        assert kinds_opened() == [("COLD", "cold_chain")]
    with at(23.99):
        send([event("logistics.scan", "SLOW", T0 + timedelta(hours=23.9), place="Hub 2")])
        sweep()
        assert ("SLOW", "cold_chain") not in kinds_opened()
    with at(24.01):
        sweep()
        assert ("SLOW", "cold_chain") in kinds_opened()


def test_a_disabled_rule_opens_nothing(send: Any) -> None:
    AnomalyRule.objects.filter(kind=AnomalyKind.FAILED).update(enabled=False)
    with at(0):
        send(shipped_order("FAIL2", shipped=T0, promised=T0 + timedelta(days=3), category="jewelry", shopper=WANG))
        send([event("delivery.failed", "FAIL2", T0)])
        assert sweep().total == 0


def test_an_anomaly_opens_a_proactive_ticket_in_the_categorys_queue_and_tells_the_shopper(
    send: Any, eager_celery: None
) -> None:
    with at(0):
        send(shipped_order("FRESH3", shipped=T0, promised=T0 + timedelta(days=5)))
    with at(24.5):  # past the 24 h without a scan, before the cold-chain transit limit counts it
        sweep()
        route_new_tickets()
    case = ProactiveCase.objects.select_related("ticket__queue", "ticket__shopper").get(
        order_number="FRESH3", kind="stalled"
    )
    ticket = case.ticket
    assert ticket.channel == Channel.PROACTIVE
    assert ticket.status == TicketStatus.QUEUED
    assert ticket.category == category("fresh_food")
    assert ticket.queue == category("fresh_food").queue
    assert PROACTIVE_SIGNAL in ticket.signals
    first = ticket.messages.get()
    assert first.author_kind == AuthorKind.SYSTEM
    assert "FRESH3" in first.body and "没有" in first.body  # Zhao reads Chinese
    sms = Notification.objects.get(ticket=ticket)
    assert sms.channel == "sms" and sms.recipient == "+8613800138003"
    assert sms.language == "zh-hans" and "/shop/access/" in sms.body
    assert case.facts["order_number"] == "FRESH3"
    assert TrackedOrder.objects.get(order_number="FRESH3").stalled_flagged


def test_an_english_shopper_is_told_in_english_by_email(send: Any) -> None:
    with at(0):
        send(shipped_order("RING2", shipped=T0, promised=T0 + timedelta(hours=5), category="jewelry", shopper=WANG))
    with at(6):
        sweep()
    email = Notification.objects.get(ticket__proactive_case__kind="late")
    assert email.channel == "email" and email.recipient == "wang@example.com"
    assert "has not arrived yet" in email.body and "RING2" in email.subject


def test_the_sweep_twice_and_new_events_after_it_never_open_a_second_case(send: Any) -> None:
    with at(0):
        send(shipped_order("FRESH4", shipped=T0, promised=T0 + timedelta(days=5)))
    with at(25):
        sweep()
        sweep()
    with at(26):
        send([event("logistics.scan", "FRESH4", T0 + timedelta(hours=26), place="Hub")])
    with at(60):
        sweep()
    assert ProactiveCase.objects.filter(order_number="FRESH4", kind="stalled").count() == 1


def test_a_sweep_stops_at_its_budget_and_the_next_one_finishes(send: Any) -> None:
    with at(0):
        for n in range(5):
            send([*shipped_order(f"B{n}", shipped=T0, promised=T0 + timedelta(days=5))])
    with at(25):
        first = sweep(batch_size=2, budget_seconds=0)
        assert not first.exhausted and first.total == 0
        assert sweep(batch_size=2).opened == {"stalled": 5, "cold_chain": 5}
