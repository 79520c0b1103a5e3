"""Writes on tickets: intake and the status changes every other app goes through."""

import hashlib
import json
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from core import events
from core.events import StatementPart
from core.kicks import kick
from tickets.attachments import PreparedImage, store_images
from tickets.domain_events import iso, ticket_event
from tickets.events import notify_ticket_changed
from tickets.intake_write import STATEMENT_IDS, Lookup, insert_inquiry
from tickets.models import AuthorKind, Message, Shopper, Ticket, TicketStatus
from tickets.states import check_transition
from tickets.text import detect_language

# The kick key of the run that drains every "new" ticket (core.kicks).
ROUTE_KICK = "route"
# That run's task belongs to routing, which sits above tickets: routing's AppConfig.ready()
# names it through register_route_task(), so tickets never imports routing.
_route_task: str | None = None


def register_route_task(task_name: str) -> None:
    """Called once by the app that routes new tickets (routing.apps)."""
    global _route_task
    _route_task = task_name


@dataclass(frozen=True)
class JoinRequest:
    """An inquiry about an order, offered to the app that may already have a ticket for it."""

    shopper: "ShopperDetails"
    order_number: str
    body: str
    client: User | None
    idempotency_key: str | None
    photos: Sequence[PreparedImage]


@dataclass(frozen=True)
class InquiryJoiner:
    """An app that may hold a ticket opened for an inquiry's order before the shopper wrote (the
    proactive app, above tickets, registers one in its AppConfig.ready()).

    lookup(request) gives the SQL of one value, the app's own key for the ticket to join (NULL:
    none), with its parameters, or None when this request can never join. Intake runs it inside
    its own statement (tickets.intake_write), so looking costs no round trip; when it finds a key,
    intake writes nothing and calls join(request, key), which adds the inquiry to that ticket
    and returns (ticket, replayed)."""

    lookup: "Callable[[JoinRequest], Lookup | None]"
    join: "Callable[[JoinRequest, int], tuple[Ticket, bool]]"


_joiner: InquiryJoiner | None = None


def register_inquiry_joiner(joiner: InquiryJoiner | None) -> None:
    global _joiner
    _joiner = joiner


@dataclass(frozen=True)
class ShopperDetails:
    external_id: str
    name: str = ""
    phone: str = ""
    email: str = ""
    language: str = ""
    time_zone: str = ""


@dataclass(frozen=True)
class OrderSnapshot:
    number: str
    product_title: str = ""
    product_category: str = ""
    amount: Decimal | None = None
    currency: str = ""
    paid: bool | None = None
    shipped: bool | None = None


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    created: bool
    # The inquiry joined a ticket opened for its order before the shopper wrote (a proactive one).
    joined: bool = False


class IdempotencyConflict(Exception):
    """The Idempotency-Key was first used for a different request."""


def enqueue_routing() -> bool:
    """Make sure a routing run will look at new tickets (a coalesced kick, see core.kicks);
    False when the broker refused.

    Failure is tolerated on purpose: the ticket is committed in status "new", and the sweeper
    (routing.sweep_unrouted_tickets) kicks routing again.
    """
    if _route_task is None:
        raise ImproperlyConfigured("No app registered the task that routes new tickets (is routing installed?).")
    return kick(_route_task, key=ROUTE_KICK)


def _fingerprint(**fields: object) -> str:
    canonical = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(*, client: User | None, idempotency_key: str, fingerprint: str) -> IntakeResult | None:
    existing = Ticket.objects.filter(client=client, idempotency_key=idempotency_key).first()
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was already used for a different inquiry.")
    return IntakeResult(ticket=existing, created=False)


