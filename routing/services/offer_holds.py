"""Offer reservations: the writes that make and end them, under routing's lock order.

An offer holds one slot of its agent's capacity from the moment it is made: the agent's
active_ticket_count (and pending_offer_count) go up with the Offer row, in the same transaction,
so the capacity check constraint covers offers and assignments together. Ending an offer gives the
slot back; an accept turns it into an assignment in the same transaction (assign_locked). Callers
hold the ticket's row lock first, then touch the agent row (the house order, see assignment.py).
The partial unique index one_live_offer_per_ticket backs up "one pending offer per ticket".

Nothing here kicks dispatch: the caller knows which queues gained work (no import cycle with
intake).
"""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.expressions import CombinedExpression
from django.utils import timezone

from routing.models import Offer, RoutingDecision
from teams.models import AgentProfile, SpecialistQueue
from tickets.events import ticket_changed
from tickets.models import Ticket

OFFER_KIND = "offer"


class OfferPick(NamedTuple):
    ticket: Ticket
    agent_pk: int
    agent_user_id: int
    reason: str
    candidates: int


def offer_timeout(queue: SpecialistQueue, ticket: Ticket) -> int:
    return queue.handoff_offer_timeout_seconds if is_pending_handoff(ticket) else queue.offer_timeout_seconds


def is_pending_handoff(ticket: Ticket) -> bool:
    return ticket.handoff_requested_at is not None and ticket.handoff_assigned_at is None


def wants_offer(queue: SpecialistQueue, ticket: Ticket) -> bool:
    """An offer, not a push, for this ticket in this queue (a handoff follows the queue's
    handoff setting)."""
    return queue.offers_handoffs if is_pending_handoff(ticket) else queue.offers_work


def refused_pairs(ticket_ids: Sequence[int], *, now: datetime) -> set[tuple[int, int]]:
    """(ticket id, agent user id) pairs not to offer again yet: declined or missed within
    OFFER_REOFFER_WINDOW_SECONDS."""
    if not ticket_ids:
        return set()
    since = now - timedelta(seconds=settings.OFFER_REOFFER_WINDOW_SECONDS)
    rows = Offer.objects.filter(
        ticket_id__in=ticket_ids, state__in=[Offer.State.DECLINED, Offer.State.EXPIRED], ended_at__gte=since
    ).values_list("ticket_id", "agent_id")
    return set(rows)


def write_offers(queue: SpecialistQueue, picks: Sequence[OfferPick], *, now: datetime) -> None:
    """Offer locked tickets to locked agents: an Offer row each, the agents' slots held, an OFFER
    decision each, and a hint to each agent's console after commit."""
    if not picks:
        return
    Offer.objects.bulk_create(
        Offer(
            ticket=p.ticket,
            agent_id=p.agent_user_id,
            queue=queue,
            reason=p.reason,
            is_handoff=is_pending_handoff(p.ticket),
            offered_at=now,
            expires_at=now + timedelta(seconds=offer_timeout(queue, p.ticket)),
        )
        for p in picks
    )
    for picked, agent_pks in _grouped_by_count([p.agent_pk for p in picks]).items():
        AgentProfile.objects.filter(pk__in=agent_pks).update(
            active_ticket_count=F("active_ticket_count") + picked,
            pending_offer_count=F("pending_offer_count") + picked,
            last_assigned_at=now,
        )
    RoutingDecision.objects.bulk_create(
        RoutingDecision(
            ticket=p.ticket,
            kind=RoutingDecision.Kind.OFFER,
            queue=queue,
            agent_id=p.agent_user_id,
            candidates=p.candidates,
            reason=f"{p.reason}; {offer_timeout(queue, p.ticket)}s to accept",
            created_at=now,
        )
        for p in picks
    )
    for pick in picks:
        notify_offer_changed(pick.ticket, agent_user_id=pick.agent_user_id)


def _grouped_by_count(agent_pks: list[int]) -> dict[int, list[int]]:
    by_count: dict[int, list[int]] = {}
    for agent_pk, picked in Counter(agent_pks).items():
        by_count.setdefault(picked, []).append(agent_pk)
    return by_count


def end_offer_locked(offer: Offer, *, state: str, decline_reason: str = "", now: datetime | None = None) -> bool:
    """End a pending offer of a locked ticket and give its slot back. A conditional UPDATE: only
    one of an accept, a decline, the expiry sweep and a withdrawal racing for it ends it; the
    others see False and do nothing. Accept uses it too, then assigns (the slot is taken again)."""
    now = now or timezone.now()
    ended = Offer.objects.filter(pk=offer.pk, state=Offer.State.PENDING).update(
        state=state, ended_at=now, decline_reason=decline_reason
    )
    if not ended:
        return False
    offer.state, offer.ended_at, offer.decline_reason = state, now, decline_reason
    # A miss extends the streak, an answer ends it, a withdrawal (not the agent's doing) leaves it.
    streak: F | CombinedExpression | int = F("missed_offer_streak")
    if state == Offer.State.EXPIRED:
        streak = F("missed_offer_streak") + 1
    elif state != Offer.State.WITHDRAWN:
        streak = 0
    AgentProfile.objects.filter(user_id=offer.agent_id).update(
        active_ticket_count=F("active_ticket_count") - 1,
        pending_offer_count=F("pending_offer_count") - 1,
        missed_offer_streak=streak,
    )
    return True


def withdraw_offer_locked(ticket: Ticket) -> int | None:
    """The locked ticket moves on (transfer, escalation, cancel, a take): its pending offer, if
    any, ends as withdrawn. Returns the agent whose slot was freed."""
    offer = Offer.objects.filter(ticket=ticket, state=Offer.State.PENDING).first()
    if offer is None or not end_offer_locked(offer, state=Offer.State.WITHDRAWN):
        return None
    notify_offer_changed(ticket, agent_user_id=offer.agent_id)
    return offer.agent_id


def notify_offer_changed(ticket: Ticket, *, agent_user_id: int) -> None:
    """After commit, wake the agent's consoles (the banner) and the ticket's queue."""
    queue_id, ticket_id, status = ticket.queue_id, ticket.pk, ticket.status

    def send() -> None:
        ticket_changed.send(
            sender=Ticket,
            ticket_id=ticket_id,
            status=status,
            queue_id=queue_id,
            previous_queue_id=None,
            agent_ids=[agent_user_id],
            kind=OFFER_KIND,
            ticket_ids=[ticket_id],
        )

    transaction.on_commit(send, robust=True)
