"""POST /api/v1/order-events/: validated per event, idempotent per event id, one row per order
with its latest state by event time."""

from datetime import timedelta
from typing import Any

import pytest

from proactive.models import OrderEvent, OrderState, TrackedOrder
from tests.proactive.conftest import ZHAO, event, shipped_order

pytestmark = pytest.mark.django_db


def test_a_batch_creates_the_order_with_its_latest_state(send: Any, now: Any) -> None:
    events = shipped_order("JD1", shipped=now - timedelta(hours=5), promised=now + timedelta(days=1))
    events.append(event("logistics.scan", "JD1", now - timedelta(hours=1), place="上海转运中心", status="sorted"))
    response = send(events)
    assert response.status_code == 200, response.json()
    assert response.json() == {"accepted": 4, "duplicates": 0, "errors": []}
    order = TrackedOrder.objects.get(order_number="JD1")
    assert order.state == OrderState.IN_TRANSIT
    assert order.shopper_external_id == "shopper-003"
    assert order.category_slug == "fresh_food"
    assert str(order.shipping_fee) == "12.00"
    assert order.moved_at == now - timedelta(hours=1)
    assert order.last_scan_place == "上海转运中心"
    assert order.promised_at == now + timedelta(days=1)
    assert OrderEvent.objects.filter(order_number="JD1").count() == 4


def test_the_same_batch_twice_changes_nothing(send: Any, now: Any) -> None:
    events = shipped_order("JD2", shipped=now - timedelta(hours=5), promised=now + timedelta(days=1))
    assert send(events).json()["accepted"] == 3
    before = TrackedOrder.objects.values().get(order_number="JD2")
    again = send(events)
    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "duplicates": 3, "errors": []}
    assert TrackedOrder.objects.values().get(order_number="JD2") == before
    assert OrderEvent.objects.count() == 3
    assert TrackedOrder.objects.count() == 1


def test_an_event_repeated_inside_one_batch_counts_once(send: Any, now: Any) -> None:
    scan = event("logistics.scan", "JD3", now, place="Hub")
    response = send([scan, dict(scan)])
    assert response.json() == {"accepted": 1, "duplicates": 1, "errors": []}


def test_bad_events_are_reported_by_index_and_the_good_ones_kept(send: Any, now: Any) -> None:
    good = event("logistics.scan", "JD4", now - timedelta(hours=1), place="Hub")
    bad = [
        event("order.teleported", "JD4", now),  # unknown type
        event("logistics.scan", "JD4", now),  # no place
        {**event("logistics.scan", "JD4", now, place="Hub"), "occurred_at": "yesterday"},
        event("order.shipped", "JD4", now, shopper=ZHAO, carrier="SF"),  # no tracking number nor promise
        event("order.placed", "JD4", now, shopper={"name": "no id"}, category="spaceships", amount="-1"),
        event("logistics.scan", "JD4", now + timedelta(days=2), place="Hub"),  # in the future
        "not an object",
    ]
    response = send([bad[0], good, *bad[1:]])
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    errors = {e["index"]: e["errors"] for e in body["errors"]}
    assert sorted(errors) == [0, 2, 3, 4, 5, 6, 7]
    assert "type" in errors[0]
    assert "place" in errors[2]
    assert "occurred_at" in errors[3]
    assert {"tracking_number", "promised_delivery_at"} <= set(errors[4])
    assert {"shopper.external_id", "category", "amount"} <= set(errors[5])
    assert "occurred_at" in errors[6]
    assert "non_field_errors" in errors[7]
    assert OrderEvent.objects.count() == 1


def test_a_batch_of_only_bad_events_is_a_400_with_nothing_written(send: Any, now: Any) -> None:
    response = send([event("logistics.scan", "JD5", now)])
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 0
    assert not TrackedOrder.objects.exists() and not OrderEvent.objects.exists()


@pytest.mark.parametrize("payload", [{}, {"events": []}, {"events": "x"}, [1, 2]])
def test_a_body_that_is_not_a_batch_is_a_400(storefront_client: Any, payload: Any) -> None:
    response = storefront_client.post("/api/v1/order-events/", payload, format="json")
    assert response.status_code == 400
    assert "events" in response.json()


