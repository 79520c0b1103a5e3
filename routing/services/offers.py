"""Offers: in an offer-mode queue the chosen agent accepts or declines before a ticket is theirs.

Dispatch makes the offer (assignment.py, with offer_holds.write_offers); this module answers it.
Every answer locks the ticket row first, then the offer, then the agent (routing's lock order), and
ends the offer with a conditional UPDATE (offer_holds.end_offer_locked): an accept racing the
timeout, a decline or a withdrawal has exactly one winner. Past its deadline an offer can no
longer be accepted, whether or not the sweep has run yet.

Expiry is a durable sweep (routing.expire_offers, on the beat every 2 s) over the partial index of
pending offers by deadline, not one Celery ETA task per offer: a worker killed mid-wait loses
nothing. A declined or missed ticket goes to the next eligible agent at once (a dispatch kick),
never back to the same agent within OFFER_REOFFER_WINDOW_SECONDS; an agent who misses
OFFER_MISSES_BEFORE_AWAY offers in a row is set Away.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routing.models import DeclineReason, Offer, RoutingDecision
from routing.services.assignment import assign_locked
from routing.services.intake import enqueue_dispatch
from routing.services.offer_holds import end_offer_locked, notify_offer_changed
from routing.services.work import RoutingError, _dispatch_for_agent, _lock, set_agent_status
from teams.models import AgentProfile, AgentStatus
from tickets.models import Ticket, TicketStatus

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

logger = logging.getLogger(__name__)

EXPIRE_BATCH = 200


class OfferGone(RoutingError):
    """The offer is no longer open (answered, timed out, withdrawn): nothing was assigned.
    `state` is how it ended, for the screen to say so in the reader's language."""

    def __init__(self, offer: Offer) -> None:
        super().__init__(_gone_message(offer))
        self.state = offer.state


@dataclass(frozen=True)
class Answer:
    offer: Offer
    ticket: Ticket


def _lock_offer(offer_id: int, *, user: User) -> tuple[Offer, Ticket]:
    """Lock the offer's ticket, then the offer; only its agent may answer it (others: DoesNotExist)."""
    ticket_id = Offer.objects.filter(pk=offer_id, agent=user).values_list("ticket_id", flat=True).first()
    if ticket_id is None:
        raise Offer.DoesNotExist(f"No offer {offer_id} for this agent")
    ticket = _lock(ticket_id)
    offer = Offer.objects.select_for_update().get(pk=offer_id)
    return offer, ticket


def _gone_message(offer: Offer) -> "StrPromise":
    if offer.state == Offer.State.ACCEPTED:
        return _("You have already accepted this ticket.")
    if offer.state == Offer.State.EXPIRED:
        return _("This offer timed out and went to the next agent.")
    if offer.state == Offer.State.DECLINED:
        return _("You declined this offer.")
    return _("This ticket is no longer on offer: it moved on.")


def accept_offer(*, offer_id: int, user: User) -> Ticket:
    """The agent accepts: the ticket is assigned to them through the assignment write (the held
    slot becomes the assignment's). Atomic. OfferGone when it is too late (nothing is assigned;
    an offer found past its deadline is expired here, as the sweep would)."""
    now = timezone.now()
    late = False
    with transaction.atomic():
        offer, ticket = _lock_offer(offer_id, user=user)
        if offer.state != Offer.State.PENDING:
            raise OfferGone(offer)
        if now > offer.expires_at:
            late = _expire_locked(offer, ticket, now=now)
        elif ticket.status != TicketStatus.QUEUED:  # a path that moved it forgot the offer: heal
            end_offer_locked(offer, state=Offer.State.WITHDRAWN, now=now)
            notify_offer_changed(ticket, agent_user_id=offer.agent_id)
        else:
            agent = AgentProfile.objects.select_for_update().get(user_id=offer.agent_id)
            end_offer_locked(offer, state=Offer.State.ACCEPTED, now=now)
            agent.active_ticket_count -= 1  # the slot the offer held, taken again by the assignment
            assign_locked(ticket=ticket, agent=agent, reason=offer.reason)
            return ticket
    # Committed: the offer's end stands; the agent is told why nothing was assigned.
    if late:
        _after_misses([offer.agent_id])
    raise OfferGone(offer)


