"""Order and delivery events in: validated one by one, replays dropped by event id, and each order's
row brought up to date (an upsert), a batch of up to 1,000 events at a time.

Events may arrive out of order (two carriers' systems, retries): every field of the order row keeps
what the latest event *by event time* says, and a delivered or returned order is not put back in
transit by a scan that is older or merely late (merge rules in `_apply`).

On PostgreSQL a batch is four statements whatever its size (events inserted with ON CONFLICT DO
NOTHING, the orders locked in key order, new orders inserted, changed ones updated, each from
unnest() arrays); elsewhere (SQLite, the embedded mode) the ORM does the same in a transaction.
Validation is plain Python, not a serializer per event: this endpoint's budget is a few tens of
microseconds per event.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.contrib.auth.models import User
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from proactive.models import EventType, OrderEvent, OrderState, TrackedOrder
from teams.models import Language

MAX_BATCH = 1000
# An event dated further ahead than this is refused (a clock or a unit error).
MAX_FUTURE = timedelta(hours=1)
_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
_SLUG = re.compile(r"^[a-z0-9_\-]{1,40}$")
TYPES = frozenset(EventType.values)


@dataclass
class ParsedEvent:
    index: int
    event_id: str
    type: str
    order_number: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestResult:
    accepted: int  # new events stored and applied
    duplicates: int  # replays (already stored, or repeated in the batch): ignored
    errors: list[dict[str, Any]]  # {"index": i, "errors": {field: [messages]}}


# --- Validation ----------------------------------------------------------------------------------------


def _text(raw: Mapping[str, Any], key: str, max_length: int, errors: dict[str, list[str]], *, required: bool) -> str:
    value = raw.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[key] = ["Expected text."]
        return ""
    value = value.strip()
    if "\x00" in value:
        errors[key] = ["Contains a NUL character."]
        return ""
    if required and not value:
        errors[key] = ["This field is required."]
    elif len(value) > max_length:
        errors[key] = [f"Ensure this field has no more than {max_length} characters."]
    return value


def _when(
    raw: Mapping[str, Any], key: str, errors: dict[str, list[str]], *, required: bool, now: datetime
) -> datetime | None:
    value = raw.get(key)
    if value in (None, ""):
        if required:
            errors[key] = ["This field is required."]
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but not a date (a 13th month)
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        errors[key] = ["Expected an ISO 8601 date and time with a time zone, e.g. 2026-12-06T10:00:00+08:00."]
        return None
    if not (datetime(2000, 1, 1, tzinfo=parsed.tzinfo) <= parsed <= now + timedelta(days=365)):
        errors[key] = ["Out of range."]
        return None
    return parsed


def _money(raw: Mapping[str, Any], key: str, errors: dict[str, list[str]]) -> Decimal | None:
    value = raw.get(key)
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value)) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount < 0
        or amount >= Decimal("1e10")
        or amount != amount.quantize(Decimal("0.01"))
    ):
        errors[key] = ['Enter an amount of at least 0 with at most two decimals, e.g. "12.00".']
        return None
    return amount


def _shopper(raw: Any, errors: dict[str, list[str]], *, required: bool) -> dict[str, str] | None:
    if raw in (None, {}):
        if required:
            errors["shopper"] = ["This field is required."]
        return None
    if not isinstance(raw, dict):
        errors["shopper"] = ["Expected an object."]
        return None
    own: dict[str, list[str]] = {}
    shopper = {
        "external_id": _text(raw, "external_id", 64, own, required=True),
        "name": _text(raw, "name", 120, own, required=False),
        "phone": re.sub(r"[\s\-().]", "", _text(raw, "phone", 32, own, required=False)),
        "email": _text(raw, "email", 254, own, required=False),
        "language": _text(raw, "language", 5, own, required=False),
    }
    if shopper["phone"] and not _PHONE.match(shopper["phone"]):
        own["phone"] = ["Enter a phone number of 6 to 15 digits, optionally starting with +."]
    if shopper["email"]:
        try:
            validate_email(shopper["email"])
        except Exception:
            own["email"] = ["Enter a valid email address."]
    if shopper["language"] and shopper["language"] not in Language.values:
        own["language"] = [f"Choose one of: {', '.join(Language.values)}."]
    for key, messages in own.items():
        errors[f"shopper.{key}"] = messages
    return shopper


def parse_event(
    index: int, raw: Any, *, now: datetime, categories: frozenset[str]
) -> ParsedEvent | dict[str, list[str]]:
    """One event checked: the parsed event, or its field errors (the batch goes on without it)."""
    if not isinstance(raw, dict):
        return {"non_field_errors": ["Expected an object."]}
    errors: dict[str, list[str]] = {}
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not _ID.match(event_id):
        errors["id"] = ["Required: 1 to 64 letters, digits, or . _ : -"]
    type_ = raw.get("type")
    if type_ not in TYPES:
        errors["type"] = [f"Choose one of: {', '.join(sorted(TYPES))}."]
    order_number = _text(raw, "order_number", 64, errors, required=True)
    occurred_at = _when(raw, "occurred_at", errors, required=True, now=now)
    if occurred_at is not None and occurred_at > now + MAX_FUTURE:
        errors["occurred_at"] = ["This is in the future."]
    data: dict[str, Any] = {}
    shopper = _shopper(raw.get("shopper"), errors, required=type_ in (EventType.PLACED, EventType.SHIPPED))
    if shopper:
        data["shopper"] = shopper
    if type_ == EventType.PLACED:
        category = _text(raw, "category", 40, errors, required=False)
        if category and (not _SLUG.match(category) or category not in categories):
            errors["category"] = [f"Unknown product category {category!r}."]
        data["category"] = category
        data["product_title"] = _text(raw, "product_title", 200, errors, required=False)
        currency = _text(raw, "currency", 3, errors, required=False)
        if currency and not _CURRENCY.match(currency):
            errors["currency"] = ["Three capital letters, e.g. CNY."]
        data["currency"] = currency
        for key in ("amount", "shipping_fee"):
            amount = _money(raw, key, errors)
            data[key] = str(amount) if amount is not None else None
    if type_ in (EventType.PLACED, EventType.SHIPPED):
        promised = _when(raw, "promised_delivery_at", errors, required=type_ == EventType.SHIPPED, now=now)
        data["promised_delivery_at"] = promised.isoformat() if promised else None
    if type_ == EventType.SHIPPED:
        data["carrier"] = _text(raw, "carrier", 60, errors, required=True)
        data["tracking_number"] = _text(raw, "tracking_number", 64, errors, required=True)
    if type_ == EventType.SCAN:
        data["place"] = _text(raw, "place", 120, errors, required=True)
        data["status"] = _text(raw, "status", 60, errors, required=False)
    if type_ in (EventType.DELIVERY_FAILED, EventType.RETURNED):
        data["reason"] = _text(raw, "reason", 200, errors, required=False)
    if type_ == EventType.COLD_CHAIN_ALERT:
        data["detail"] = _text(raw, "detail", 200, errors, required=False)
        temperature = raw.get("temperature_c")
        if temperature is not None:
            if (
                isinstance(temperature, bool)
                or not isinstance(temperature, (int, float))
                or not -80 <= temperature <= 80
            ):
                errors["temperature_c"] = ["A number of degrees Celsius between -80 and 80."]
            else:
                data["temperature_c"] = temperature
    if errors or occurred_at is None or not isinstance(event_id, str) or not isinstance(type_, str):
        return errors
    return ParsedEvent(index, event_id, type_, order_number, occurred_at, data)


# --- Merging events into an order row ------------------------------------------------------------------------

_RANK: dict[str, int] = {
    OrderState.PLACED: 0,
    OrderState.PAID: 1,
    OrderState.IN_TRANSIT: 2,
    OrderState.DELIVERY_FAILED: 3,
    OrderState.DELIVERED: 4,
    OrderState.RETURNED: 5,
}
_MOVING = (OrderState.PLACED, OrderState.PAID, OrderState.IN_TRANSIT)
_STATE_OF: dict[str, str] = {
    EventType.PLACED: OrderState.PLACED,
    EventType.PAID: OrderState.PAID,
    EventType.SHIPPED: OrderState.IN_TRANSIT,
    EventType.SCAN: OrderState.IN_TRANSIT,
    EventType.DELIVERED: OrderState.DELIVERED,
    EventType.DELIVERY_FAILED: OrderState.DELIVERY_FAILED,
    EventType.RETURNED: OrderState.RETURNED,
}


def _set_state(order: TrackedOrder, new: str, at: datetime) -> None:
    """The later event sets the state, with two exceptions: nothing but a return moves a delivered
    or returned order (a late scan does not), and an outcome (delivered, failed, returned) wins
    over a progress state even when its clock is a little behind a scan's."""
    current = order.state
    if current in (OrderState.DELIVERED, OrderState.RETURNED) and new in _MOVING:
        return
    if new in (OrderState.PLACED, OrderState.PAID) and _RANK[current] > _RANK[new]:
        return
    outcome_over_progress = new not in _MOVING and current in _MOVING
    if outcome_over_progress or at > order.state_at or (at == order.state_at and _RANK[new] >= _RANK[current]):
        order.state, order.state_at = new, at


