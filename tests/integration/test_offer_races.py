"""Offers under real concurrency (PostgreSQL, threads): one winner per offer, one live offer per ticket."""

import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from routing.models import Assignment, Offer
from routing.services import OfferGone, accept_offer, dispatch_queue, expire_offers
from teams.models import AgentProfile, SpecialistQueue
from teams.selectors import reset_config_cache
from tests.factories import queue
from tests.helpers import make_agents, make_waiting_tickets
from tickets.models import Ticket, TicketStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def offer_mode() -> SpecialistQueue:
    SpecialistQueue.objects.filter(slug="jewelry").update(mode=SpecialistQueue.Mode.OFFER)
    reset_config_cache()
    return queue("jewelry")


def race(*steps: Callable[[], object]) -> list[BaseException]:
    barrier = threading.Barrier(len(steps))
    errors: list[BaseException] = []

    def run(step: Callable[[], object]) -> None:
        try:
            barrier.wait()
            step()
        except OfferGone:
            pass  # the loser of a race is told so; that is the point
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def assert_offer_invariants() -> None:
    # The constraint's promise, checked: never two live offers for one ticket.
    doubled = Offer.objects.filter(state=Offer.State.PENDING).values("ticket").annotate(n=Count("id")).filter(n__gt=1)
    assert not doubled.exists()
    # A ticket on offer is waiting; an accepted offer's ticket is assigned to that agent.
    assert not Offer.objects.filter(state=Offer.State.PENDING).exclude(ticket__status=TicketStatus.QUEUED).exists()
    for offer in Offer.objects.filter(state=Offer.State.ACCEPTED).select_related("ticket"):
        assert offer.ticket.assigned_agent_id == offer.agent_id
    # Each agent's count is its active assignments plus its live offers, never past capacity.
    for agent in AgentProfile.objects.annotate(
        assigned=Count("user__assignments", filter=Q(user__assignments__ended_at__isnull=True), distinct=True),
        offered=Count("user__offers", filter=Q(user__offers__state=Offer.State.PENDING), distinct=True),
    ):
        assert agent.active_ticket_count == agent.assigned + agent.offered, agent
        assert agent.pending_offer_count == agent.offered, agent
        assert agent.active_ticket_count <= agent.capacity, agent


def test_an_accept_racing_the_timeout_has_exactly_one_winner(postgres: None) -> None:
    offer_mode()
    make_waiting_tickets(20)
    agents = make_agents(4, capacity=5)
    dispatch_queue(queue_id=queue("jewelry").id)
    offers = list(Offer.objects.filter(state=Offer.State.PENDING))
    assert len(offers) == 20
    users = {a.user_id: a.user for a in agents}
    # The sweep sees every deadline passed; each accept still arrives before its own deadline.
    later = timezone.now() + timedelta(seconds=60)

    for offer in offers:
        errors = race(
            partial(accept_offer, offer_id=offer.pk, user=users[offer.agent_id]),
            lambda: expire_offers(now=later),
        )
        assert errors == []

    ended = dict(Offer.objects.filter(pk__in=[o.pk for o in offers]).values_list("pk", "state"))
    assert set(ended.values()) <= {Offer.State.ACCEPTED, Offer.State.EXPIRED}
    for offer in offers:
        assigned = Assignment.objects.filter(ticket_id=offer.ticket_id, ended_at__isnull=True).exists()
        assert assigned == (ended[offer.pk] == Offer.State.ACCEPTED)
    assert_offer_invariants()


def test_racing_dispatch_runs_offer_each_ticket_once_and_respect_capacity(postgres: None) -> None:
    jewelry = offer_mode()
    make_waiting_tickets(60)
    make_agents(6, capacity=4)  # 24 slots for 60 tickets

    errors = race(*[lambda: [dispatch_queue(queue_id=jewelry.id) for _ in range(3)] for _ in range(6)])

    assert errors == []
    assert Offer.objects.filter(state=Offer.State.PENDING).count() == 24
    assert Ticket.objects.filter(status=TicketStatus.ASSIGNED).count() == 0
    assert_offer_invariants()


def test_two_agents_accepting_each_others_offer_and_their_own(postgres: None) -> None:
    offer_mode()
    make_waiting_tickets(1)
    ana, bo = make_agents(2, capacity=1)
    dispatch_queue(queue_id=queue("jewelry").id)
    offer = Offer.objects.get(state=Offer.State.PENDING)
    holder, other = (ana, bo) if offer.agent_id == ana.user_id else (bo, ana)
    refused: list[BaseException] = []

    def wrong_agent() -> None:
        try:
            accept_offer(offer_id=offer.pk, user=other.user)
        except Offer.DoesNotExist as exc:
            refused.append(exc)

    errors = race(
        lambda: accept_offer(offer_id=offer.pk, user=holder.user),
        lambda: accept_offer(offer_id=offer.pk, user=holder.user),  # a double click: one accept
        wrong_agent,
    )
    assert errors == [] and len(refused) == 1
    assert Assignment.objects.filter(ticket_id=offer.ticket_id).count() == 1
    assert Ticket.objects.get(pk=offer.ticket_id).assigned_agent_id == holder.user_id
    assert_offer_invariants()
