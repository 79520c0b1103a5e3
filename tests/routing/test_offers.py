"""Offer-mode queues: the chosen agent accepts or declines; a held slot, a deadline, a next agent."""

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from routing.models import Assignment, AssignmentReason, DeclineReason, Offer, RoutingDecision
from routing.services import (
    OfferGone,
    RoutingError,
    accept_offer,
    cancel_inquiry,
    decline_offer,
    dispatch_queue,
    expire_offers,
    request_handoff,
    set_agent_status,
    take_ticket,
)
from teams.models import AgentProfile, AgentStatus, SpecialistQueue
from teams.selectors import reset_config_cache
from tests.factories import queue
from tests.helpers import refreshed
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db


def offer_mode(slug: str = "jewelry", **fields: object) -> SpecialistQueue:
    SpecialistQueue.objects.filter(slug=slug).update(mode=SpecialistQueue.Mode.OFFER, **fields)
    reset_config_cache()
    return queue(slug)


def profile(agent: AgentProfile) -> AgentProfile:
    return AgentProfile.objects.get(pk=agent.pk)


def live_offer(ticket: Ticket) -> Offer:
    return Offer.objects.get(ticket=ticket, state=Offer.State.PENDING)


def test_an_offer_holds_a_slot_and_accepting_it_assigns_the_ticket(ana, inquiry, after_commit) -> None:
    offer_mode()
    ticket = inquiry()

    assert refreshed(ticket).status == TicketStatus.QUEUED  # not theirs until they accept
    offer = live_offer(ticket)
    assert offer.agent_id == ana.user_id and offer.reason == AssignmentReason.ROUTING
    assert (offer.expires_at - offer.offered_at) == timedelta(seconds=20)
    assert (profile(ana).active_ticket_count, profile(ana).pending_offer_count) == (1, 1)

    with after_commit():
        accept_offer(offer_id=offer.pk, user=ana.user)

    ticket = refreshed(ticket)
    assert ticket.status == TicketStatus.ASSIGNED and ticket.assigned_agent_id == ana.user_id
    assert (profile(ana).active_ticket_count, profile(ana).pending_offer_count) == (1, 0)
    assert Assignment.objects.get(ticket=ticket).reason == AssignmentReason.ROUTING
    assert list(ticket.routing_decisions.order_by("id").values_list("kind", flat=True))[-2:] == ["offer", "assign"]
    with pytest.raises(OfferGone, match="already accepted"):
        accept_offer(offer_id=offer.pk, user=ana.user)


def test_the_capacity_an_offer_holds_is_not_given_to_another_ticket(ana, inquiry) -> None:
    offer_mode()
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=1)
    offered, waiting = inquiry(), inquiry()

    assert live_offer(offered).agent_id == ana.user_id
    assert not Offer.objects.filter(ticket=waiting).exists()
    assert refreshed(waiting).status == TicketStatus.QUEUED


def test_a_push_queue_still_assigns_at_once_without_an_offer(ana, inquiry) -> None:
    ticket = inquiry()
    assert refreshed(ticket).status == TicketStatus.ASSIGNED
    assert not Offer.objects.exists()


def test_a_decline_with_a_reason_goes_to_the_next_agent_and_never_back_to_the_same(
    ana, bo, inquiry, after_commit
) -> None:
    offer_mode()
    ticket = inquiry()
    first = live_offer(ticket)
    first_agent, other = (ana, bo) if first.agent_id == ana.user_id else (bo, ana)

    with after_commit():
        decline_offer(offer_id=first.pk, user=first_agent.user, reason=DeclineReason.BUSY)
    assert profile(first_agent).active_ticket_count == 0
    second = live_offer(ticket)
    assert second.agent_id == other.user_id

    with after_commit():
        decline_offer(offer_id=second.pk, user=other.user)
    # Both declined within the window: nobody is offered it again, it waits in line.
    assert not Offer.objects.filter(ticket=ticket, state=Offer.State.PENDING).exists()
    assert dispatch_queue(queue_id=ticket.queue_id) == 0
    reasons = Offer.objects.filter(ticket=ticket).order_by("id").values_list("state", "decline_reason")
    assert list(reasons) == [("declined", "busy"), ("declined", "")]
    assert ticket.routing_decisions.filter(kind=RoutingDecision.Kind.OFFER_DECLINED).count() == 2

    # After the window the ticket may be offered to them again.
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert dispatch_queue(queue_id=ticket.queue_id) == 1
    assert live_offer(ticket).agent_id in (ana.user_id, bo.user_id)


def test_an_agent_cannot_answer_another_agents_offer_nor_a_bad_reason(ana, bo, inquiry) -> None:
    offer_mode()
    AgentProfile.objects.filter(pk=bo.pk).update(status=AgentStatus.AWAY)
    offer = live_offer(inquiry())
    with pytest.raises(Offer.DoesNotExist):
        accept_offer(offer_id=offer.pk, user=bo.user)
    with pytest.raises(RoutingError, match="Unknown decline reason"):
        decline_offer(offer_id=offer.pk, user=ana.user, reason="bored")
    assert refreshed(offer.ticket).status == TicketStatus.QUEUED
    assert live_offer(offer.ticket).pk == offer.pk