def _later(current: datetime | None, at: datetime) -> bool:
    return current is None or at >= current


def _apply(order: TrackedOrder, event: ParsedEvent) -> None:
    at, data = event.occurred_at, event.data
    shopper = data.get("shopper")
    if shopper:
        # Fresh details win; blanks never erase what we know.
        order.shopper_external_id = shopper["external_id"] or order.shopper_external_id
        order.shopper_name = shopper["name"] or order.shopper_name
        order.shopper_phone = shopper["phone"][:20] or order.shopper_phone
        order.shopper_email = shopper["email"] or order.shopper_email
        order.shopper_language = shopper["language"] or order.shopper_language
    type_ = event.type
    if type_ == EventType.PLACED:
        order.placed_at = at
        order.category_slug = data["category"] or order.category_slug
        order.product_title = data["product_title"] or order.product_title
        order.currency = data["currency"] or order.currency
        if data["amount"] is not None:
            order.amount = Decimal(data["amount"])
        if data["shipping_fee"] is not None:
            order.shipping_fee = Decimal(data["shipping_fee"])
        if data["promised_delivery_at"] and order.shipped_at is None:
            order.promised_at = parse_datetime(data["promised_delivery_at"])
    elif type_ == EventType.PAID:
        order.paid_at = at
    elif type_ == EventType.SHIPPED:
        order.shipped_at = at
        order.carrier, order.tracking_number = data["carrier"], data["tracking_number"]
        # The carrier's promise replaces the shop's estimate at checkout.
        order.promised_at = parse_datetime(data["promised_delivery_at"])
        if _later(order.moved_at, at):
            order.moved_at = at
    elif type_ == EventType.SCAN:
        if _later(order.moved_at, at):
            order.moved_at = at
            order.last_scan_place, order.last_scan_status = data["place"], data["status"]
    elif type_ == EventType.DELIVERED:
        order.delivered_at = at
    elif type_ == EventType.DELIVERY_FAILED:
        order.failed_at, order.failure_reason = at, data["reason"]
    elif type_ == EventType.RETURNED:
        order.returned_at = at
        order.failure_reason = data["reason"] or order.failure_reason
    elif type_ == EventType.COLD_CHAIN_ALERT and (order.cold_chain_alert_at is None or at < order.cold_chain_alert_at):
        # The first alert is the one that matters (the goods were at risk from then on).
        order.cold_chain_alert_at, order.cold_chain_detail = at, _cold_detail(data)
    if type_ in _STATE_OF:
        _set_state(order, _STATE_OF[type_], at)
    if at > order.last_event_at:
        order.last_event_at = at


