"""Domain events: what happened to a ticket (or a callback, a rating…), told to subscribers
*inside* the writer's transaction.

Outboxes subscribe here (webhooks, shopper notifications): a subscriber writes its outbox rows in
the same transaction as the change, so an event is never lost and never sent for a change that
rolled back. Subscribers take a batch, because routing and assignment move up to 50 tickets in
one transaction and must not pay a round trip per ticket. Live screens keep their own after-commit
hint (tickets.events); this is the durable record of what happened.

Apps above core emit (`emit`, `emit_many`) from their services; apps that deliver events register
a subscriber in their AppConfig.ready() (`subscribe`). With no subscriber an emit costs nothing.

A writer whose whole change is one SQL statement (intake's chained CTEs) would pay BEGIN and
COMMIT around it just to record its events. Such a writer asks `statement_parts()` instead: each
subscriber that can (`inline=`) hands back CTEs to fold into that statement, so the events still
commit with the change and the write stays one round trip. Ids the statement itself creates are
named in the events as `StatementId`s and become SQL expressions there; when the statement
creates none (a writer whose statement may end up writing nothing), its events are not recorded.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class StatementId:
    """An id the emitter's statement creates (the new ticket's, its message's): a placeholder in
    an event's ticket_id or data, which an inline subscriber writes as the emitter's SQL for it."""

    name: str  # a key of the refs the emitter passes to statement_parts()


@dataclass(frozen=True)
class Event:
    type: str  # "ticket.assigned", "message.created", "callback.booked", …
    data: Mapping[str, Any]  # JSON-ready: ids, statuses, texts the receiver needs
    # The ticket it concerns (ordering key for deliveries); a StatementId only in events handed
    # to statement_parts().
    ticket_id: "int | StatementId | None" = None
    occurred_at: datetime = field(default_factory=timezone.now)


@dataclass(frozen=True)
class StatementPart:
    """CTE bodies ("name AS (INSERT …)", joined by ", ") with their parameters in order, and what
    to run once the statement has committed (kicking a delivery run)."""

    ctes: str
    params: list[Any]
    after_commit: Callable[[], None] | None = None


Subscriber = Callable[[Sequence[Event]], None]
# (events, refs: StatementId name -> SQL expression) -> the parts recording them; [] for none.
InlineRecorder = Callable[[Sequence[Event], Mapping[str, str]], list[StatementPart]]

_subscribers: dict[str, Subscriber] = {}
_inline: dict[str, InlineRecorder] = {}
# What each subscriber would record, when it says (a subscriber without an entry wants everything).
_interests: dict[str, Callable[[str], bool]] = {}


def subscribe(
    name: str,
    handler: Subscriber,
    *,
    wants: Callable[[str], bool] | None = None,
    inline: InlineRecorder | None = None,
) -> None:
    """Register handler under name (re-registering a name replaces it). It is called with every
    batch of events, in the emitter's transaction; an exception rolls the change back.

    wants(type), when given, says cheaply whether the handler would record an event of that type
    right now (see wanted()). inline, when given, records events inside a one-statement writer
    (see statement_parts())."""
    _subscribers[name] = handler
    if wants is None:
        _interests.pop(name, None)
    else:
        _interests[name] = wants
    if inline is None:
        _inline.pop(name, None)
    else:
        _inline[name] = inline


def unsubscribe(name: str) -> None:
    _subscribers.pop(name, None)
    _interests.pop(name, None)
    _inline.pop(name, None)


def wanted(type: str) -> bool:
    """Whether any subscriber would record an event of this type. A writer that commits by itself
    (intake's one statement) opens a transaction for its emit only when this is true, so an event
    nobody listens to costs it nothing."""
    for name in _subscribers:
        wants = _interests.get(name)
        if wants is None or wants(type):
            return True
    return False


def statement_parts(events: Sequence[Event], refs: Mapping[str, str]) -> list[StatementPart] | None:
    """For a writer that makes its change in one statement: the CTEs that record these events in
    it ([] when nobody wants them), or None when a subscriber that wants one cannot record inline
    (the writer then emits in a transaction of its own, as usual). The writer runs each part's
    after_commit once its statement has committed."""
    parts: list[StatementPart] = []
    for name in _subscribers:
        wants = _interests.get(name)
        if not any(wants is None or wants(event.type) for event in events):
            continue
        inline = _inline.get(name)
        if inline is None:
            return None
        parts.extend(inline(events, refs))
    return parts


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
