"""The state gaps a day of work would hit: resolved tickets are read-only, handoffs after a
resolution reach a person, a shopper never waits on an absent agent, sweeps move each ticket once,
named transfers respect eligibility, resolved tickets close by themselves."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from routing.models import Assignment, AssignmentReason, RoutingDecision
from routing.services import (
    RoutingError,
    add_internal_note,
    add_shopper_message,
    close_resolved_tickets,
    escalate_ticket,
    recategorize_ticket,
    reopen_ticket,
    reply_to_shopper,
    request_handoff,
    resolve_ticket,
    set_agent_status,
    sweep_waiting_tickets,
    transfer_ticket,
)
from supervision.services import reassign_ticket
from teams.models import AgentProfile, AgentStatus, SpecialistQueue
from tests.factories import AgentFactory, UserFactory, category, queue
from tickets.models import CloseReason, Message, Ticket, TicketStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def refreshed(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("queue", "category", "assigned_agent").get(pk=ticket.pk)


def resolved(ticket: Ticket, agent: AgentProfile) -> Ticket:
    reply_to_shopper(ticket_id=ticket.id, by=agent.user, body="已为您处理好了")
    resolve_ticket(ticket_id=ticket.id, by=agent.user)
    return refreshed(ticket)


@pytest.mark.parametrize("action", ["transfer", "escalate", "recategorize", "note"])
def test_a_resolved_ticket_refuses_every_move_and_writes_nothing(ana, bo, inquiry, action: str) -> None:
    ticket = resolved(inquiry(), ana)
    notes, decisions = Message.objects.count(), RoutingDecision.objects.count()
    moves = {
        "transfer": lambda: transfer_ticket(ticket_id=ticket.id, by=ana.user, note="x", to_queue=queue("beauty")),
        "escalate": lambda: escalate_ticket(ticket_id=ticket.id, by=ana.user, note="x"),
        "recategorize": lambda: recategorize_ticket(ticket_id=ticket.id, category=category("beauty"), by=ana.user),
        # A follow-up after resolution starts with Reopen: a note alone would sit unseen on finished work.
        "note": lambda: add_internal_note(ticket_id=ticket.id, by=ana.user, body="called back, all good"),
    }
    with pytest.raises(RoutingError, match="reopen it first"):
        moves[action]()

    after = refreshed(ticket)
    assert after.status == TicketStatus.RESOLVED and after.resolved_at is not None
    assert (Message.objects.count(), RoutingDecision.objects.count()) == (notes, decisions)


def test_reopening_on_purpose_gives_the_ticket_back_to_the_agent_and_clears_resolved_at(ana, inquiry) -> None:
    ticket = resolved(inquiry(), ana)
    reopen_ticket(ticket_id=ticket.id, by=ana.user)
    after = refreshed(ticket)
    assert after.status == TicketStatus.ASSIGNED and after.assigned_agent == ana.user
    assert after.resolved_at is None
    with pytest.raises(RoutingError):
        reopen_ticket(ticket_id=ticket.id, by=ana.user)


def test_asking_for_a_person_after_the_resolution_reopens_and_reaches_one(ana, bo, inquiry) -> None:
    ticket = resolved(inquiry(), ana)
    set_agent_status(agent=ana, status=AgentStatus.OFFLINE)

    request_handoff(ticket_id=ticket.id)

    after = refreshed(ticket)
    assert after.status == TicketStatus.ASSIGNED and after.assigned_agent == bo.user
    assert after.handoff_assigned_at is not None


def test_a_handoff_nobody_can_take_yet_is_recorded_as_waiting_first_in_line(ana, inquiry) -> None:
    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    ticket = inquiry()
    request_handoff(ticket_id=ticket.id)
    assert refreshed(ticket).status == TicketStatus.QUEUED
    assert ticket.routing_decisions.filter(kind=RoutingDecision.Kind.NO_AGENT).count() == 1


def test_going_offline_returns_a_ticket_where_the_shopper_wrote_last(ana, bo, inquiry) -> None:
    set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry()
    reply_to_shopper(ticket_id=ticket.id, by=ana.user, body="请问尺寸是多少？")
    add_shopper_message(ticket_id=ticket.id, body="17号")  # the shopper wrote: ana's turn

    set_agent_status(agent=ana, status=AgentStatus.OFFLINE)

    after = refreshed(ticket)
    assert after.status == TicketStatus.QUEUED and after.assigned_agent is None
    assert AgentProfile.objects.get(pk=ana.pk).active_ticket_count == 0


def test_a_shopper_writing_to_an_absent_agent_goes_to_the_front_of_the_queue(ana, bo, inquiry) -> None:
    set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry()
    reply_to_shopper(ticket_id=ticket.id, by=ana.user, body="请问尺寸是多少？")
    set_agent_status(agent=ana, status=AgentStatus.OFFLINE)
    assert refreshed(ticket).assigned_agent == ana.user  # waiting on the shopper: still hers

    set_agent_status(agent=bo, status=AgentStatus.ONLINE)
    add_shopper_message(ticket_id=ticket.id, body="17号，谢谢")

    after = refreshed(ticket)
    assert after.assigned_agent == bo.user and after.status == TicketStatus.ASSIGNED
    assert AgentProfile.objects.get(pk=ana.pk).active_ticket_count == 0
    assert after.routing_decisions.filter(kind=RoutingDecision.Kind.REQUEUE).exists()


def test_the_overflow_sweep_moves_a_ticket_one_hop_and_records_one_decision(ana, inquiry) -> None:
    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    jewelry, triage = queue("jewelry"), queue("triage")
    # A chain jewelry → triage → general: one sweep must not carry a ticket through both hops.
    general = queue("general")
    SpecialistQueue.objects.filter(pk=triage.pk).update(secondary_queue=general)
    ticket = inquiry()
    later = timezone.now() + timedelta(seconds=2 * max(jewelry.overflow_seconds, triage.overflow_seconds) + 5)

    with time_machine.travel(later):
        first = sweep_waiting_tickets()
        second = sweep_waiting_tickets()  # another run at the same moment moves nothing more

    assert refreshed(ticket).queue == triage
    assert (first["moved"], second["moved"]) == (1, 0)
    assert ticket.routing_decisions.filter(kind=RoutingDecision.Kind.OVERFLOW).count() == 1

    with time_machine.travel(later + timedelta(seconds=2 * triage.overflow_seconds + 5)):
        sweep_waiting_tickets()
    assert refreshed(ticket).queue == general


def test_a_circle_of_secondary_queues_is_refused() -> None:
    jewelry, triage = queue("jewelry"), queue("triage")
    triage.secondary_queue = jewelry
    with pytest.raises(ValidationError, match="circle"):
        triage.full_clean()


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        (lambda agent: set_agent_status(agent=agent, status=AgentStatus.AWAY), "is away"),
        (lambda agent: AgentProfile.objects.filter(pk=agent.pk).update(languages=["en"]), "does not speak"),
        (lambda agent: agent.skill_set.all().delete(), "holds no skill"),
    ],
)
def test_a_named_transfer_to_an_ineligible_agent_is_refused_without_a_trace(ana, inquiry, setup, why: str) -> None:
    chen = AgentFactory.create(user=UserFactory.create(username="chen"), languages=["zh"], skills=["jewelry"])
    ticket = inquiry()
    setup(chen)

    with pytest.raises(RoutingError, match=why):
        transfer_ticket(ticket_id=ticket.id, by=ana.user, note="请接手", to_agent=AgentProfile.objects.get(pk=chen.pk))

    assert refreshed(ticket).assigned_agent == ana.user
    assert not Message.objects.filter(ticket=ticket, is_internal=True).exists()


def test_a_supervisor_may_override_and_the_override_is_recorded(ana, sam, inquiry) -> None:
    chen = AgentFactory.create(user=UserFactory.create(username="chen"), languages=["en"], skills=["beauty"])
    ticket = inquiry()
    with pytest.raises(RoutingError):
        reassign_ticket(actor=sam.user, ticket_id=ticket.id, reason="VIP", to_agent=chen)

    reassign_ticket(actor=sam.user, ticket_id=ticket.id, reason="VIP", to_agent=chen, override=True)

    assert refreshed(ticket).assigned_agent == chen.user
    assert Assignment.objects.get(ticket=ticket, ended_at__isnull=True).reason == AssignmentReason.SUPERVISOR
    assert ticket.routing_decisions.filter(reason__contains="overrode").exists()
    with pytest.raises(RoutingError, match="Only a supervisor"):
        transfer_ticket(ticket_id=ticket.id, by=ana.user, note="x", to_agent=ana, override=True)


def test_resolved_tickets_close_after_the_configured_days_in_capped_batches(settings, ana, inquiry) -> None:
    settings.AUTO_CLOSE_RESOLVED_DAYS = 7
    old, recent = resolved(inquiry(), ana), None
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        recent = resolved(inquiry(), ana)
    with time_machine.travel(timezone.now() + timedelta(days=7, hours=1)):
        assert close_resolved_tickets(batch_size=1) == 1
        assert close_resolved_tickets(batch_size=1) == 0

    assert refreshed(old).status == TicketStatus.CLOSED
    assert refreshed(old).close_reason == CloseReason.RESOLVED
    assert refreshed(recent).status == TicketStatus.RESOLVED
