"""What the storefront's order system tells us and answers, as typed values (docs/order-api.md).

Money is Decimal (sent as strings, never floats). States are kept as the strings the storefront
sends, so a state it adds later shows as itself instead of breaking the page; the known ones have
labels (orders.labels).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# --- Errors: what a caller must tell apart --------------------------------------------------------


class OrderSystemError(Exception):
    """Base of the order adapter's errors."""


class OrderServiceUnavailable(OrderSystemError):
    """Down, slow (timeout), overloaded (429/5xx), misconfigured, or the circuit is open.
    Lookups show "orders unavailable"; actions may be retried later with the same idempotency key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OrderNotFound(OrderSystemError):
    """The order system answered: no such order."""


class OrderActionRejected(OrderSystemError):
    """The order system refused an action (e.g. more than the refundable amount, an idempotency
    key reused for another request). Retrying the same request will not change the answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class MalformedResponse(OrderServiceUnavailable):
    """The answer does not follow the contract (a bug or a version mismatch on their side)."""


# --- Orders ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderItem:
    item_id: str
    sku: str
    title: str
    category: str
    quantity: int
    unit_price: Decimal
    refunded_quantity: int


@dataclass(frozen=True)
class TrackingEvent:
    at: datetime
    status: str
    location: str
    description: str


@dataclass(frozen=True)
class Payment:
    status: str  # pending | paid | partially_refunded | refunded
    method: str
    paid_at: datetime | None


@dataclass(frozen=True)
class Shipping:
    status: str  # not_shipped | in_transit | delivered | delivery_failed | returned
    carrier: str
    tracking_number: str
    shipped_at: datetime | None
    delivered_at: datetime | None
    promised_delivery_date: date | None


@dataclass(frozen=True)
class Amounts:
    items: Decimal
    shipping: Decimal
    discount: Decimal
    total: Decimal
    paid: Decimal
    refunded: Decimal

    @property
    def refundable(self) -> Decimal:
        return self.paid - self.refunded


@dataclass(frozen=True)
class Order:
    number: str
    shopper_external_id: str
    placed_at: datetime
    status: str  # placed | paid | shipped | delivered | cancelled | returned
    currency: str
    amounts: Amounts
    payment: Payment
    shipping: Shipping
    items: tuple[OrderItem, ...]
    # Oldest first. In a list of recent orders only the latest event is sent.
    tracking_events: tuple[TrackingEvent, ...]

    @property
    def latest_event(self) -> TrackingEvent | None:
        return self.tracking_events[-1] if self.tracking_events else None

    def is_late(self, today: date) -> bool:
        """Past its promised delivery date and not delivered (nor given up on)."""
        promised = self.shipping.promised_delivery_date
        return (
            promised is not None
            and today > promised
            and self.shipping.status in ("not_shipped", "in_transit")
            and self.status not in ("cancelled", "returned")
        )


# --- Actions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemLine:
    """Some quantity of one line of an order (refunds and reships name their items)."""

    item_id: str
    quantity: int

    def as_json(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "quantity": self.quantity}


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    order_number: str
    amount: Decimal
    currency: str
    status: str  # succeeded | pending (the money is on its way; a webhook or a later lookup tells)
    created_at: datetime
    items: tuple[ItemLine, ...]
    replayed: bool  # True: this key was seen before and this is the first answer again, nothing new paid


@dataclass(frozen=True)
class ReshipResult:
    reshipment_id: str
    order_number: str
    status: str
    created_at: datetime
    items: tuple[ItemLine, ...]
    replayed: bool


@dataclass(frozen=True)
class CouponResult:
    coupon_code: str
    order_number: str
    amount: Decimal
    currency: str
    expires_at: datetime | None
    created_at: datetime
    replayed: bool


# --- Parsing (one place that knows the JSON's shape) ------------------------------------------------


