"""Looking orders up through the adapter, against the reference order service on loopback."""

import time
from datetime import date
from decimal import Decimal

import pytest

from orders.contract import MalformedResponse, OrderNotFound, OrderServiceUnavailable
from orders.reference import ReferenceOrderService


def test_a_shoppers_recent_orders_come_newest_first_with_items_amounts_and_the_latest_event(adapter) -> None:
    orders = adapter.recent_orders("shopper-007")

    assert [o.number for o in orders] == ["JD20261103021", "JD20261101007"]
    phone = orders[1]
    assert [(i.title, i.quantity, i.unit_price) for i in phone.items] == [
        ("小米14 256GB", 1, Decimal("3999.00")),
        ("90W 快充充电器", 1, Decimal("149.00")),
    ]
    assert phone.amounts.total == Decimal("4148.00") and phone.currency == "CNY"
    assert phone.payment.status == "paid" and phone.shipping.status == "delivered"
    assert len(phone.tracking_events) == 1 and phone.latest_event.status == "delivered"  # a list sends the latest only
    assert orders[0].shipping.status == "not_shipped" and orders[0].latest_event is None


def test_one_order_carries_every_tracking_event_and_the_promised_delivery_date(adapter) -> None:
    roses = adapter.get_order("JD20261101004")

    assert [e.status for e in roses.tracking_events] == ["picked_up", "in_transit", "in_transit"]
    assert roses.tracking_events[0].at < roses.tracking_events[-1].at
    assert isinstance(roses.shipping.promised_delivery_date, date)
    assert roses.shipping.carrier and roses.shipping.tracking_number
    assert roses.is_late(roses.shipping.promised_delivery_date.replace(day=1)) is False
    assert roses.is_late(date.max) is True


def test_an_unknown_order_is_not_found_and_an_unknown_shopper_has_no_orders(adapter) -> None:
    with pytest.raises(OrderNotFound):
        adapter.get_order("JD-NO-SUCH-ORDER")
    assert adapter.recent_orders("shopper-nobody") == []


def test_order_numbers_and_shopper_ids_are_sent_safely_escaped(adapter, order_service) -> None:
    with pytest.raises(OrderNotFound):
        adapter.get_order("../orders?shopper=shopper-001")
    assert adapter.recent_orders("shopper-001&limit=1") == []


def test_lookups_reuse_one_kept_alive_connection(adapter, order_service: ReferenceOrderService) -> None:
    for _ in range(5):
        adapter.recent_orders("shopper-001")
        adapter.get_order("JD20261101001")

    assert order_service.requests_served == 10
    assert order_service.connections_opened == 1


def test_a_slow_order_service_is_unavailable_once_the_timeout_passes(adapter, order_service) -> None:
    order_service.delay_seconds = 3.0
    started = time.monotonic()

    with pytest.raises(OrderServiceUnavailable, match="timed out"):
        adapter.recent_orders("shopper-001")

    assert time.monotonic() - started < 2.5  # the adapter's 0.3 s, not the service's 3 s


def test_a_stopped_order_service_is_unavailable(adapter, order_service) -> None:
    adapter.get_order("JD20261101001")  # a kept-alive connection that the outage cuts
    order_service.stop()

    with pytest.raises(OrderServiceUnavailable):
        adapter.get_order("JD20261101001")


@pytest.mark.parametrize("status", [500, 502, 503, 429, 401])
def test_server_errors_overload_and_refused_credentials_are_unavailable(adapter, order_service, status) -> None:
    order_service.fail_status = status
    with pytest.raises(OrderServiceUnavailable, match=str(status)):
        adapter.get_order("JD20261101001")


def test_the_bearer_token_from_settings_is_sent(make_adapter, order_service) -> None:
    order_service.token = "s3cret"
    with pytest.raises(OrderServiceUnavailable, match="401"):
        make_adapter(token="wrong").get_order("JD20261101001")
    assert make_adapter(token="s3cret").get_order("JD20261101001").number == "JD20261101001"


def test_an_answer_that_breaks_the_contract_is_unavailable_not_a_crash(adapter, order_service) -> None:
    broken = order_service.order("JD20261101001")
    broken.update(number="JD-BROKEN", placed_at="yesterday")
    order_service.add_order(broken)

    with pytest.raises(MalformedResponse):
        adapter.get_order("JD-BROKEN")


def test_lookups_are_cached_briefly_and_shared_by_the_adapters_of_the_process(make_adapter, order_service) -> None:
    first, second = make_adapter(cache_seconds=30), make_adapter(cache_seconds=30)

    first.recent_orders("shopper-001")
    first.get_order("JD20261101001")
    second.recent_orders("shopper-001")
    second.get_order("JD20261101001")

    assert order_service.requests_served == 2
    order_service.stop()
    assert second.get_order("JD20261101001").number == "JD20261101001"  # cached: the outage is not seen yet
