"""Agents reply, resolve, transfer and escalate; shoppers hand off and reopen; status matters at once."""

import pytest

from classification.models import CategoryLabel
from routing.models import Assignment, AssignmentReason
from routing.services import (
    RoutingError,
    add_shopper_message,
    escalate_ticket,
    recategorize_ticket,
    reply_to_shopper,
    request_handoff,
    resolve_ticket,
    set_agent_status,
    transfer_ticket,
)
from teams.models import AgentProfile, AgentStatus
from tests.factories import category, queue
from tests.helpers import query_budget, refreshed
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


def load(agent: AgentProfile) -> int:
    return AgentProfile.objects.get(pk=agent.pk).active_ticket_count


def test_resolving_frees_capacity_and_pulls_the_next_waiting_ticket(
    ana, inquiry, after_commit, django_assert_num_queries
) -> None:
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=1)
    first, waiting = inquiry(), inquiry()
    assert refreshed(waiting).status == TicketStatus.QUEUED

    with after_commit():
        reply_to_shopper(ticket_id=first.id, by=ana.user, body="您好，已为您登记换货")
    assert refreshed(first).status == TicketStatus.WAITING_ON_SHOPPER
    assert refreshed(first).first_response_at is not None
    with (
        # +3 for the shopper's resolution notification (the outbox row and what it is rendered from).
        django_assert_num_queries(query_budget(postgresql=26, sqlite=30)),
        after_commit(),
    ):  # the resolve and the pull of the next
        resolve_ticket(ticket_id=first.id, by=ana.user)

    assert refreshed(first).status == TicketStatus.RESOLVED
    assert refreshed(waiting).assigned_agent == ana.user
    assert load(ana) == 1
    assert Assignment.objects.get(ticket=first).end_reason == "resolved"


def test_going_offline_returns_unanswered_tickets_to_the_front_of_the_queue(ana, bo, inquiry, after_commit) -> None:
    with after_commit():
        set_agent_status(agent=bo, status=AgentStatus.AWAY)
    answered, unanswered = inquiry(), inquiry()
    with after_commit():
        reply_to_shopper(ticket_id=answered.id, by=ana.user, body="在的，马上处理")
    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.AWAY)
    waiting_before = inquiry()

    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.OFFLINE)

    returned = refreshed(unanswered)
    assert returned.status == TicketStatus.QUEUED and returned.assigned_agent is None
    assert returned.priority > refreshed(waiting_before).priority  # front of the line
    assert refreshed(answered).assigned_agent == ana.user  # a conversation in progress stays
    assert load(ana) == 1

    with after_commit():
        set_agent_status(agent=bo, status=AgentStatus.ONLINE)
    assert refreshed(unanswered).assigned_agent == bo.user


def test_a_shopper_asking_for_a_person_jumps_the_queue_and_is_assigned_at_once(
    ana, inquiry, after_commit, django_assert_num_queries
) -> None:
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=1)
    busy = inquiry()
    older = inquiry()
    impatient = inquiry()
    assert refreshed(impatient).status == TicketStatus.QUEUED

    with django_assert_num_queries(query_budget(postgresql=17, sqlite=17)), after_commit():
        request_handoff(ticket_id=impatient.id)
    assert refreshed(impatient).priority > refreshed(older).priority

    with after_commit():
        resolve_ticket(ticket_id=busy.id, by=ana.user)
    ticket = refreshed(impatient)
    assert ticket.assigned_agent == ana.user
    requested, assigned = ticket.handoff_requested_at, ticket.handoff_assigned_at
    assert requested is not None and assigned is not None and requested <= assigned
    assert Assignment.objects.get(ticket=ticket).reason == AssignmentReason.HANDOFF
    assert refreshed(older).status == TicketStatus.QUEUED


def test_a_message_that_demands_a_person_is_handed_off_without_being_asked(ana, inquiry) -> None:
    ticket = refreshed(inquiry("转人工！戒指镶的钻掉了"))
    assert "asks_for_human" in ticket.signals
    assert ticket.handoff_requested_at is not None and ticket.handoff_assigned_at is not None
    assert ticket.assigned_agent == ana.user


def test_transfer_to_another_queue_keeps_the_conversation_and_frees_the_agent(ana, mei, inquiry, after_commit) -> None:
    ticket = inquiry("宝宝的银手镯尺寸偏小")
    with after_commit():
        transfer_ticket(ticket_id=ticket.id, by=ana.user, note="其实是婴儿用品", to_queue=queue("maternal_baby"))

    ticket = refreshed(ticket)
    assert ticket.queue.slug == "maternal_baby"
    assert ticket.assigned_agent == mei.user
    assert load(ana) == 0
    bodies = list(ticket.messages.values_list("body", "is_internal"))
    assert bodies[0] == ("宝宝的银手镯尺寸偏小", False)
    assert ("Transfer: 其实是婴儿用品", True) in bodies


