"""Ticket change notifications: the one hook live screens listen to.

Sent after commit, never before (a listener must not see a change that could roll back).
A notification is a hint to re-read state, not the state itself: listeners re-query.
"""

from collections.abc import Sequence

from django.db import transaction
from django.dispatch import Signal

from tickets.models import Ticket

# kwargs: ticket_id, status, queue_id, previous_queue_id, agent_ids (users who had or now have
# the ticket), kind, ticket_ids (every ticket the change covers: a batch names them all, so a
# screen that follows one ticket, the shopper's page, hears of it too)
ticket_changed = Signal()

# The kind of a change only staff see (an internal note): screens that show the shopper's side
# (the shopper page) are not woken for it.
NOTE_KIND = "note"


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
            ticket_ids=[ticket.id],
        )

    transaction.on_commit(send, robust=True)


def notify_tickets_changed(tickets: Sequence[Ticket], *, kind: str) -> None:
    """Announce a batch of tickets moved by one transaction (routing, assignment): once per queue
    after commit, naming every agent who holds one of them now.

    A hint only says "re-read", and a screen re-reads everything it shows, so one hint per screen
    does what one per ticket did: a batch of 50 assignments costs a few hints, not 50.
    """
    by_queue: dict[int | None, list[Ticket]] = {}
    for ticket in tickets:
        by_queue.setdefault(ticket.queue_id, []).append(ticket)

    def send() -> None:
        for queue_id, batch in by_queue.items():
            ticket_changed.send(
                sender=Ticket,
                ticket_id=batch[0].id,
                status=batch[0].status,
                queue_id=queue_id,
                previous_queue_id=None,
                agent_ids=sorted({t.assigned_agent_id for t in batch if t.assigned_agent_id}),
                kind=kind,
                ticket_ids=[t.id for t in batch],
                ticket_statuses=[t.status for t in batch],
            )

    if by_queue:
        transaction.on_commit(send, robust=True)
