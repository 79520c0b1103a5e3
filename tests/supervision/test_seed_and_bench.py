"""seed_history writes believable history fast; bench_queue_health measures the health API on it.

Small counts here (the 1M run is the README's benchmark, on a database of its own)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from routing.models import Assignment
from supervision.selectors import day_start, queue_health
from teams.models import AgentProfile
from tickets.models import CloseReason, Ticket, TicketStatus

pytestmark = pytest.mark.django_db


def seed(**options: object) -> str:
    out = StringIO()
    call_command("seed_history", stdout=out, **options)
    return out.getvalue()


def test_it_seeds_history_over_the_days_with_a_share_today_and_work_open_now(postgres) -> None:
    output = seed(tickets=3000, agents=30, days=30, waiting=40)

    assert "Seeded 3,000 tickets over 30 days and 30 agents" in output and "COPY" in output
    assert Ticket.objects.count() == 3000
    today = day_start(timezone.now())
    assert Ticket.objects.filter(created_at__gte=today).exists()
    assert Ticket.objects.filter(created_at__lt=today - timedelta(days=20)).exists()
    assert Ticket.objects.filter(status=TicketStatus.QUEUED).count() == 40
    abandoned = Ticket.objects.filter(close_reason=CloseReason.ABANDONED)
    assert abandoned.exists() and not abandoned.filter(first_assigned_at__isnull=False).exists()
    assert not Ticket.objects.filter(resolved_at__gt=timezone.now()).exists()
    # Open assignments agree with the agents' counters (routing could work this data).
    for agent in AgentProfile.objects.all():
        held = Assignment.objects.filter(agent_id=agent.user_id, ended_at__isnull=True).count()
        assert agent.active_ticket_count == held <= agent.capacity
    health = queue_health()
    assert sum(q.waiting for q in health) == 40
    assert sum(q.offered_today for q in health) > 0


def test_small_histories_seed_on_any_database(db) -> None:
    output = seed(tickets=400, agents=6, days=3, waiting=5)

    assert "Seeded 400 tickets over 3 days and 6 agents" in output
    assert Ticket.objects.count() == 400
    assert Ticket.objects.filter(status=TicketStatus.QUEUED).count() == 5
    assert Ticket.objects.filter(signals=[]).count() == 400


def test_it_refuses_a_million_tickets_without_postgresql(db, monkeypatch) -> None:
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="need PostgreSQL"):
        seed(tickets=1_000_000, agents=500)
    assert not Ticket.objects.exists()


def test_it_refuses_nonsense_counts(db) -> None:
    with pytest.raises(CommandError, match="--agents must be at least 1"):
        seed(tickets=10, agents=0)
    with pytest.raises(CommandError, match="--waiting"):
        seed(tickets=10, agents=1, waiting=11)


def test_the_benchmark_prints_percentiles_and_queries_per_request(postgres) -> None:
    seed(tickets=500, agents=10, days=5, waiting=10)
    out = StringIO()

    call_command("bench_queue_health", requests=10, stdout=out)

    text = out.getvalue()
    for label in ("cold (cache bypassed)", "warm (cached)"):
        assert label in text
    assert "p50" in text and "p95" in text and "p99" in text
    assert "SQL queries per request" in text
