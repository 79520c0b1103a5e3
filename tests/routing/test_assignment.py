"""The best eligible specialist gets each ticket; nobody passes capacity; the line keeps order."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from routing.models import Assignment, AssignmentReason, RoutingDecision
from routing.services import dispatch_queue, set_agent_status, sweep_waiting_tickets
from teams.models import AgentProfile, AgentStatus
from tests.factories import AgentFactory, UserFactory, queue
from tests.helpers import query_budget, refreshed
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


def test_a_jewelry_inquiry_goes_to_the_jewelry_specialist(ana, mei, inquiry, django_assert_num_queries) -> None:
    # Intake, classification, routing and assignment of one inquiry, configuration read cold.
    # +1 for the webhook endpoints an event could go to (read once, then cached per process).
    with django_assert_num_queries(query_budget(postgresql=21, sqlite=28)):
        ticket = refreshed(inquiry())

    assert ticket.status == TicketStatus.ASSIGNED
    assert ticket.queue.slug == "jewelry"
    assert ticket.assigned_agent.username == "ana"
    assert ticket.first_assigned_at is not None
    decision = ticket.routing_decisions.filter(kind=RoutingDecision.Kind.ASSIGN).get()
    assert decision.candidates == 1 and decision.agent.username == "ana"


def test_the_text_model_routes_when_there_is_no_order(mei, inquiry) -> None:
    ticket = refreshed(inquiry("宝宝喝了这个奶粉一直拉肚子，二段的，能退吗", category=""))
    assert ticket.category.slug == "maternal_baby"
    assert ticket.classification_decisions.get().method == "model"
    assert ticket.assigned_agent.username == "mei"


def test_it_assigns_the_least_loaded_specialist_then_the_longest_idle(ana, bo, inquiry) -> None:
    first = refreshed(inquiry())
    second = refreshed(inquiry())
    third = refreshed(inquiry())

    # Equal free capacity: the one never assigned goes first; then load evens out.
    assert {first.assigned_agent.username, second.assigned_agent.username} == {"ana", "bo"}
    assert third.assigned_agent.username == first.assigned_agent.username
    counts = dict(AgentProfile.objects.values_list("user__username", "active_ticket_count"))
    assert counts == {"ana": 2, "bo": 1} or counts == {"ana": 1, "bo": 2}


def test_an_english_ticket_never_goes_to_an_agent_who_reads_only_chinese(bo, inquiry) -> None:
    ticket = refreshed(inquiry("My ring is too big, can I swap for a smaller size?", language="en"))
    assert ticket.status == TicketStatus.QUEUED
    assert ticket.assigned_agent is None


def test_away_and_offline_agents_get_no_new_work(ana, bo, inquiry) -> None:
    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    set_agent_status(agent=bo, status=AgentStatus.OFFLINE)
    assert refreshed(inquiry()).status == TicketStatus.QUEUED


def test_no_agent_passes_capacity_and_the_rest_wait_in_line(ana, inquiry) -> None:
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=2)
    tickets = [refreshed(inquiry()) for _ in range(4)]

    assert [t.status for t in tickets] == ["assigned", "assigned", "queued", "queued"]
    assert AgentProfile.objects.get(pk=ana.pk).active_ticket_count == 2


def test_waiting_tickets_are_served_by_priority_then_age(ana, inquiry, after_commit) -> None:
    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    old = inquiry()
    newer = inquiry()
    urgent = inquiry("戒指还没收到，我已经问了三次了，太失望了！")  # negative sentiment raises priority
    assert refreshed(urgent).priority > refreshed(old).priority
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=2)

    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.ONLINE)  # coming online pulls waiting work

    assert refreshed(urgent).status == TicketStatus.ASSIGNED
    assert refreshed(old).status == TicketStatus.ASSIGNED
    assert refreshed(newer).status == TicketStatus.QUEUED


def test_secondary_skill_agents_take_a_ticket_only_after_the_overflow_time(inquiry, after_commit) -> None:
    yan = AgentFactory(user=UserFactory(username="yan"), skills=["beauty"], skills__secondary=["jewelry"])
    ticket = inquiry()
    assert refreshed(ticket).status == TicketStatus.QUEUED  # yan holds jewelry only as secondary

    overflow = queue("jewelry").overflow_seconds
    with time_machine.travel(timezone.now() + timedelta(seconds=overflow - 5)), after_commit():
        sweep_waiting_tickets()
    assert refreshed(ticket).status == TicketStatus.QUEUED

    with time_machine.travel(timezone.now() + timedelta(seconds=overflow + 5)), after_commit():
        sweep_waiting_tickets()
    ticket = refreshed(ticket)
    assert ticket.overflowed
    assert ticket.assigned_agent == yan.user
    assert Assignment.objects.get(ticket=ticket).reason == AssignmentReason.OVERFLOW


def test_past_twice_the_overflow_time_a_ticket_moves_to_the_secondary_queue(inquiry, after_commit) -> None:
    ticket = inquiry()
    overflow = queue("jewelry").overflow_seconds
    with time_machine.travel(timezone.now() + timedelta(seconds=2 * overflow + 5)), after_commit():
        sweep_waiting_tickets()
    assert refreshed(ticket).queue.slug == "triage"

    generalist = AgentFactory(user=UserFactory(username="jun"), skills=["other"])
    dispatch_queue(queue_id=queue("triage").id)
    assert refreshed(ticket).assigned_agent == generalist.user


def test_tickets_waiting_past_the_service_level_are_flagged(inquiry, after_commit) -> None:
    ticket = inquiry()
    target = queue("jewelry").service_level_seconds
    with time_machine.travel(timezone.now() + timedelta(seconds=target - 1)), after_commit():
        sweep_waiting_tickets()
    assert not refreshed(ticket).sla_breached
    with time_machine.travel(timezone.now() + timedelta(seconds=target + 1)), after_commit():
        sweep_waiting_tickets()
    assert refreshed(ticket).sla_breached


def test_an_unsure_classification_goes_to_triage_flagged_for_an_agent(inquiry) -> None:
    ticket = refreshed(inquiry("在吗", category=""))
    assert ticket.queue.slug == "triage"
    assert ticket.needs_category
    assert ticket.classification_decisions.get().method == "fallback"
