"""The domain events tickets and their owners emit (core.events), built in one place.

Every ticket event carries the same small, JSON-ready core — ticket id, status, queue slug, agent
id, priority — plus what the event adds, so a receiver can act on any one event alone.
"""

from typing import Any

from core.events import Event
from teams.selectors import queue_by_id
from tickets.models import Ticket


def ticket_event(type: str, ticket: Ticket, **extra: Any) -> Event:
    """The event for a ticket in its current (in-transaction) state. The queue's slug comes from
    the loaded queue or the per-process config cache: a batch of tickets costs no query here."""
    queue = None
    if ticket.queue_id is not None:
        queue = ticket.queue if Ticket.queue.is_cached(ticket) else queue_by_id(ticket.queue_id)
    data: dict[str, Any] = {
        "ticket_id": ticket.pk,
        "status": ticket.status,
        "queue": queue.slug if queue is not None else None,
        "agent_id": ticket.assigned_agent_id,
        "priority": ticket.priority,
        **extra,
    }
    return Event(type=type, data=data, ticket_id=ticket.pk)


def iso(value: Any) -> str | None:
    """A datetime as ISO 8601 (UTC as stored), None stays None."""
    return value.isoformat() if value is not None else None
