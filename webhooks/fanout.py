"""The fan-out: events written by the hot path become one delivery row per subscribed endpoint.

Writers record one WebhookEvent per event and kick the coalesced webhooks.fan_out task (queue
"webhooks"), so routing pays for no per-endpoint row. This step, off the hot path, reads the
events not fanned out yet and inserts their deliveries in bulk (one INSERT … SELECT per batch on
PostgreSQL), marks them fanned out and kicks the endpoints' delivery runs.

Why a `fanned_out_at IS NULL` partial index and not a cursor on seq: transactions commit out of
order, so an event numbered 5 may become visible after 6 was fanned out; a "seq > last" cursor
would skip it for good. Whatever is still unmarked is found, however late it committed.

Order: deliveries are sent in id order per (endpoint, ticket), so they are inserted in event
order (seq), and one fan-out runs at a time (a transaction-level advisory lock): two runs taking
different batches could otherwise number a ticket's later event first. Writers of one ticket's
events hold that ticket's row lock, so those events commit in the order they were numbered.

Subscriptions: those at fan-out time (milliseconds after the event; the sweep at worst seconds),
limited to endpoints that existed when the event happened, so a new endpoint gets no old events.
A disabled or inactive endpoint gets no rows, as it would have got none from the writer.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.outbox import claim_fan_out, enqueue_deliveries, kick_fan_out

# Events fanned out per transaction (each becomes one row per subscribed endpoint).
BATCH_SIZE = 500
# Batches per run before a fresh task takes over (kicked): under a backlog the webhook workers'
# delivery runs get their turn between fan-out runs.
BATCHES_PER_RUN = 4
# A run that finds another one fanning out looks again this much later (see fan_out()).
BUSY_RETRY_SECONDS = 0.25
# The sweep fans out events left this long (their kick was lost, or their writer's was throttled).
SWEEP_AFTER_SECONDS = 2.0
# Any constant shared by every process: the key of the one-fan-out-at-a-time lock.
_LOCK_KEY = 0x7765_6268_6F6F_6B73  # "webhooks"


class Batch(NamedTuple):
    events: int  # fanned out
    deliveries: int  # rows made
    endpoints: set[int]  # that got rows


@dataclass
class FanOutSummary:
    events: int = 0
    deliveries: int = 0
    endpoints: set[int] = field(default_factory=set)


def _lock(*, wait: bool) -> bool:
    """Take the fan-out lock for this transaction (PostgreSQL; SQLite serializes writers anyway).
    Without wait, False when another run holds it (that run kicks the endpoints it serves)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
        row = cursor.fetchone()
        return bool(row and row[0])


def fan_out_batch(*, wait: bool = True, batch_size: int = BATCH_SIZE) -> Batch | None:
    """One transaction: the oldest events not fanned out yet (up to batch_size) become deliveries.
    Returns what it did, or None when wait is false and another run is fanning out. Idempotent: a marked event is not read again, and the unique (endpoint, event)
    constraint makes a repeated row a no-op."""
    with transaction.atomic():
        if not _lock(wait=wait):
            return None
        now = timezone.now()
        give_up_at = now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
        if connection.vendor == "postgresql":
            return _fan_out_postgresql(batch_size, now=now, give_up_at=give_up_at)
        return _fan_out_orm(batch_size, now=now, give_up_at=give_up_at)


# Constant text, named parameters. The batch is locked (SKIP LOCKED: a prune or another statement
# holding a row leaves it to the next run) and numbered by seq; deliveries get their ids in that
# order (ORDER BY), endpoint by endpoint within an event.
_FAN_OUT_SQL = """
WITH batch AS (
    SELECT seq, type, ticket_id, created_at FROM webhooks_webhookevent
    WHERE fanned_out_at IS NULL
    ORDER BY seq
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE webhooks_webhookevent AS e SET fanned_out_at = %(now)s FROM batch WHERE e.seq = batch.seq
    RETURNING e.seq
), made AS (
    INSERT INTO webhooks_webhookdelivery
        (event_id, endpoint_id, ticket_id, status, attempts, next_attempt_at, give_up_at, last_error, created_at)
    SELECT batch.seq, ep.id, batch.ticket_id, %(pending)s, 0, %(now)s, %(give_up_at)s, '', %(now)s
    FROM batch
    JOIN webhooks_webhookendpoint AS ep
        ON ep.is_active AND ep.disabled_at IS NULL AND ep.created_at <= batch.created_at
        AND (ep.event_types ? '*' OR ep.event_types ? batch.type)
    ORDER BY batch.seq, ep.id
    ON CONFLICT ON CONSTRAINT one_delivery_per_endpoint_and_event DO NOTHING
    RETURNING endpoint_id
)
SELECT (SELECT count(*) FROM marked), (SELECT count(*) FROM made), ARRAY(SELECT DISTINCT endpoint_id FROM made)
"""