def _cold_detail(data: Mapping[str, Any]) -> str:
    temperature = data.get("temperature_c")
    detail = str(data.get("detail") or "")
    return (f"{temperature} °C. {detail}" if temperature is not None else detail).strip()[:200]


def _new_order(client_id: int, number: str, first: ParsedEvent) -> TrackedOrder:
    return TrackedOrder(
        client_id=client_id,
        order_number=number,
        state=OrderState.PLACED,
        state_at=first.occurred_at,
        last_event_at=first.occurred_at,
    )


# --- The batch write ------------------------------------------------------------------------------------------


def ingest_events(*, client: User, raw_events: Sequence[Any], categories: frozenset[str]) -> IngestResult:
    """Validate and store a batch (the caller checked it is a list of at most MAX_BATCH). Atomic for
    the good events; bad ones are reported by index and skipped. Idempotent per event id."""
    now = timezone.now()
    errors: list[dict[str, Any]] = []
    good: list[ParsedEvent] = []
    seen: set[str] = set()
    duplicates = 0
    for index, raw in enumerate(raw_events):
        parsed = parse_event(index, raw, now=now, categories=categories)
        if isinstance(parsed, dict):
            errors.append({"index": index, "errors": parsed})
        elif parsed.event_id in seen:
            duplicates += 1  # the same event twice in one batch: the first one counts
        else:
            seen.add(parsed.event_id)
            good.append(parsed)
    if not good:
        return IngestResult(accepted=0, duplicates=duplicates, errors=errors)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            fresh = _store_events_sql(client.pk, good, now)
        else:
            fresh = _store_events_orm(client.pk, good, now)
        duplicates += len(good) - len(fresh)
        if fresh:
            _upsert_orders(client.pk, fresh, now)
    return IngestResult(accepted=len(fresh), duplicates=duplicates, errors=errors)


