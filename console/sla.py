"""The SLA clock an agent sees on a waiting or assigned ticket, from its queue's service-level time.

Waiting in a queue: due that long after it was queued. Assigned: the reply is due that long after
the shopper's last message. Waiting on the shopper (or closed): no clock.
"""

from datetime import datetime, timedelta

from tickets.models import Ticket, TicketStatus


def sla_due(ticket: Ticket) -> datetime | None:
    """When the ticket passes its queue's service-level time (None: no clock runs for it)."""
    queue = ticket.queue if ticket.queue_id is not None else None
    if queue is None or ticket.status not in (TicketStatus.QUEUED, TicketStatus.ASSIGNED):
        return None
    since: datetime | None = getattr(ticket, "waiting_since", None)
    if since is None:
        if ticket.status == TicketStatus.QUEUED:
            since = ticket.queued_at or ticket.created_at
        else:
            since = getattr(ticket, "last_shopper_message_at", None) or ticket.first_assigned_at or ticket.created_at
    return since + timedelta(seconds=queue.service_level_seconds)
