"""The subscriber: domain events become outbox rows in the emitting transaction.

Every ticket and callback service emits (core.events), so this runs on routing's hot path. With
no endpoint subscribed it costs a dictionary lookup: the endpoints are cached per process for a
few seconds (an endpoint added in the admin starts receiving within that time; a save in the
same process clears the cache at once). With endpoints it writes the batch's events and their
deliveries in one statement on PostgreSQL (arrays unnested server-side), and kicks each
endpoint's delivery run after commit. A writer that is one statement by itself (intake) gets the
same two inserts as CTEs to fold into it (record_inline), so its events cost it no round trip.
"""

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from core.caching import ttl_cache
from core.events import Event, StatementId, StatementPart
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


@dataclass(frozen=True)
class Subscribed:
    """The endpoints that receive events now, and per event type the ids of those that want it
    (worked out once per type and snapshot: every writer asks for every event it records)."""

    endpoints: tuple[Subscription, ...]
    _targets: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)

    def targets(self, event_type: str) -> tuple[int, ...]:
        ids = self._targets.get(event_type)
        if ids is None:
            ids = self._targets[event_type] = tuple(s.endpoint_id for s in self.endpoints if s.wants(event_type))
        return ids


@ttl_cache(seconds=ENDPOINT_CACHE_SECONDS)
def subscriptions() -> Subscribed:
    """The endpoints that receive events now (active, not auto-disabled)."""
    rows = WebhookEndpoint.objects.filter(is_active=True, disabled_at__isnull=True).values_list("id", "event_types")
    return Subscribed(tuple(Subscription(pk, frozenset(types or ()), "*" in (types or ())) for pk, types in rows))


def forget_subscriptions() -> None:
    subscriptions.cache_clear()  # type: ignore[attr-defined]


# What an endpoint's subscription depends on: a save that changes none of these (a delivery
# attempt's counters) keeps the cache.
SUBSCRIPTION_FIELDS = frozenset({"is_active", "disabled_at", "event_types"})


def endpoint_changed(update_fields: "frozenset[str] | None" = None, **_: object) -> None:
    """post_save and post_delete of WebhookEndpoint (connected in WebhooksConfig.ready(), so the
    admin, the API and the delivery worker's auto-disable all count): this process sees it at once,
    the others within ENDPOINT_CACHE_SECONDS."""
    if update_fields is not None and not SUBSCRIPTION_FIELDS & update_fields:
        return
    forget_subscriptions()
    transaction.on_commit(forget_subscriptions)  # and once more, in case a thread re-read before


def wants(event_type: str) -> bool:
    """core.events asks before a writer opens a transaction just for its event."""
    return bool(subscriptions().targets(event_type))


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
    if not subs.endpoints:
        return
    event_rows: list[tuple[uuid.UUID, str, int | None, str, datetime]] = []
    delivery_rows: list[tuple[uuid.UUID, int, int | None]] = []
    for event in events:
        targets = subs.targets(event.type)
        if not targets:
            continue
        if isinstance(event.ticket_id, StatementId):
            raise TypeError("An event naming a statement's id goes through core.events.statement_parts().")
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


# The inline form of the two inserts, folded into a writer's own statement (core.events
# statement_parts). The batch travels as one JSON parameter (one string to quote, where a dozen
# arrays cost the client-side driver more than the rest of the event), the event ids are made by
# the server (gen_random_uuid(), once per row: wh_in is read twice, so it is materialized).
# wh_refs holds the ids that statement creates (by StatementId name); an event's ticket_id and the
# data fields named in "placed" are filled from it. One event insert and one delivery insert
# whatever the batch: CTEs of one statement run in no defined order, so the deliveries' ids (the
# sending order) come from a single insert numbered in the batch's order.
_INLINE_SQL = """
wh_in AS (
    SELECT gen_random_uuid() AS id, e.value AS e, e.ordinality AS n
    FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS e
), wh_events AS (
    INSERT INTO webhooks_webhookevent (id, type, ticket_id, data, created_at)
    SELECT wh_in.id, e ->> 'type', COALESCE((e ->> 'ticket_id')::bigint, (wh_refs.r ->> (e ->> 'ticket_ref'))::bigint),
        (e -> 'data') || COALESCE(
            (SELECT jsonb_object_agg(p.key, wh_refs.r -> p.value) FROM jsonb_each_text(e -> 'placed') AS p), '{}'
        ),
        (e ->> 'created_at')::timestamptz
    FROM wh_in, wh_refs
), wh_deliveries AS (
    INSERT INTO webhooks_webhookdelivery
        (event_id, endpoint_id, ticket_id, status, attempts, next_attempt_at, give_up_at, last_error, created_at)
    SELECT wh_in.id, d.endpoint::bigint,
        COALESCE((e ->> 'ticket_id')::bigint, (wh_refs.r ->> (e ->> 'ticket_ref'))::bigint), %s, 0, %s, %s, '', %s
    FROM wh_in, wh_refs, jsonb_array_elements_text(e -> 'endpoints') WITH ORDINALITY AS d(endpoint, k)
    ORDER BY wh_in.n, d.k
)"""


def record_inline(events: Sequence[Event], refs: Mapping[str, str]) -> list[StatementPart]:
    """The core.events inline recorder: the rows record_events would write, as CTEs of the
    writer's statement (PostgreSQL only; the writer asks only there). refs: StatementId name ->
    the writer's SQL for that id."""
    subs = subscriptions()
    batch: list[dict[str, Any]] = []
    endpoints: set[int] = set()
    for event in events:
        targets = subs.targets(event.type)
        if not targets:
            continue
        fixed, placed = {}, {}
        for key, value in event.data.items():
            if isinstance(value, StatementId):
                placed[key] = value.name
            else:
                fixed[key] = value
        ticket = event.ticket_id
        batch.append(
            {
                "type": event.type,
                **({"ticket_ref": ticket.name} if isinstance(ticket, StatementId) else {"ticket_id": ticket}),
                "data": fixed,
                "placed": placed,
                "created_at": event.occurred_at.isoformat(),  # full precision (the encoder keeps ms)
                "endpoints": targets,
            }
        )
        endpoints.update(targets)
    if not batch:
        return []
    names = sorted(refs)
    # Names are parameters; the expressions are the writer's own constant SQL. When the statement
    # created none of those ids (it wrote nothing), wh_refs has no row and no event is recorded.
    build = ", ".join(f"%s::text, {refs[name]}" for name in names)
    created = " AND ".join(f"{refs[name]} IS NOT NULL" for name in names) or "true"
    now = timezone.now()
    give_up_at = now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    return [
        StatementPart(
            ctes=f"wh_refs AS (SELECT jsonb_build_object({build}) AS r WHERE {created}), {_INLINE_SQL.strip()}",
            params=[*names, json.dumps(batch, cls=DjangoJSONEncoder), DeliveryStatus.PENDING, now, give_up_at, now],
            after_commit=partial(kick_after_write, sorted(endpoints)),
        )
    ]
