"""Writes on tickets: intake and the status changes every other app goes through."""

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from cxconsole.celery import app as celery_app
from tickets.events import notify_ticket_changed
from tickets.models import AuthorKind, Message, Shopper, Ticket, TicketStatus
from tickets.states import check_transition
from tickets.text import detect_language

logger = logging.getLogger(__name__)

ROUTE_TICKET_TASK = "routing.route_ticket"


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


class IdempotencyConflict(Exception):
    """The Idempotency-Key was first used for a different request."""


def enqueue_routing(ticket_id: int) -> bool:
    """Publish routing.route_ticket for a ticket; False when the broker refused.

    Failure is tolerated on purpose: the ticket is committed in status "new", and the
    sweeper (routing.sweep_unrouted_tickets) re-enqueues it.
    """
    try:
        celery_app.signature(ROUTE_TICKET_TASK, args=[ticket_id]).apply_async()
    except Exception:
        logger.warning("Could not enqueue routing for ticket %s; the sweeper will retry.", ticket_id, exc_info=True)
        return False
    return True


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


def _upsert_shopper(details: ShopperDetails, *, language: str) -> Shopper:
    defaults = {
        "name": details.name,
        "phone": details.phone,
        "email": details.email,
        "language": details.language or language,
    }
    if details.time_zone:
        defaults["time_zone"] = details.time_zone
    shopper, created = Shopper.objects.get_or_create(external_id=details.external_id, defaults=defaults)
    if not created:
        # Fresh contact details win; blanks never erase what we already know.
        changed = {k: v for k, v in defaults.items() if v and getattr(shopper, k) != v}
        if changed:
            for key, value in changed.items():
                setattr(shopper, key, value)
            shopper.save(update_fields=list(changed))
    return shopper


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
) -> IntakeResult:
    """Accept a shopper's inquiry: shopper, ticket and first message in one transaction.

    Routing is enqueued after commit. With an idempotency key, a retry (even one racing the
    first request) returns the first ticket; the same key with a different request raises
    IdempotencyConflict. Inputs are expected to be validated already (see tickets.api).
    """
    language = language or detect_language(f"{subject} {body}")
    fingerprint = _fingerprint(
        shopper=asdict(shopper),
        channel=channel,
        body=body,
        subject=subject,
        language=language,
        order=asdict(order) if order else None,
    )
    if idempotency_key:
        replay = _replay(client=client, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if replay:
            return replay
    try:
        with transaction.atomic():
            ticket = Ticket.objects.create(
                shopper=_upsert_shopper(shopper, language=language),
                channel=channel,
                subject=subject,
                body=body,
                language=language,
                client=client,
                idempotency_key=idempotency_key or None,
                request_fingerprint=fingerprint,
                **_order_fields(order),
            )
            Message.objects.create(
                ticket=ticket, author_kind=AuthorKind.SHOPPER, body=body, created_at=ticket.created_at
            )
            # No live hint yet: a "new" ticket is in no queue, so no screen shows it until routing
            # queues it (that change is announced).
            transaction.on_commit(partial(enqueue_routing, ticket.id), robust=True)
    except IntegrityError:
        # Lost the race against an identical retry: the unique constraint kept one ticket.
        if not idempotency_key:
            raise
        replay = _replay(client=client, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if replay is None:
            raise
        return replay
    return IntakeResult(ticket=ticket, created=True)


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


def set_status(ticket: Ticket, status: str, *, at: datetime | None = None) -> list[str]:
    """Move a (locked or freshly read) ticket to a new status, stamping the metric timestamps.

    Returns the changed field names; the caller saves them inside its own transaction.
    """
    check_transition(ticket.status, status)
    notify_ticket_changed(ticket, kind="status")
    now = at or timezone.now()
    ticket.status = status
    changed = ["status", "updated_at"]
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
