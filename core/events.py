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
# What each subscriber would record, when it says (a subscriber without an entry wants everything).
_interests: dict[str, Callable[[str], bool]] = {}


def subscribe(name: str, handler: Subscriber, *, wants: Callable[[str], bool] | None = None) -> None:
    """Register handler under name (re-registering a name replaces it). It is called with every
    batch of events, in the emitter's transaction; an exception rolls the change back.

    wants(type), when given, says cheaply whether the handler would record an event of that type
    right now (see wanted())."""
    _subscribers[name] = handler
    if wants is None:
        _interests.pop(name, None)
    else:
        _interests[name] = wants


def unsubscribe(name: str) -> None:
    _subscribers.pop(name, None)
    _interests.pop(name, None)


def wanted(type: str) -> bool:
    """Whether any subscriber would record an event of this type. A writer that commits by itself
    (intake's one statement) opens a transaction for its emit only when this is true, so an event
    nobody listens to costs it nothing."""
    for name in _subscribers:
        wants = _interests.get(name)
        if wants is None or wants(type):
            return True
    return False


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