def test_transfer_to_a_named_agent(ana, bo, inquiry, after_commit) -> None:
    ticket = inquiry()
    owner, other = (ana, bo) if refreshed(ticket).assigned_agent == ana.user else (bo, ana)
    with after_commit():
        transfer_ticket(ticket_id=ticket.id, by=owner.user, note="请你跟进", to_agent=other)
    assert refreshed(ticket).assigned_agent == other.user
    assert Assignment.objects.filter(ticket=ticket, ended_at__isnull=True).get().reason == AssignmentReason.TRANSFER
    with pytest.raises(RoutingError):
        transfer_ticket(ticket_id=ticket.id, by=other.user, note="x", to_agent=other)


def test_transfer_to_an_agent_at_capacity_is_refused_and_changes_nothing(ana, bo, inquiry, after_commit) -> None:
    AgentProfile.objects.filter(pk=bo.pk).update(capacity=1)
    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.AWAY)
    assert refreshed(inquiry()).assigned_agent == bo.user  # bo is now full
    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.ONLINE)
    ticket = inquiry()
    assert refreshed(ticket).assigned_agent == ana.user

    with pytest.raises(RoutingError):
        transfer_ticket(ticket_id=ticket.id, by=ana.user, note="x", to_agent=bo)

    assert refreshed(ticket).assigned_agent == ana.user
    assert load(ana) == 1 and load(bo) == 1


def test_escalation_goes_to_the_supervisors_queue_first_in_line(ana, sam, inquiry, after_commit) -> None:
    ticket = inquiry()
    with after_commit():
        escalate_ticket(ticket_id=ticket.id, by=ana.user, note="顾客要求赔偿三倍")
    ticket = refreshed(ticket)
    assert ticket.queue.slug == "supervisors"
    assert ticket.assigned_agent == sam.user
    assert ticket.messages.filter(is_internal=True, body__contains="三倍").exists()


def test_a_shopper_message_reopens_a_resolved_ticket_to_the_former_agent(ana, inquiry, after_commit) -> None:
    ticket = inquiry()
    with after_commit():
        resolve_ticket(ticket_id=ticket.id, by=ana.user)
    with after_commit():
        add_shopper_message(ticket_id=ticket.id, body="换的还是不合适")
    ticket = refreshed(ticket)
    assert ticket.status == TicketStatus.ASSIGNED and ticket.assigned_agent == ana.user
    assert Assignment.objects.filter(ticket=ticket, ended_at__isnull=True).get().reason == AssignmentReason.REOPEN


def test_a_reopened_ticket_goes_to_the_front_when_the_former_agent_is_away(ana, inquiry, after_commit) -> None:
    ticket = inquiry()
    with after_commit():
        resolve_ticket(ticket_id=ticket.id, by=ana.user)
    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.AWAY)
    with after_commit():
        add_shopper_message(ticket_id=ticket.id, body="还在吗")
    ticket = refreshed(ticket)
    assert ticket.status == TicketStatus.QUEUED
    assert ticket.priority == ticket.PRIORITY_TOP


def test_recategorizing_stores_a_label_and_reroutes(ana, mei, inquiry, after_commit) -> None:
    ticket = inquiry("这个能给宝宝用吗")
    with after_commit():
        recategorize_ticket(ticket_id=ticket.id, category=category("maternal_baby"), by=ana.user)
    ticket = refreshed(ticket)
    assert ticket.queue.slug == "maternal_baby" and ticket.assigned_agent == mei.user
    label = CategoryLabel.objects.get(ticket=ticket)
    assert label.category.slug == "maternal_baby" and label.labelled_by == ana.user
    assert ticket.classification_decisions.filter(method="agent").exists()


def test_a_closed_ticket_cannot_be_reopened_by_a_message(ana, inquiry, after_commit) -> None:
    ticket = inquiry()
    with after_commit():
        resolve_ticket(ticket_id=ticket.id, by=ana.user)
    type(ticket).objects.filter(pk=ticket.pk).update(status=TicketStatus.CLOSED)
    with pytest.raises(RoutingError):
        add_shopper_message(ticket_id=ticket.id, body="hello?")


def test_an_agent_can_send_a_follow_up_while_waiting_on_the_shopper(ana, inquiry, after_commit) -> None:
    ticket = inquiry()
    with after_commit():
        reply_to_shopper(ticket_id=ticket.id, by=ana.user, body="您好，请提供订单照片")
    first_response = refreshed(ticket).first_response_at
    with after_commit():
        reply_to_shopper(ticket_id=ticket.id, by=ana.user, body="补充：照片请拍清楚戒圈内侧")
    ticket = refreshed(ticket)
    assert ticket.status == TicketStatus.WAITING_ON_SHOPPER
    assert ticket.first_response_at == first_response
    assert ticket.messages.filter(author_kind="agent", is_internal=False).count() == 2
