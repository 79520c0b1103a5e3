"""The subscriber: domain events become outbox rows in the emitting transaction.

Every ticket and callback service emits (core.events), so this runs on routing's hot path. With
no endpoint subscribed it costs a dictionary lookup: the endpoints are cached per process for a
few seconds (an endpoint added in the admin starts receiving within that time; a save in the
same process clears the cache at once). With endpoints it writes the batch's events and their
deliveries in one statement on PostgreSQL (arrays unnested server-side), and kicks each
endpoint's delivery run after commit.
"""

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from core.caching import ttl_cache
from core.events import Event
from core.kicks import Kick, kick_all
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

ENDPOINT_CACHE_SECONDS = 5
DELIVER_TASK = "webhooks.deliver"
DELIVERY_QUEUE = "webhooks"


@dataclass(frozen=True)
class Subscription:
    endpoint_id: int
    event_types: frozenset[str]  # empty with every_type

    every_type: bool

    def wants(self, event_type: str) -> bool:
        return self.every_type or event_type in self.event_types


@ttl_cache(seconds=ENDPOINT_CACHE_SECONDS)
def subscriptions() -> tuple[Subscription, ...]:
    """The endpoints that receive events now (active, not auto-disabled)."""
    rows = WebhookEndpoint.objects.filter(is_active=True, disabled_at__isnull=True).values_list("id", "event_types")
    return tuple(Subscription(pk, frozenset(types or ()), "*" in (types or ())) for pk, types in rows)


def forget_subscriptions() -> None:
    subscriptions.cache_clear()  # type: ignore[attr-defined]


def wants(event_type: str) -> bool:
    """core.events asks before a writer opens a transaction just for its event."""
    return any(s.wants(event_type) for s in subscriptions())


def kick_key(endpoint_id: int) -> str:
    return f"webhooks:{endpoint_id}"


def enqueue_deliveries(endpoint_ids: Sequence[int]) -> bool:
    """Make sure a delivery run will look at each endpoint (coalesced kicks on queue "webhooks");
    a lost publish is repaired by the webhooks.sweep beat task."""
    return kick_all([Kick(DELIVER_TASK, kick_key(pk), (pk,), DELIVERY_QUEUE) for pk in sorted(set(endpoint_ids))])


# A writer kicks an endpoint at most this often per process. Under load every transaction would
# otherwise pay a Redis round trip for flags that are almost always set; the rows of a kick left
# out are taken by the running delivery run, the next writer's kick, or at worst the sweep.
WRITER_KICK_INTERVAL = 0.2
_last_kick: dict[int, float] = {}


def kick_after_write(endpoint_ids: Sequence[int]) -> None:
    now = time.monotonic()
    due = [pk for pk in endpoint_ids if now - _last_kick.get(pk, -1e9) >= WRITER_KICK_INTERVAL]
    if due:
        for pk in due:
            _last_kick[pk] = now
        enqueue_deliveries(due)


def record_events(events: Sequence[Event]) -> None:
    """The core.events subscriber: an event row per event some endpoint wants, and a delivery row
    per such endpoint, in the caller's transaction; delivery runs are kicked after its commit."""
    subs = subscriptions()
    if not subs:
        return
    event_rows: list[tuple[uuid.UUID, str, int | None, str, datetime]] = []
    delivery_rows: list[tuple[uuid.UUID, int, int | None]] = []
    for event in events:
        targets = [s.endpoint_id for s in subs if s.wants(event.type)]
        if not targets:
            continue
        event_id = uuid.uuid4()
        event_rows.append(
            (event_id, event.type, event.ticket_id, json.dumps(event.data, cls=DjangoJSONEncoder), event.occurred_at)
        )
        delivery_rows.extend((event_id, endpoint_id, event.ticket_id) for endpoint_id in targets)
    if not event_rows:
        return
    now = timezone.now()
    give_up_at = now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    if connection.vendor == "postgresql":
        _insert_postgresql(event_rows, delivery_rows, now=now, give_up_at=give_up_at)
    else:
        _insert_orm(event_rows, delivery_rows, now=now, give_up_at=give_up_at)
    transaction.on_commit(partial(kick_after_write, sorted({row[1] for row in delivery_rows})), robust=True)


# Constant text, array parameters (the house rule for hand-written SQL). Deliveries are numbered
# in the batch's order (WITH ORDINALITY … ORDER BY): their ids are the per-ticket sending order.
_INSERT_SQL = """
WITH e AS (
    INSERT INTO webhooks_webhookevent (id, type, ticket_id, data, created_at)
    SELECT * FROM unnest(%s::uuid[], %s::varchar[], %s::bigint[], %s::jsonb[], %s::timestamptz[])
)
INSERT INTO webhooks_webhookdelivery
    (event_id, endpoint_id, ticket_id, status, attempts, next_attempt_at, give_up_at, last_error, created_at)
SELECT d.event_id, d.endpoint_id, d.ticket_id, %s, 0, %s, %s, '', %s
FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[]) WITH ORDINALITY AS d(event_id, endpoint_id, ticket_id, n)
ORDER BY d.n
"""


def _insert_postgresql(
    event_rows: list[tuple[uuid.UUID, str, int | None, str, datetime]],
    delivery_rows: list[tuple[uuid.UUID, int, int | None]],
    *,
    now: datetime,
    give_up_at: datetime,
) -> None:
    ids, types, tickets, data, created = (list(column) for column in zip(*event_rows, strict=True))
    d_events, d_endpoints, d_tickets = (list(column) for column in zip(*delivery_rows, strict=True))
    params: list[Any] = [ids, types, tickets, data, created, DeliveryStatus.PENDING, now, give_up_at, now]
    params += [d_events, d_endpoints, d_tickets]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, params)


def _insert_orm(
    event_rows: list[tuple[uuid.UUID, str, int | None, str, datetime]],
    delivery_rows: list[tuple[uuid.UUID, int, int | None]],
    *,
    now: datetime,
    give_up_at: datetime,
) -> None:
    """Embedded mode (SQLite): the same rows through the ORM."""
    WebhookEvent.objects.bulk_create(
        [WebhookEvent(id=i, type=t, ticket_id=k, data=json.loads(d), created_at=c) for i, t, k, d, c in event_rows]
    )
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                event_id=event_id,
                endpoint_id=endpoint_id,
                ticket_id=ticket_id,
                next_attempt_at=now,
                give_up_at=give_up_at,
                created_at=now,
            )
            for event_id, endpoint_id, ticket_id in delivery_rows
        ]
    )
