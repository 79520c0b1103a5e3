"""Racing workers never assign a ticket twice or push an agent past capacity (PostgreSQL).

First with 8 threads calling dispatch in one process, then with real worker processes, one of
which is killed with SIGKILL in the middle of assigning.
"""

import threading
import time

import pytest
from django.db import connection
from django.db.models import Count, Q

from cxconsole.celery import app as celery_app
from routing.models import Assignment
from routing.services import dispatch_queue, sweep_waiting_tickets
from teams.models import AgentProfile
from tests.factories import queue
from tests.helpers import make_agents, make_waiting_tickets, wait_for
from tickets.models import Ticket, TicketStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def assert_invariants() -> None:
    # No ticket has two active assignments (the constraint would have refused it, but check).
    doubled = Assignment.objects.filter(ended_at__isnull=True).values("ticket").annotate(n=Count("id")).filter(n__gt=1)
    assert not doubled.exists()
    # Every assigned ticket has exactly one active assignment, to its assigned agent.
    for ticket in Ticket.objects.filter(status=TicketStatus.ASSIGNED):
        active = Assignment.objects.get(ticket=ticket, ended_at__isnull=True)
        assert active.agent_id == ticket.assigned_agent_id
    assert not Assignment.objects.filter(ended_at__isnull=True, ticket__status=TicketStatus.QUEUED).exists()
    # Counters match reality and never pass capacity.
    for agent in AgentProfile.objects.annotate(
        real=Count("user__assignments", filter=Q(user__assignments__ended_at__isnull=True))
    ):
        assert agent.active_ticket_count == agent.real, agent
        assert agent.active_ticket_count <= agent.capacity, agent


def test_eight_threads_racing_for_the_same_tickets_and_agents(postgres: None) -> None:
    make_waiting_tickets(120)
    agents = make_agents(10, capacity=5)  # 50 slots for 120 tickets
    jewelry = queue("jewelry").id
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                dispatch_queue(queue_id=jewelry)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert_invariants()
    assert Ticket.objects.filter(status=TicketStatus.ASSIGNED).count() == 50
    assert all(a.active_ticket_count == 5 for a in AgentProfile.objects.filter(pk__in=[a.pk for a in agents]))


def test_real_workers_racing_then_one_killed_mid_assignment_loses_nothing(start_worker) -> None:
    make_waiting_tickets(400)
    make_agents(60, capacity=5)  # 300 slots for 400 tickets
    jewelry = queue("jewelry")
    first = start_worker(queues=[jewelry.celery_queue], concurrency=2)
    second = start_worker(queues=[jewelry.celery_queue], concurrency=2)

    for _ in range(40):
        celery_app.signature("routing.dispatch_queue", args=[jewelry.id], queue=jewelry.celery_queue).apply_async()
    # Kill one worker's pool processes and main process without warning, mid-work.
    wait_for(lambda: Assignment.objects.count() >= 30, timeout=30, interval=0.01)
    first.kill()

    # The survivor and a periodic sweep finish the job; nothing is lost or doubled.
    sweep_waiting_tickets()
    wait_for(lambda: Ticket.objects.filter(status=TicketStatus.ASSIGNED).count() == 300, timeout=60)
    time.sleep(0.5)
    assert_invariants()
    assert Ticket.objects.filter(status=TicketStatus.QUEUED).count() == 100
    assert second.process.poll() is None