def _decimal(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise MalformedResponse(f"{field} is not an amount: {value!r}") from exc


def _datetime(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise MalformedResponse(f"{field} is not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise MalformedResponse(f"{field} has no time zone: {value!r}")
    return parsed


def _required_datetime(value: Any, field: str) -> datetime:
    parsed = _datetime(value, field)
    if parsed is None:
        raise MalformedResponse(f"{field} is missing")
    return parsed


def _date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise MalformedResponse(f"{field} is not a date: {value!r}") from exc


def _lines(data: Any) -> tuple[ItemLine, ...]:
    return tuple(ItemLine(item_id=str(line["item_id"]), quantity=int(line["quantity"])) for line in data or [])


def parse_order(data: Mapping[str, Any]) -> Order:
    try:
        amounts = data["amounts"]
        payment = data.get("payment") or {}
        shipping = data.get("shipping") or {}
        return Order(
            number=str(data["number"]),
            shopper_external_id=str(data.get("shopper", "")),
            placed_at=_required_datetime(data["placed_at"], "placed_at"),
            status=str(data["status"]),
            currency=str(data.get("currency", "")),
            amounts=Amounts(
                items=_decimal(amounts.get("items", "0"), "amounts.items"),
                shipping=_decimal(amounts.get("shipping", "0"), "amounts.shipping"),
                discount=_decimal(amounts.get("discount", "0"), "amounts.discount"),
                total=_decimal(amounts["total"], "amounts.total"),
                paid=_decimal(amounts.get("paid", "0"), "amounts.paid"),
                refunded=_decimal(amounts.get("refunded", "0"), "amounts.refunded"),
            ),
            payment=Payment(
                status=str(payment.get("status", "")),
                method=str(payment.get("method", "")),
                paid_at=_datetime(payment.get("paid_at"), "payment.paid_at"),
            ),
            shipping=Shipping(
                status=str(shipping.get("status", "")),
                carrier=str(shipping.get("carrier") or ""),
                tracking_number=str(shipping.get("tracking_number") or ""),
                shipped_at=_datetime(shipping.get("shipped_at"), "shipping.shipped_at"),
                delivered_at=_datetime(shipping.get("delivered_at"), "shipping.delivered_at"),
                promised_delivery_date=_date(shipping.get("promised_delivery_date"), "shipping.promised_delivery_date"),
            ),
            items=tuple(
                OrderItem(
                    item_id=str(item["id"]),
                    sku=str(item.get("sku", "")),
                    title=str(item.get("title", "")),
                    category=str(item.get("category", "")),
                    quantity=int(item["quantity"]),
                    unit_price=_decimal(item.get("unit_price", "0"), "items.unit_price"),
                    refunded_quantity=int(item.get("refunded_quantity", 0)),
                )
                for item in data.get("items", [])
            ),
            tracking_events=tuple(
                TrackingEvent(
                    at=_required_datetime(event["at"], "tracking_events.at"),
                    status=str(event.get("status", "")),
                    location=str(event.get("location", "")),
                    description=str(event.get("description", "")),
                )
                for event in data.get("tracking_events", [])
            ),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedResponse(f"order does not follow the contract: {exc!r}") from exc


def parse_refund(data: Mapping[str, Any], *, replayed: bool) -> RefundResult:
    try:
        return RefundResult(
            refund_id=str(data["refund_id"]),
            order_number=str(data["order_number"]),
            amount=_decimal(data["amount"], "amount"),
            currency=str(data.get("currency", "")),
            status=str(data["status"]),
            created_at=_required_datetime(data["created_at"], "created_at"),
            items=_lines(data.get("items")),
            replayed=replayed,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedResponse(f"refund does not follow the contract: {exc!r}") from exc


def parse_reship(data: Mapping[str, Any], *, replayed: bool) -> ReshipResult:
    try:
        return ReshipResult(
            reshipment_id=str(data["reshipment_id"]),
            order_number=str(data["order_number"]),
            status=str(data["status"]),
            created_at=_required_datetime(data["created_at"], "created_at"),
            items=_lines(data.get("items")),
            replayed=replayed,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedResponse(f"reshipment does not follow the contract: {exc!r}") from exc


def parse_coupon(data: Mapping[str, Any], *, replayed: bool) -> CouponResult:
    try:
        return CouponResult(
            coupon_code=str(data["coupon_code"]),
            order_number=str(data["order_number"]),
            amount=_decimal(data["amount"], "amount"),
            currency=str(data.get("currency", "")),
            expires_at=_datetime(data.get("expires_at"), "expires_at"),
            created_at=_required_datetime(data["created_at"], "created_at"),
            replayed=replayed,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedResponse(f"coupon does not follow the contract: {exc!r}") from exc