def _fan_out_postgresql(batch_size: int, *, now: datetime, give_up_at: datetime) -> Batch:
    with connection.cursor() as cursor:
        cursor.execute(
            _FAN_OUT_SQL,
            {"limit": batch_size, "now": now, "give_up_at": give_up_at, "pending": DeliveryStatus.PENDING},
        )
        events, deliveries, endpoints = cursor.fetchone() or (0, 0, [])  # one row: the statement's counts
    return Batch(int(events), int(deliveries), set(endpoints))


def _fan_out_orm(batch_size: int, *, now: datetime, give_up_at: datetime) -> Batch:
    """Embedded mode (SQLite): the same rows through the ORM."""
    events = list(
        WebhookEvent.objects.filter(fanned_out_at__isnull=True)
        .order_by("seq")
        .only("seq", "type", "ticket_id", "created_at")[:batch_size]
    )
    if not events:
        return Batch(0, 0, set())
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True, disabled_at__isnull=True).order_by("id"))
    made = set(
        WebhookDelivery.objects.filter(event_id__in=[event.pk for event in events]).values_list(
            "endpoint_id", "event_id"
        )
    )
    rows = [
        WebhookDelivery(
            event_id=event.pk,
            endpoint_id=endpoint.pk,
            ticket_id=event.ticket_id,
            next_attempt_at=now,
            give_up_at=give_up_at,
            created_at=now,
        )
        for event in events
        for endpoint in endpoints
        if endpoint.created_at <= event.created_at
        and endpoint.wants(event.type)
        and (endpoint.pk, event.pk) not in made
    ]
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    WebhookEvent.objects.filter(pk__in=[event.pk for event in events]).update(fanned_out_at=now)
    return Batch(len(events), len(rows), {row.endpoint_id for row in rows})


def fan_out(*, max_batches: int = BATCHES_PER_RUN) -> FanOutSummary:
    """The webhooks.fan_out task: fan out batch after batch until none is left (or max_batches,
    then a successor is kicked), kicking the delivery runs of the endpoints that got rows after
    each batch's commit. Safe to run twice at once (the lock admits one).

    A run that finds the lock taken does not wait for it (that would hold a webhook worker for as
    long as the other run takes): it pauses BUSY_RETRY_SECONDS and kicks a successor, so events
    committed while the other run finishes are not left for the sweep. No Celery countdown: Redis
    redelivers delayed tasks after its visibility timeout."""
    claim_fan_out()
    summary = FanOutSummary()
    for _ in range(max_batches):
        batch = fan_out_batch(wait=False)
        if batch is None:
            time.sleep(BUSY_RETRY_SECONDS)
            kick_fan_out()
            return summary
        summary.events += batch.events
        summary.deliveries += batch.deliveries
        summary.endpoints.update(batch.endpoints)
        if batch.endpoints:
            enqueue_deliveries(sorted(batch.endpoints))
        if batch.events < BATCH_SIZE:
            return summary
    kick_fan_out()
    return summary


def has_stale_events(*, now: datetime | None = None) -> bool:
    """Whether an event has waited for its fan-out longer than SWEEP_AFTER_SECONDS."""
    cutoff = (now or timezone.now()) - timedelta(seconds=SWEEP_AFTER_SECONDS)
    return WebhookEvent.objects.filter(fanned_out_at__isnull=True, created_at__lt=cutoff).exists()
