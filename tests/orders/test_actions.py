"""Refund, reship and coupon through the adapter: every action carries an idempotency key, so a
retry (after a timeout, a lost answer, a second worker) returns the first result and pays nothing
more."""

import threading
from decimal import Decimal

import pytest

from orders.contract import ItemLine, OrderActionRejected, OrderNotFound, OrderServiceUnavailable

PHONE_ORDER = "JD20261101007"  # 小米14 (item 1, 3999.00) + charger (item 2, 149.00)
CHARGER = [ItemLine(item_id="2", quantity=1)]


def refund_charger(adapter, key: str = "aftersales:41:refund"):
    return adapter.refund(
        order_number=PHONE_ORDER, items=CHARGER, amount=Decimal("149.00"), idempotency_key=key, reason="broken"
    )


def test_a_refund_is_paid_and_the_order_shows_it(adapter, order_service) -> None:
    result = refund_charger(adapter)

    assert result.amount == Decimal("149.00") and result.status == "succeeded" and not result.replayed
    assert result.items == tuple(CHARGER)
    order = adapter.get_order(PHONE_ORDER)
    assert order.amounts.refunded == Decimal("149.00") and order.payment.status == "partially_refunded"
    assert [i.refunded_quantity for i in order.items] == [0, 1]


def test_a_refund_retried_with_the_same_key_pays_once(adapter, order_service) -> None:
    first = refund_charger(adapter)
    again = refund_charger(adapter)

    assert again.replayed and again.refund_id == first.refund_id and again.amount == first.amount
    assert len(order_service.refunds) == 1
    assert adapter.get_order(PHONE_ORDER).amounts.refunded == Decimal("149.00")


def test_a_refund_whose_answer_was_lost_is_retried_with_its_key_and_pays_once(adapter, order_service) -> None:
    order_service.delay_after_action_seconds = 2.0  # the money moves, the answer comes too late
    with pytest.raises(OrderServiceUnavailable, match="timed out"):
        refund_charger(adapter)
    assert len(order_service.refunds) == 1

    order_service.delay_after_action_seconds = 0
    retried = refund_charger(adapter)

    assert retried.replayed
    assert len(order_service.refunds) == 1
    assert adapter.get_order(PHONE_ORDER).amounts.refunded == Decimal("149.00")


def test_concurrent_retries_of_one_refund_pay_once(make_adapter, order_service) -> None:
    adapters = [make_adapter(action_timeout=5) for _ in range(4)]
    results: list = []
    threads = [threading.Thread(target=lambda a=a: results.append(refund_charger(a))) for a in adapters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(results) == 4 and len({r.refund_id for r in results}) == 1
    assert sorted(r.replayed for r in results) == [False, True, True, True]
    assert len(order_service.refunds) == 1


def test_a_key_reused_for_another_request_is_rejected(adapter, order_service) -> None:
    refund_charger(adapter, key="k-1")
    with pytest.raises(OrderActionRejected) as rejected:
        adapter.refund(
            order_number=PHONE_ORDER, items=CHARGER, amount=Decimal("100.00"), idempotency_key="k-1", reason="broken"
        )
    assert rejected.value.code == "idempotency_key_reused"
    assert len(order_service.refunds) == 1


def test_the_same_items_cannot_be_refunded_twice_under_another_key(adapter, order_service) -> None:
    refund_charger(adapter, key="k-1")
    with pytest.raises(OrderActionRejected) as rejected:
        refund_charger(adapter, key="k-2")
    assert rejected.value.code == "item_already_refunded"
    assert len(order_service.refunds) == 1


def test_a_refund_above_what_is_left_is_rejected_and_pays_nothing(adapter, order_service) -> None:
    with pytest.raises(OrderActionRejected) as rejected:
        adapter.refund(
            order_number=PHONE_ORDER,
            items=[ItemLine(item_id="1", quantity=1)],
            amount=Decimal("5000.00"),
            idempotency_key="too-much",
        )
    assert rejected.value.code == "amount_exceeds_refundable"
    assert order_service.refunds == []
    assert adapter.breaker.state == "closed"  # a refusal is an answer, not an outage


def test_an_action_on_an_unknown_order_is_not_found(adapter) -> None:
    with pytest.raises(OrderNotFound):
        adapter.refund(order_number="JD-NONE", items=CHARGER, amount=Decimal("1"), idempotency_key="x")


def test_an_action_needs_an_idempotency_key(adapter, order_service) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        refund_charger(adapter, key="")
    assert order_service.requests_served == 0


def test_a_reship_and_a_coupon_are_idempotent_too(adapter, order_service) -> None:
    reship = adapter.reship(order_number=PHONE_ORDER, items=CHARGER, idempotency_key="rs-1", reason="missing")
    coupon = adapter.issue_coupon(
        order_number="JD20261101004", amount=Decimal("20.00"), idempotency_key="late:JD20261101004", reason="late"
    )

    assert adapter.reship(order_number=PHONE_ORDER, items=CHARGER, idempotency_key="rs-1", reason="missing").replayed
    again = adapter.issue_coupon(
        order_number="JD20261101004", amount=Decimal("20.00"), idempotency_key="late:JD20261101004", reason="late"
    )
    assert again.replayed and again.coupon_code == coupon.coupon_code and coupon.amount == Decimal("20.00")
    assert reship.items == tuple(CHARGER) and coupon.expires_at is not None
    assert len(order_service.reshipments) == 1 and len(order_service.coupons) == 1


def test_an_action_forgets_the_cached_order(make_adapter, order_service) -> None:
    adapter = make_adapter(cache_seconds=30)
    assert adapter.get_order(PHONE_ORDER).amounts.refunded == Decimal("0.00")

    refund_charger(adapter)

    assert adapter.get_order(PHONE_ORDER).amounts.refunded == Decimal("149.00")