_INSERT_EVENTS = """
INSERT INTO proactive_orderevent (client_id, event_id, order_number, type, occurred_at, received_at, data)
SELECT %(client)s, e.event_id, e.order_number, e.type, e.occurred_at, %(now)s, e.data::jsonb
FROM unnest(%(event_id)s::varchar[], %(order_number)s::varchar[], %(type)s::varchar[],
            %(occurred_at)s::timestamptz[], %(data)s::text[]) AS e (event_id, order_number, type, occurred_at, data)
ON CONFLICT (client_id, event_id) DO NOTHING
RETURNING event_id
"""


def _store_events_sql(client_id: int, events: list[ParsedEvent], now: datetime) -> list[ParsedEvent]:
    import json

    rows = _execute_binary(
        _INSERT_EVENTS,
        {
            "client": client_id,
            "now": now,
            "event_id": [e.event_id for e in events],
            "order_number": [e.order_number for e in events],
            "type": [e.type for e in events],
            "occurred_at": [e.occurred_at for e in events],
            "data": [json.dumps(e.data, ensure_ascii=False) for e in events],
        },
    )
    stored = {row[0] for row in rows}
    return [e for e in events if e.event_id in stored]


def _store_events_orm(client_id: int, events: list[ParsedEvent], now: datetime) -> list[ParsedEvent]:
    known = set(
        OrderEvent.objects.filter(client_id=client_id, event_id__in=[e.event_id for e in events]).values_list(
            "event_id", flat=True
        )
    )
    fresh = [e for e in events if e.event_id not in known]
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                client_id=client_id,
                event_id=e.event_id,
                order_number=e.order_number,
                type=e.type,
                occurred_at=e.occurred_at,
                received_at=now,
                data=e.data,
            )
            for e in fresh
        ]
    )
    return fresh


