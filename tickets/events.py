"""Ticket change notifications: the one hook live screens listen to.

Sent after commit, never before (a listener must not see a change that could roll back).
A notification is a hint to re-read state, not the state itself: listeners re-query.
"""

from django.db import transaction
from django.dispatch import Signal

from tickets.models import Ticket

# kwargs: ticket_id, status, queue_id, previous_queue_id, agent_ids (users who had or now have
# the ticket), kind
ticket_changed = Signal()


def notify_ticket_changed(ticket: Ticket, *, kind: str) -> None:
    """Announce a change of this ticket once the surrounding transaction commits.

    The agent and queue that hold the ticket now are read at commit time (callers often set them
    after the status); the ones that held it before are taken now.
    """
    previous_agent_id = ticket.assigned_agent_id
    previous_queue_id = ticket.queue_id

    def send() -> None:
        agents = sorted({a for a in (previous_agent_id, ticket.assigned_agent_id) if a})
        ticket_changed.send(
            sender=Ticket,
            ticket_id=ticket.id,
            status=ticket.status,
            queue_id=ticket.queue_id,
            previous_queue_id=previous_queue_id if previous_queue_id != ticket.queue_id else None,
            agent_ids=agents,
            kind=kind,
        )

    transaction.on_commit(send, robust=True)
