"""Domain events: what happened to a ticket (or a callback, a rating…), told to subscribers
*inside* the writer's transaction.

Outboxes subscribe here (webhooks, shopper notifications): a subscriber writes its outbox rows in
the same transaction as the change, so an event is never lost and never sent for a change that
rolled back. Subscribers take a batch, because routing and assignment move up to 50 tickets in
one transaction and must not pay a round trip per ticket. Live screens keep their own after-commit
hint (tickets.events); this is the durable record of what happened.

Apps above core emit (`emit`, `emit_many`) from their services; apps that deliver events register
a subscriber in their AppConfig.ready() (`subscribe`). With no subscriber an emit costs nothing.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class Event:
    type: str  # "ticket.assigned", "message.created", "callback.booked", …
    data: Mapping[str, Any]  # JSON-ready: ids, statuses, texts the receiver needs
    ticket_id: int | None = None  # the ticket it concerns (ordering key for deliveries)
    occurred_at: datetime = field(default_factory=timezone.now)


Subscriber = Callable[[Sequence[Event]], None]

_subscribers: dict[str, Subscriber] = {}


def subscribe(name: str, handler: Subscriber) -> None:
    """Register handler under name (re-registering a name replaces it). It is called with every
    batch of events, in the emitter's transaction; an exception rolls the change back."""
    _subscribers[name] = handler


def unsubscribe(name: str) -> None:
    _subscribers.pop(name, None)


def subscriber_names() -> frozenset[str]:
    """Who is subscribed now (what the apps registered at start-up)."""
    return frozenset(_subscribers)


def emit(type: str, *, data: Mapping[str, Any], ticket_id: int | None = None) -> None:
    """Record one event. Call inside the transaction that made the change."""
    emit_many([Event(type=type, data=data, ticket_id=ticket_id)])


def emit_many(events: Sequence[Event]) -> None:
    """Record a batch of events (one transaction's worth), in order."""
    if not events:
        return
    for handler in list(_subscribers.values()):
        handler(events)
