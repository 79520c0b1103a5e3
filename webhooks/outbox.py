"""The subscriber: domain events become outbox rows in the emitting transaction.

Every ticket and callback service emits (core.events), so this runs on routing's hot path. With
no endpoint subscribed it costs a dictionary lookup: the endpoints are cached per process for a
few seconds (an endpoint added in the admin starts receiving within that time; a save in the
same process clears the cache at once). With endpoints it writes one row per event and nothing
per endpoint (one statement on PostgreSQL, arrays unnested server-side), and after commit kicks
the one coalesced fan-out task (webhooks.fanout), which makes the deliveries on the webhooks
queue. A writer that is one statement by itself (intake) gets the insert as CTEs to fold into it
(record_inline), so its events cost it no round trip.
"""

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from core.caching import ttl_cache
from core.events import Event, StatementId, StatementPart
from core.kicks import Kick, claim, kick_all
from webhooks.models import WebhookEndpoint, WebhookEvent, event_uuids

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


FAN_OUT_TASK = "webhooks.fan_out"
FAN_OUT_KEY = "webhooks:fan-out"


def kick_fan_out() -> bool:
    """Make sure a fan-out run will look at the events (one coalesced run for every writer)."""
    return kick_all([Kick(FAN_OUT_TASK, FAN_OUT_KEY, (), DELIVERY_QUEUE)])


def claim_fan_out() -> None:
    """The pending fan-out run has started: events committed from now on kick the next one."""
    claim(FAN_OUT_KEY)


# A writer kicks the fan-out at most this often per process. Under load every transaction would
# otherwise pay a Redis round trip for a flag that is almost always set; the events of a kick left
# out are taken by the running fan-out, the next writer's kick, or at worst the sweep.
WRITER_KICK_INTERVAL = 0.2
_last_kick: dict[str, float] = {}


def kick_after_write() -> None:
    now = time.monotonic()
    if now - _last_kick.get(FAN_OUT_KEY, -1e9) >= WRITER_KICK_INTERVAL:
        _last_kick[FAN_OUT_KEY] = now
        kick_fan_out()


def record_events(events: Sequence[Event]) -> None:
    """The core.events subscriber: a row per event some endpoint wants, in the caller's
    transaction; the fan-out is kicked after its commit."""
    subs = subscriptions()
    if not subs.endpoints:
        return
    rows: list[tuple[str, int | None, Mapping[str, Any], datetime]] = []
    for event in events:
        if not subs.targets(event.type):
            continue
        if isinstance(event.ticket_id, StatementId):
            raise TypeError("An event naming a statement's id goes through core.events.statement_parts().")
        rows.append((event.type, event.ticket_id, event.data, event.occurred_at))
    if not rows:
        return
    if connection.vendor == "postgresql":
        _insert_postgresql(rows)
    else:
        _insert_orm(rows)
    transaction.on_commit(kick_after_write, robust=True)


# Constant text, the batch as one JSON parameter (one string to quote: psycopg's client-side
# quoting of an array per column cost ~3 times as much CPU for a routing batch's events). The ids
# are made here (webhooks.models.event_uuids); seq (the key, the fan-out's order) is drawn in the
# batch's order.
_INSERT_SQL = """
INSERT INTO webhooks_webhookevent (uuid, type, ticket_id, data, created_at)
SELECT (e ->> 'uuid')::uuid, e ->> 'type', (e ->> 'ticket_id')::bigint, e -> 'data', (e ->> 'created_at')::timestamptz
FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS batch(e, n)
ORDER BY batch.n
"""


def _insert_postgresql(rows: list[tuple[str, int | None, Mapping[str, Any], datetime]]) -> None:
    batch = [
        # created_at in full precision (DjangoJSONEncoder would cut it to milliseconds)
        {"uuid": u, "type": t, "ticket_id": k, "data": d, "created_at": c.isoformat()}
        for u, (t, k, d, c) in zip(event_uuids(len(rows)), rows, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, [json.dumps(batch, cls=DjangoJSONEncoder)])


def _insert_orm(rows: list[tuple[str, int | None, Mapping[str, Any], datetime]]) -> None:
    """Embedded mode (SQLite): the same rows through the ORM (seq is SQLite's own row number,
    given in the order of the list)."""
    WebhookEvent.objects.bulk_create(
        [
            # data as the JSON it is stored as (dates and decimals as strings, like PostgreSQL's)
            WebhookEvent(type=t, ticket_id=k, data=json.loads(json.dumps(d, cls=DjangoJSONEncoder)), created_at=c)
            for t, k, d, c in rows
        ]
    )


# The inline form of the insert, folded into a writer's own statement (core.events
# statement_parts). The batch travels as one JSON parameter (one string to quote, where a dozen
# arrays cost the client-side driver more than the rest of the event), the envelope ids made
# here as for _INSERT_SQL. wh_refs holds the ids that statement creates (by StatementId name); an event's
# ticket_id and the data fields named in "placed" are filled from it. seq is drawn in the batch's
# order (ORDER BY the ordinality).
_INLINE_SQL = """
wh_events AS (
    INSERT INTO webhooks_webhookevent (uuid, type, ticket_id, data, created_at)
    SELECT (e ->> 'uuid')::uuid, e ->> 'type',
        COALESCE((e ->> 'ticket_id')::bigint, (wh_refs.r ->> (e ->> 'ticket_ref'))::bigint),
        (e -> 'data') || COALESCE(
            (SELECT jsonb_object_agg(p.key, wh_refs.r -> p.value) FROM jsonb_each_text(e -> 'placed') AS p), '{}'
        ),
        (e ->> 'created_at')::timestamptz
    FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS wh_in(e, n), wh_refs
    ORDER BY wh_in.n
)"""


def record_inline(events: Sequence[Event], refs: Mapping[str, str]) -> list[StatementPart]:
    """The core.events inline recorder: the rows record_events would write, as CTEs of the
    writer's statement (PostgreSQL only; the writer asks only there). refs: StatementId name ->
    the writer's SQL for that id."""
    subs = subscriptions()
    batch: list[dict[str, Any]] = []
    for event in events:
        if not subs.targets(event.type):
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
            }
        )
    if not batch:
        return []
    for entry, event_uuid in zip(batch, event_uuids(len(batch)), strict=True):
        entry["uuid"] = event_uuid
    names = sorted(refs)
    # Names are parameters; the expressions are the writer's own constant SQL. When the statement
    # created none of those ids (it wrote nothing), wh_refs has no row and no event is recorded.
    build = ", ".join(f"%s::text, {refs[name]}" for name in names)
    created = " AND ".join(f"{refs[name]} IS NOT NULL" for name in names) or "true"
    return [
        StatementPart(
            ctes=f"wh_refs AS (SELECT jsonb_build_object({build}) AS r WHERE {created}), {_INLINE_SQL.strip()}",
            params=[*names, json.dumps(batch, cls=DjangoJSONEncoder)],
            after_commit=kick_after_write,
        )
    ]
