"""Two agents press "Take this ticket" on the same waiting ticket at the same moment (PostgreSQL,
two threads, two connections): exactly one gets it, the other is told why, and nothing is doubled."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from routing.models import Assignment
from routing.services import RoutingError, take_ticket
from teams.models import AgentProfile
from tests.factories import AgentFactory, TicketFactory, category, queue
from tickets.models import Ticket, TicketStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("round_", range(5))
def test_two_agents_taking_the_same_ticket_at_once_one_wins(postgres: None, round_: int) -> None:
    ticket = TicketFactory.create(
        status=TicketStatus.QUEUED,
        queue=queue("jewelry"),
        category=category("jewelry"),
        queued_at=timezone.now(),
        language="zh",
    )
    agents = [AgentFactory.create(capacity=3, languages=["zh"], skills=["jewelry"]) for _ in range(2)]
    barrier = threading.Barrier(2)
    won: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def press_take(agent: AgentProfile) -> None:
        try:
            barrier.wait()
            take_ticket(ticket_id=ticket.id, agent=agent)
            won.append(agent.user_id)
        except RoutingError as exc:
            refused.append(str(exc))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=press_take, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(won) == 1 and len(refused) == 1
    assert refused[0].startswith("This ticket is no longer waiting")
    taken = Ticket.objects.get(pk=ticket.pk)
    assert taken.status == TicketStatus.ASSIGNED and taken.assigned_agent_id == won[0]
    assert list(Assignment.objects.filter(ticket=ticket).values_list("agent_id", flat=True)) == won
    counts = dict(
        AgentProfile.objects.filter(pk__in=[a.pk for a in agents]).values_list("user_id", "active_ticket_count")
    )
    assert sorted(counts.values()) == [0, 1] and counts[won[0]] == 1
