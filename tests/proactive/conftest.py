"""Proactive personas and rigs: the storefront sending order events, and Zhao's cherries (fresh
food, shopper-003) and Wang's ring (jewelry) as orders on their way."""

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from django.utils import timezone

_ids = count(1)


def event(type_: str, order: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """One order event as the storefront sends it (a fresh id unless one is given)."""
    return {
        "id": fields.pop("id", f"evt-{next(_ids):08d}"),
        "type": type_,
        "order_number": order,
        "occurred_at": at.isoformat(),
        **fields,
    }


ZHAO = {"external_id": "shopper-003", "name": "赵先生", "phone": "+8613800138003", "language": "zh"}
WANG = {"external_id": "shopper-001", "name": "Wang Fang", "email": "wang@example.com", "language": "en"}


def shipped_order(
    order: str,
    *,
    shipped: datetime,
    promised: datetime,
    shopper: dict[str, Any] = ZHAO,
    category: str = "fresh_food",
    shipping_fee: str = "12.00",
) -> list[dict[str, Any]]:
    """Placed, paid and shipped (the promise given at shipment)."""
    placed = shipped - timedelta(hours=3)
    return [
        event(
            "order.placed",
            order,
            placed,
            shopper=shopper,
            category=category,
            product_title="智利车厘子 2kg" if category == "fresh_food" else "18K gold ring",
            amount="268.00",
            currency="CNY",
            shipping_fee=shipping_fee,
        ),
        event("order.paid", order, placed + timedelta(minutes=2)),
        event(
            "order.shipped",
            order,
            shipped,
            shopper=shopper,
            carrier="SF Express",
            tracking_number=f"SF{order}",
            promised_delivery_at=promised.isoformat(),
        ),
    ]


@pytest.fixture
def send(storefront_client: Any) -> Callable[..., Any]:
    """POST a batch of events as the storefront; returns the response."""

    def post(events: list[dict[str, Any]]) -> Any:
        return storefront_client.post("/api/v1/order-events/", {"events": events}, format="json")

    return post


@pytest.fixture
def now() -> datetime:
    return timezone.now().replace(microsecond=0)
