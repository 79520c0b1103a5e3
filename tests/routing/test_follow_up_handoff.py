"""A shopper who asks for a person in a later message gets one, as at intake: a handoff while no
person holds the ticket, nothing new once one does."""

import pytest

from routing.models import RoutingDecision
from routing.services import add_shopper_message, set_agent_status
from teams.models import AgentStatus
from tests.helpers import refreshed
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db


def test_asking_for_a_person_in_a_follow_up_on_a_waiting_ticket_is_a_handoff(ana, bo, inquiry, after_commit) -> None:
    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry()
    assert refreshed(ticket).status == TicketStatus.QUEUED and ticket.handoff_requested_at is None

    add_shopper_message(ticket_id=ticket.id, body="等了好久，转人工")

    after = refreshed(ticket)
    assert after.handoff_requested_at is not None and after.priority == Ticket.PRIORITY_TOP
    assert after.routing_decisions.filter(kind=RoutingDecision.Kind.HANDOFF).count() == 1

    with after_commit():
        set_agent_status(agent=bo, status=AgentStatus.ONLINE)  # the first person free takes it
    after = refreshed(ticket)
    assert after.status == TicketStatus.ASSIGNED and after.assigned_agent == bo.user
    assert after.handoff_assigned_at is not None


def test_an_ordinary_follow_up_is_no_handoff(ana, bo, inquiry) -> None:
    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry()
    add_shopper_message(ticket_id=ticket.id, body="尺寸是17号")
    after = refreshed(ticket)
    assert after.handoff_requested_at is None
    assert not after.routing_decisions.filter(kind=RoutingDecision.Kind.HANDOFF).exists()


def test_asking_for_a_person_when_one_holds_the_ticket_changes_nothing(ana, inquiry) -> None:
    ticket = inquiry()
    assert refreshed(ticket).status == TicketStatus.ASSIGNED

    add_shopper_message(ticket_id=ticket.id, body="I want a real person")

    after = refreshed(ticket)
    assert after.status == TicketStatus.ASSIGNED and after.assigned_agent == ana.user
    assert after.handoff_requested_at is None


def test_a_caller_that_reads_the_text_itself_turns_the_reading_off(ana, bo, inquiry) -> None:
    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry()
    add_shopper_message(ticket_id=ticket.id, body="转人工", read_for_a_person=False)
    assert refreshed(ticket).handoff_requested_at is None


def test_a_handoff_read_from_the_text_says_so_and_a_button_press_says_the_shopper_asked(ana, bo, inquiry) -> None:
    """A sensitive follow-up brings a person though nobody asked: the record names the signals
    that decided it (in the agent's language on the ticket page), the event says "signals"."""
    from core.events import Event, subscribe, unsubscribe
    from routing.services import request_handoff

    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    set_agent_status(agent=bo, status=AgentStatus.AWAY)
    sensitive, pressed = inquiry(), inquiry()

    events: list[Event] = []
    subscribe("test-handoff-events", events.extend)
    try:
        add_shopper_message(ticket_id=sensitive.id, body="验孕棒的包装破了")
        request_handoff(ticket_id=pressed.id)
    finally:
        unsubscribe("test-handoff-events")

    read = refreshed(sensitive).routing_decisions.get(kind=RoutingDecision.Kind.HANDOFF)
    assert read.reason == "shopper's message needs a person; signals: sensitive"
    asked = refreshed(pressed).routing_decisions.get(kind=RoutingDecision.Kind.HANDOFF)
    assert asked.reason == "shopper asked for a person"
    by = {e.ticket_id: e.data["by"] for e in events if e.type == "ticket.handoff_requested"}
    assert by == {sensitive.id: "signals", pressed.id: "shopper"}


def test_the_read_handoff_reason_is_said_in_chinese() -> None:
    from django.utils import translation

    from console.history_text import reason_text

    with translation.override("zh-hans"):
        text = reason_text("shopper's message needs a person; signals: sensitive, asks_for_human")
    assert "signals" not in text and "sensitive" not in text
    assert "人工" in text