def open_ticket(
    *,
    shopper: ShopperDetails,
    channel: str,
    body: str,
    subject: str = "",
    language: str = "",
    order: OrderSnapshot | None = None,
    client: User | None = None,
    idempotency_key: str | None = None,
    photos: Sequence[PreparedImage] = (),
    author_kind: str = AuthorKind.SHOPPER,
    signals: Sequence[str] = (),
    priority: int = Ticket.PRIORITY_NORMAL,
) -> IntakeResult:
    """Accept a shopper's inquiry: shopper (created or updated), ticket and first message, written
    together (tickets.intake_write: one statement on PostgreSQL).

    Routing is kicked after commit. With an idempotency key, a retry (even one racing the
    first request) returns the first ticket; the same key with a different request raises
    IdempotencyConflict. Inputs are expected to be validated already (see tickets.api).
    Photos (checked by tickets.attachments.prepare_images) go on the first message, in the same
    transaction; they are part of what an Idempotency-Key stands for, and a replay stores none.
    A shopper's inquiry naming an order may instead join the ticket opened for that order before
    they wrote (register_inquiry_joiner): the result then says joined. A ticket the system opens
    (author_kind "system") carries its own signals and priority, which routing keeps.
    """
    language = language or detect_language(f"{subject} {body}")
    fingerprint = _fingerprint(
        shopper=asdict(shopper),
        channel=channel,
        body=body,
        subject=subject,
        language=language,
        order=asdict(order) if order else None,
        # Only when there are photos: the fingerprints of requests without any stay as they were.
        **({"photos": [photo.source_sha256 for photo in photos]} if photos else {}),
    )
    if idempotency_key:
        replay = _replay(client=client, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if replay:
            return replay
    joiner, join_request, lookup = _joiner, None, None
    if order is not None and joiner is not None and author_kind == AuthorKind.SHOPPER:
        join_request = JoinRequest(
            shopper=shopper,
            order_number=order.number,
            body=body,
            client=client,
            idempotency_key=idempotency_key,
            photos=photos,
        )
        lookup = joiner.lookup(join_request)
    now = timezone.now()
    ticket = Ticket(
        channel=channel,
        subject=subject,
        body=body,
        language=language,
        client=client,
        idempotency_key=idempotency_key or None,
        request_fingerprint=fingerprint,
        created_at=now,
        signals=list(signals),
        priority=priority,
        **_order_fields(order),
    )
    message = Message(author_kind=author_kind, body=body, created_at=now)
    created = _created_event(ticket, shopper=shopper, message=message)
    # On PostgreSQL the outboxes that want ticket.created fold their rows into the intake
    # statement itself (None: a subscriber cannot, so it hears the event in a transaction).
    parts = events.statement_parts([created], STATEMENT_IDS) if connection.vendor == "postgresql" else None
    try:
        # With photos, or when a subscriber records ticket.created outside the statement, the
        # rows, the photos and the event commit together (a savepoint inside a caller's
        # transaction); otherwise the one intake statement commits by itself. Our own atomic
        # block already undoes the statement on an IntegrityError: no second savepoint inside it.
        emit_after = parts is None and events.wanted(TICKET_CREATED)
        wrap = bool(photos) or emit_after
        with transaction.atomic() if wrap else nullcontext():
            found = _insert(
                ticket, shopper=shopper, message=message, now=now, savepoint=not wrap, parts=parts or (), lookup=lookup
            )
            if found is None and emit_after:
                events.emit_many([_created_event(ticket, shopper=shopper, message=message)])
            if found is None and photos:
                store_images(message=message, images=photos)
    except IntegrityError:
        # Lost the race against an identical retry: the unique constraint kept one ticket.
        if not idempotency_key:
            raise
        replay = _replay(client=client, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if replay is None:
            raise
        return replay
    if found is not None:
        assert joiner is not None and join_request is not None  # noqa: S101  # only they bring a lookup
        joined, replayed = joiner.join(join_request, found)
        return IntakeResult(ticket=joined, created=not replayed, joined=True)
    # No live hint yet: a "new" ticket is in no queue, so no screen shows it until routing queues
    # it (that change is announced). Outside a transaction the kick goes at once (the write has
    # committed); inside one, at its commit.
    transaction.on_commit(enqueue_routing, robust=True)
    return IntakeResult(ticket=ticket, created=True)


TICKET_CREATED = "ticket.created"


def _insert(
    ticket: Ticket,
    *,
    shopper: ShopperDetails,
    message: Message,
    now: datetime,
    savepoint: bool,
    parts: Sequence[StatementPart],
    lookup: Lookup | None,
) -> int | None:
    return insert_inquiry(
        Shopper(
            external_id=shopper.external_id,
            name=shopper.name,
            phone=shopper.phone,
            email=shopper.email,
            language=shopper.language or ticket.language,
            **({"time_zone": shopper.time_zone} if shopper.time_zone else {}),
            created_at=now,
        ),
        ticket,
        message,
        time_zone_given=bool(shopper.time_zone),
        savepoint=savepoint,
        parts=parts,
        lookup=lookup,
    )


def _created_event(ticket: Ticket, *, shopper: ShopperDetails, message: Message) -> events.Event:
    """ticket.created; before the insert its ids are the statement's own (StatementId)."""
    event = ticket_event(
        TICKET_CREATED,
        ticket,
        shopper=shopper.external_id,
        channel=ticket.channel,
        language=ticket.language,
        order_number=ticket.order_number or None,
        message_id=message.pk,
        created_at=iso(ticket.created_at),
    )
    if ticket.pk is not None:
        return event
    ticket_id, message_id = events.StatementId("ticket"), events.StatementId("message")
    data = {**event.data, "ticket_id": ticket_id, "message_id": message_id}
    return events.Event(type=event.type, data=data, ticket_id=ticket_id, occurred_at=event.occurred_at)


def _order_fields(order: OrderSnapshot | None) -> dict[str, object]:
    if order is None:
        return {}
    return {
        "order_number": order.number,
        "order_product_title": order.product_title,
        "order_product_category": order.product_category,
        "order_amount": order.amount,
        "order_currency": order.currency,
        "order_paid": order.paid,
        "order_shipped": order.shipped,
    }


def set_status(ticket: Ticket, status: str, *, at: datetime | None = None, announce: bool = True) -> list[str]:
    """Move a (locked or freshly read) ticket to a new status, stamping the metric timestamps.

    Returns the changed field names; the caller saves them inside its own transaction. A batch
    writer passes announce=False and announces the whole batch (tickets.events.notify_tickets_changed).
    """
    check_transition(ticket.status, status)
    if announce:
        notify_ticket_changed(ticket, kind="status")
    now = at or timezone.now()
    reopened = ticket.status == TicketStatus.RESOLVED and status in (TicketStatus.ASSIGNED, TicketStatus.QUEUED)
    ticket.status = status
    changed = ["status", "updated_at"]
    if reopened:
        # A reopened ticket is not resolved: the shopper API and the dashboard must not say so.
        ticket.resolved_at = None
        changed.append("resolved_at")
    if status == TicketStatus.QUEUED and ticket.queued_at is None:
        ticket.queued_at = now
        changed.append("queued_at")
    if status == TicketStatus.ASSIGNED and ticket.first_assigned_at is None:
        ticket.first_assigned_at = now
        changed.append("first_assigned_at")
    if status == TicketStatus.RESOLVED:
        ticket.resolved_at = now
        changed.append("resolved_at")
    if status == TicketStatus.CLOSED:
        ticket.closed_at = now
        changed.append("closed_at")
    return changed


def record_shopper_seen(*, ticket_id: int, last_message_id: int | None, at: datetime | None = None) -> bool:
    """The shopper's page showed this ticket's conversation up to last_message_id (the newest
    public message it rendered): call it on every render and re-read of the page.

    The notification outbox then skips a reply the shopper saw, and a resolution or reopening
    they saw after it happened (the decision is taken at send time, NOTIFICATION_SEEN_GRACE_SECONDS
    after the change). One conditional UPDATE, no row lock taken first; the message id only moves
    forward; updated_at is left alone (it is not a change of the ticket). Returns False for an
    unknown ticket.
    """
    now = at or timezone.now()
    message_id = last_message_id if last_message_id is not None else 0
    updated = Ticket.objects.filter(pk=ticket_id).update(
        shopper_seen_at=now,
        shopper_seen_message_id=Greatest(Coalesce("shopper_seen_message_id", 0), message_id),
    )
    return bool(updated)