def decline_offer(*, offer_id: int, user: User, reason: str = "") -> Offer:
    """The agent declines (an optional reason from DeclineReason): the slot is freed and the ticket
    goes to the next eligible agent, never back to this one within the re-offer window."""
    if reason and reason not in DeclineReason.values:
        raise RoutingError(_("Unknown decline reason %(reason)s.") % {"reason": repr(reason)})
    with transaction.atomic():
        offer, ticket = _lock_offer(offer_id, user=user)
        if offer.state != Offer.State.PENDING:
            raise OfferGone(offer)
        end_offer_locked(offer, state=Offer.State.DECLINED, decline_reason=reason)
        RoutingDecision.objects.create(
            ticket=ticket,
            kind=RoutingDecision.Kind.OFFER_DECLINED,
            queue=ticket.queue,
            agent_id=offer.agent_id,
            reason=f"declined: {reason or 'no reason given'}",
        )
        notify_offer_changed(ticket, agent_user_id=offer.agent_id)
        _release_to_next(ticket, agent_user_id=offer.agent_id)
    return offer


def _release_to_next(ticket: Ticket, *, agent_user_id: int) -> None:
    """After commit: the ticket's queue offers it again, and the agent's freed slot pulls work."""
    if ticket.status == TicketStatus.QUEUED and ticket.queue is not None:
        enqueue_dispatch(ticket.queue)
    _dispatch_for_agent(agent_user_id)


def _expire_locked(offer: Offer, ticket: Ticket, *, now: datetime) -> bool:
    if not end_offer_locked(offer, state=Offer.State.EXPIRED, now=now):
        return False
    RoutingDecision.objects.create(
        ticket=ticket,
        kind=RoutingDecision.Kind.OFFER_EXPIRED,
        queue=ticket.queue,
        agent_id=offer.agent_id,
        reason=f"no answer in {int((offer.expires_at - offer.offered_at).total_seconds())}s",
    )
    notify_offer_changed(ticket, agent_user_id=offer.agent_id)
    _release_to_next(ticket, agent_user_id=offer.agent_id)
    return True


def expire_offers(*, now: datetime | None = None, batch_size: int = EXPIRE_BATCH) -> int:
    """End pending offers past their deadline and pass each ticket on. Bounded and safe twice at
    once: a ticket locked by an answer in progress is skipped (SKIP LOCKED; the answer decides,
    or the next sweep does), and the offer's conditional end lets only one of them count it.
    Returns how many offers it ended."""
    now = now or timezone.now()
    due = list(
        Offer.objects.filter(state=Offer.State.PENDING, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", "ticket_id")[:batch_size]
    )
    expired = 0
    missed_agents: list[int] = []
    for offer_id, ticket_id in due:
        with transaction.atomic():
            ticket = (
                Ticket.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("queue")
                .filter(pk=ticket_id)
                .first()
            )
            if ticket is None:
                continue
            offer = Offer.objects.select_for_update().get(pk=offer_id)
            if offer.state == Offer.State.PENDING and _expire_locked(offer, ticket, now=now):
                expired += 1
                missed_agents.append(offer.agent_id)
    _after_misses(missed_agents)
    return expired


def _after_misses(agent_user_ids: list[int]) -> None:
    """Agents whose missed-offer streak reached the limit are set Away (their own transaction,
    after the offers': set_agent_status locks their other offered tickets before their row)."""
    if not agent_user_ids:
        return
    limit = settings.OFFER_MISSES_BEFORE_AWAY
    for agent in AgentProfile.objects.filter(
        user_id__in=set(agent_user_ids), status=AgentStatus.ONLINE, missed_offer_streak__gte=limit
    ):
        logger.info("Agent %s missed %d offers in a row: set Away.", agent.user_id, agent.missed_offer_streak)
        set_agent_status(agent=agent, status=AgentStatus.AWAY, keep_missed_streak=True)


def pending_offers_for(profile: AgentProfile | None) -> list[Offer]:
    """The offers waiting for this agent's answer, soonest deadline first (no query when the
    profile's counter says there are none)."""
    if profile is None or profile.pending_offer_count <= 0:
        return []
    return list(
        Offer.objects.filter(agent_id=profile.user_id, state=Offer.State.PENDING)
        .select_related("ticket", "ticket__category", "queue")
        .order_by("expires_at")[:5]
    )
