"""The callback events (core.events) that services emit inside their transactions."""

from callbacks.models import Callback
from core.events import emit_many
from tickets.domain_events import iso, ticket_event


def emit_callback_event(type: str, callback: Callback) -> None:
    """callback.booked / rescheduled / cancelled / completed: the ticket's core fields, and the
    callback's own (its status replaces the ticket's under "callback_status")."""
    event = ticket_event(
        type,
        callback.ticket,
        callback_id=callback.pk,
        callback_status=callback.status,
        callback_queue=callback.queue.slug,
        owner_id=callback.owner_id,
        booked_by=callback.booked_by,
        scheduled_at=iso(callback.scheduled_at),
        window_end=iso(callback.window_end),
        attempts=callback.attempts,
        outcome=callback.outcome or None,
    )
    emit_many([event])