def _upsert_orders(client_id: int, events: list[ParsedEvent], now: datetime) -> None:
    """Bring each order named by these new events up to date. The rows are locked in key order
    (two batches naming the same orders wait for each other instead of deadlocking); an order a
    racing batch inserted first is read back locked and merged like any other."""
    by_order: dict[str, list[ParsedEvent]] = {}
    for event in sorted(events, key=lambda e: (e.occurred_at, e.index)):
        by_order.setdefault(event.order_number, []).append(event)
    numbers = sorted(by_order)
    existing = _lock_orders(client_id, numbers)
    created = [_new_order(client_id, n, by_order[n][0]) for n in numbers if n not in existing]
    for order in created:
        for event in by_order[order.order_number]:
            _apply(order, event)
        order.updated_at = now
    lost = _insert_orders(created)
    if lost:  # a racing batch created these between our read and our insert
        existing.update(_lock_orders(client_id, sorted(lost)))
    changed = [
        o for n, o in existing.items() if n in by_order and (n not in {c.order_number for c in created} or n in lost)
    ]
    for order in changed:
        for event in by_order[order.order_number]:
            _apply(order, event)
        order.updated_at = now
    _update_orders(changed)


def _lock_orders(client_id: int, numbers: list[str]) -> dict[str, TrackedOrder]:
    rows = (
        TrackedOrder.objects.select_for_update()
        .filter(client_id=client_id, order_number__in=numbers)
        .order_by("order_number")
    )
    return {row.order_number: row for row in rows}


# Every column but the key, in model order; the statements below are built once per process.
@cache
def _columns() -> "tuple[Field[Any, Any], ...]":
    return tuple(f for f in TrackedOrder._meta.concrete_fields if not f.primary_key)


@cache
def _statements() -> tuple[str, str]:
    qn = connection.ops.quote_name
    columns = _columns()
    names = ", ".join(qn(str(f.column)) for f in columns)
    arrays = ", ".join(f"%s::{_prep(f)}[]" for f in columns)
    insert = (
        f"INSERT INTO proactive_trackedorder ({names}) SELECT * FROM unnest({arrays}) "  # noqa: S608  # model columns
        "ON CONFLICT (client_id, order_number) DO NOTHING RETURNING order_number"
    )
    updated = [f for f in columns if f.name not in ("client", "order_number")]
    sets = ", ".join(f"{qn(str(f.column))} = u.{qn(str(f.column))}" for f in updated)
    update = (
        f"UPDATE proactive_trackedorder AS o SET {sets} FROM unnest(%s::bigint[], "  # noqa: S608  # model columns
        + ", ".join(f"%s::{_prep(f)}[]" for f in updated)
        + f") AS u (id, {', '.join(qn(str(f.column)) for f in updated)}) WHERE o.id = u.id"
    )
    return insert, update


def _prep(field: "Field[Any, Any]") -> str:
    return str(field.cast_db_type(connection))


def _column_values(
    rows: list[TrackedOrder], columns: "tuple[Field[Any, Any], ...] | list[Field[Any, Any]]"
) -> list[list[Any]]:
    # The row's own values: every column of this model is text, a number, a boolean or an aware
    # datetime, which psycopg adapts as they are (no per-value get_db_prep_save).
    return [[getattr(row, f.attname) for row in rows] for f in columns]


def _execute_binary(sql: str, params: Any) -> list[tuple[Any, ...]]:
    """Run one of the array statements with server-side binding and binary parameters: Django's
    client-side cursor quotes every array element into the query text, which costs more CPU than
    the rest of a batch together. Same connection and transaction as Django's."""
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall() if cursor.description else []


def _insert_orders(orders: list[TrackedOrder]) -> set[str]:
    """Insert new order rows; returns the numbers another batch inserted first (not ours)."""
    if not orders:
        return set()
    if connection.vendor != "postgresql":
        TrackedOrder.objects.bulk_create(orders)
        return set()
    insert, _update = _statements()
    inserted = {row[0] for row in _execute_binary(insert, _column_values(orders, _columns()))}
    return {o.order_number for o in orders} - inserted


def _update_orders(orders: list[TrackedOrder]) -> None:
    if not orders:
        return
    updated = [f for f in _columns() if f.name not in ("client", "order_number")]
    if connection.vendor != "postgresql":
        TrackedOrder.objects.bulk_update(orders, [f.name for f in updated], batch_size=200)
        return
    _insert, update = _statements()
    _execute_binary(update, [[o.pk for o in orders], *_column_values(orders, updated)])