def test_more_than_a_thousand_events_are_refused(send: Any, now: Any) -> None:
    response = send([event("logistics.scan", "JD6", now, place="Hub") for _ in range(1001)])
    assert response.status_code == 400
    assert not OrderEvent.objects.exists()


def test_only_storefront_clients_may_send(client: Any, now: Any) -> None:
    response = client.post("/api/v1/order-events/", {"events": []}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_an_older_scan_arriving_late_does_not_move_the_clock_back(send: Any, now: Any) -> None:
    send(shipped_order("JD7", shipped=now - timedelta(hours=10), promised=now + timedelta(days=1)))
    send([event("logistics.scan", "JD7", now - timedelta(hours=2), place="Beijing hub")])
    send([event("logistics.scan", "JD7", now - timedelta(hours=6), place="Tianjin")])
    order = TrackedOrder.objects.get(order_number="JD7")
    assert order.moved_at == now - timedelta(hours=2)
    assert order.last_scan_place == "Beijing hub"


def test_a_scan_after_delivery_leaves_the_order_delivered(send: Any, now: Any) -> None:
    send(shipped_order("JD8", shipped=now - timedelta(hours=10), promised=now + timedelta(days=1)))
    send([event("order.delivered", "JD8", now - timedelta(hours=1))])
    send([event("logistics.scan", "JD8", now - timedelta(minutes=30), place="Station")])
    assert TrackedOrder.objects.get(order_number="JD8").state == OrderState.DELIVERED


def test_events_in_reverse_order_end_in_the_same_state(send: Any, now: Any) -> None:
    events = [
        *shipped_order("JD9", shipped=now - timedelta(hours=10), promised=now + timedelta(days=1)),
        event("logistics.scan", "JD9", now - timedelta(hours=4), place="Hub"),
        event("delivery.failed", "JD9", now - timedelta(hours=2), reason="nobody home"),
    ]
    send(list(reversed(events)))
    order = TrackedOrder.objects.get(order_number="JD9")
    assert order.state == OrderState.DELIVERY_FAILED
    assert order.failure_reason == "nobody home"
    assert order.shopper_external_id == "shopper-003"
    assert order.moved_at == now - timedelta(hours=4)


def test_a_failed_delivery_followed_by_a_new_attempt_is_in_transit_again(send: Any, now: Any) -> None:
    send(shipped_order("JD10", shipped=now - timedelta(hours=10), promised=now + timedelta(days=1)))
    send([event("delivery.failed", "JD10", now - timedelta(hours=3))])
    send([event("logistics.scan", "JD10", now - timedelta(hours=1), place="Out for delivery")])
    assert TrackedOrder.objects.get(order_number="JD10").state == OrderState.IN_TRANSIT


def test_orders_of_two_storefront_clients_are_kept_apart(send: Any, now: Any) -> None:
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from teams.services import issue_api_token
    from tests.factories import UserFactory

    other = UserFactory.create(username="other-shop")
    other.groups.add(Group.objects.get(name="storefront"))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=other, name='other')}")
    scan = event("logistics.scan", "JD11", now, place="Hub")
    assert send([scan]).json()["accepted"] == 1
    assert api.post("/api/v1/order-events/", {"events": [scan]}, format="json").json()["accepted"] == 1
    assert TrackedOrder.objects.filter(order_number="JD11").count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_at", "2026-13-45T00:00:00+08:00"),
        ("occurred_at", 12345),
        ("order_number", "JD\x0012"),
        ("order_number", ["JD1"]),
        ("place", "Hub\x00"),
        ("id", "has spaces and é"),
    ],
)
def test_odd_values_are_field_errors_never_a_500(send: Any, now: Any, field: str, value: Any) -> None:
    bad = {**event("logistics.scan", "JD12", now, place="Hub"), field: value}
    response = send([bad])
    assert response.status_code == 400
    assert field in response.json()["errors"][0]["errors"]
