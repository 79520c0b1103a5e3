"""An agent takes a waiting ticket of their queues by hand, through the assignment service:
capacity, eligibility and a colleague who was quicker are respected, and a refusal writes nothing."""

import pytest

from routing.models import Assignment, AssignmentReason
from routing.services import RoutingError, take_ticket
from teams.models import AgentProfile, AgentStatus, SkillLevel
from tests.factories import AgentFactory, UserFactory
from tests.helpers import refreshed
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def waiting(ana, bo, inquiry):
    """A ticket waiting in the jewelry line while nobody was online; then Ana and Bo come back
    (quietly: no dispatch has run yet, so the ticket is still there to take)."""

    def make(body: str = "戒指尺寸不对", **kwargs):
        AgentProfile.objects.update(status=AgentStatus.AWAY)
        ticket = inquiry(body, **kwargs)
        assert refreshed(ticket).status == TicketStatus.QUEUED
        AgentProfile.objects.filter(pk__in=[ana.pk, bo.pk]).update(status=AgentStatus.ONLINE)
        return ticket

    return make


def assert_untouched(ticket, agent: AgentProfile, count: int = 0) -> None:
    assert refreshed(ticket).status == TicketStatus.QUEUED and refreshed(ticket).assigned_agent is None
    assert not Assignment.objects.filter(ticket=ticket).exists()
    agent.refresh_from_db()
    assert agent.active_ticket_count == count


def test_an_agent_takes_a_waiting_ticket_and_it_counts_against_her_capacity(ana, waiting) -> None:
    ticket = waiting()

    take_ticket(ticket_id=ticket.id, agent=ana)

    taken = refreshed(ticket)
    assert taken.status == TicketStatus.ASSIGNED and taken.assigned_agent == ana.user
    assert Assignment.objects.get(ticket=ticket, ended_at=None).reason == AssignmentReason.TAKEN
    ana.refresh_from_db()
    assert ana.active_ticket_count == 1


def test_a_ticket_a_colleague_took_first_is_refused(ana, bo, waiting) -> None:
    ticket = waiting()
    take_ticket(ticket_id=ticket.id, agent=bo)

    with pytest.raises(RoutingError, match="no longer waiting"):
        take_ticket(ticket_id=ticket.id, agent=ana)

    assert refreshed(ticket).assigned_agent == bo.user
    ana.refresh_from_db()
    assert ana.active_ticket_count == 0


def test_an_agent_at_capacity_is_refused_and_nothing_is_written(ana, waiting) -> None:
    ticket = waiting()
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=1, active_ticket_count=1)  # full

    with pytest.raises(RoutingError, match="resolve one first"):
        take_ticket(ticket_id=ticket.id, agent=ana)

    assert_untouched(ticket, ana, count=1)


def test_an_agent_who_does_not_speak_the_language_is_refused(bo, waiting) -> None:
    ticket = waiting("My ring is the wrong size", language="en")

    with pytest.raises(RoutingError, match="language"):
        take_ticket(ticket_id=ticket.id, agent=bo)

    assert_untouched(ticket, bo)


def test_an_agent_without_the_skill_is_refused(ana, waiting) -> None:
    ticket = waiting()
    mei = AgentFactory.create(user=UserFactory.create(username="mei"), languages=["zh"], skills=["maternal_baby"])

    with pytest.raises(RoutingError, match="skill"):
        take_ticket(ticket_id=ticket.id, agent=mei)

    assert_untouched(ticket, mei)


def test_an_agent_who_is_not_online_is_refused(ana, waiting) -> None:
    ticket = waiting()
    AgentProfile.objects.filter(pk=ana.pk).update(status=AgentStatus.AWAY)

    with pytest.raises(RoutingError, match="Go online"):
        take_ticket(ticket_id=ticket.id, agent=ana)

    assert_untouched(ticket, ana)


def test_a_secondary_skill_is_enough_to_take_by_hand(ana, waiting) -> None:
    ticket = waiting()
    helper = AgentFactory.create(user=UserFactory.create(username="li"), languages=["zh"], skills=[])
    category = refreshed(ticket).category
    assert category is not None
    helper.skill_set.create(category=category, level=SkillLevel.SECONDARY)

    take_ticket(ticket_id=ticket.id, agent=helper)

    assert refreshed(ticket).assigned_agent == helper.user