def test_the_expiry_sweep_passes_an_unanswered_offer_on_and_a_late_accept_is_refused(
    ana, bo, inquiry, after_commit
) -> None:
    offer_mode()
    ticket = inquiry()
    first = live_offer(ticket)
    missed_by = ana if first.agent_id == ana.user_id else bo

    with time_machine.travel(first.expires_at - timedelta(seconds=1)):
        assert expire_offers() == 0
    with time_machine.travel(first.expires_at + timedelta(seconds=1)), after_commit():
        with pytest.raises(OfferGone, match="timed out"):  # before the sweep: the deadline holds
            accept_offer(offer_id=first.pk, user=missed_by.user)
        assert expire_offers() == 0  # already ended by the late accept; one end, counted once

    assert Offer.objects.get(pk=first.pk).state == Offer.State.EXPIRED
    assert profile(missed_by).missed_offer_streak == 1
    assert profile(missed_by).active_ticket_count == 0
    assert live_offer(ticket).agent_id != missed_by.user_id
    assert ticket.routing_decisions.filter(kind=RoutingDecision.Kind.OFFER_EXPIRED).count() == 1


def test_the_sweep_expires_offers_by_itself(ana, inquiry, after_commit) -> None:
    offer_mode()
    offer = live_offer(inquiry())
    with time_machine.travel(offer.expires_at + timedelta(seconds=2)), after_commit():
        assert expire_offers() == 1
        assert expire_offers() == 0  # safe to run twice
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.EXPIRED
    assert (profile(ana).active_ticket_count, profile(ana).pending_offer_count) == (0, 0)
    assert refreshed(offer.ticket).status == TicketStatus.QUEUED


def test_missed_offers_in_a_row_set_the_agent_away_and_say_why(ana, inquiry, after_commit, settings) -> None:
    settings.OFFER_MISSES_BEFORE_AWAY = 2
    offer_mode()
    for expected_streak in (1, 2):
        offer = live_offer(inquiry())
        with time_machine.travel(offer.expires_at + timedelta(seconds=1)), after_commit():
            expire_offers()
        assert profile(ana).missed_offer_streak == expected_streak

    agent = profile(ana)
    assert agent.status == AgentStatus.AWAY and not agent.status_set_by_presence
    assert agent.active_ticket_count == 0
    # Coming back by choice clears the streak.
    set_agent_status(agent=agent, status=AgentStatus.ONLINE)
    assert profile(ana).missed_offer_streak == 0


def test_an_accept_or_decline_resets_the_missed_streak(ana, inquiry, after_commit) -> None:
    offer_mode()
    offer = live_offer(inquiry())
    with time_machine.travel(offer.expires_at + timedelta(seconds=1)), after_commit():
        expire_offers()
    assert profile(ana).missed_offer_streak == 1
    with time_machine.travel(offer.expires_at + timedelta(minutes=11)), after_commit():
        assert offer.queue_id is not None
        dispatch_queue(queue_id=offer.queue_id)
        accept_offer(offer_id=live_offer(offer.ticket).pk, user=ana.user)
    assert profile(ana).missed_offer_streak == 0


def test_going_away_withdraws_the_offer_to_the_next_agent(ana, bo, inquiry, after_commit) -> None:
    offer_mode()
    ticket = inquiry()
    first = live_offer(ticket)
    leaving, staying = (ana, bo) if first.agent_id == ana.user_id else (bo, ana)
    with after_commit():
        set_agent_status(agent=profile(leaving), status=AgentStatus.AWAY)
    assert Offer.objects.get(pk=first.pk).state == Offer.State.WITHDRAWN
    assert profile(leaving).active_ticket_count == 0
    assert profile(leaving).missed_offer_streak == 0
    assert live_offer(ticket).agent_id == staying.user_id


def test_a_cancelled_inquiry_withdraws_its_offer(ana, inquiry, after_commit) -> None:
    offer_mode()
    offer = live_offer(inquiry())
    with after_commit():
        cancel_inquiry(ticket_id=offer.ticket_id)
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.WITHDRAWN
    assert profile(ana).active_ticket_count == 0


def test_taking_a_ticket_offered_to_someone_else_is_refused_and_your_own_is_accepted(ana, bo, inquiry) -> None:
    offer_mode()
    ticket = inquiry()
    offer = live_offer(ticket)
    holder, other = (ana, bo) if offer.agent_id == ana.user_id else (bo, ana)
    with pytest.raises(RoutingError, match="on offer to another agent"):
        take_ticket(ticket_id=ticket.pk, agent=profile(other))
    take_ticket(ticket_id=ticket.pk, agent=profile(holder))
    assert refreshed(ticket).assigned_agent_id == holder.user_id
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.ACCEPTED
    assert profile(holder).active_ticket_count == 1


def test_a_handoff_in_a_push_queue_that_offers_handoffs_gets_a_short_offer(ana, inquiry, after_commit) -> None:
    SpecialistQueue.objects.filter(slug="jewelry").update(handoff_offer=True)
    reset_config_cache()
    AgentProfile.objects.filter(pk=ana.pk).update(status=AgentStatus.AWAY)
    ticket = inquiry()
    AgentProfile.objects.filter(pk=ana.pk).update(status=AgentStatus.ONLINE)
    with after_commit():
        request_handoff(ticket_id=ticket.pk)

    offer = live_offer(ticket)
    assert offer.is_handoff and offer.reason == AssignmentReason.HANDOFF
    assert (offer.expires_at - offer.offered_at) == timedelta(seconds=10)
    assert not ticket.routing_decisions.filter(kind=RoutingDecision.Kind.NO_AGENT).exists()
    with after_commit():
        accept_offer(offer_id=offer.pk, user=ana.user)
    ticket = refreshed(ticket)
    assert ticket.handoff_assigned_at is not None and ticket.assigned_agent_id == ana.user_id


def test_offer_queues_offer_handoffs_by_default_and_push_queues_push_them(ana, inquiry: Callable[..., Ticket]) -> None:
    jewelry = queue("jewelry")
    assert (jewelry.offers_work, jewelry.offers_handoffs) == (False, False)
    jewelry = offer_mode()
    assert (jewelry.offers_work, jewelry.offers_handoffs) == (True, True)
    jewelry.handoff_offer = False
    assert jewelry.offers_handoffs is False
