"""Routing and assignment write a whole batch at once (on PostgreSQL one statement of constant
text whose values travel as arrays; on SQLite through the ORM), and either way the rows hold
exactly what save() would store: values with quotes or placeholders are data, a NULL is a NULL,
and a batch that fails writes nothing."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from classification.models import ClassificationDecision
from classification.services import record_decisions
from routing.models import Assignment, RoutingDecision
from routing.services import assignment, intake
from teams.models import AgentProfile
from tests.factories import AgentFactory, TicketFactory, UserFactory, category, queue
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TRICKY = ["50%s off? $1 or %(now)s", 'it\'s "broken"; DROP TABLE x; --', "%%", ""]
SHORT = ["%s $1", 'it\'s "x"; --', "%(now)s", "%%"]  # fits an assignment's reason (20)


def stored(ticket: Ticket, fields: list[str]) -> dict[str, Any]:
    fresh = Ticket.objects.get(pk=ticket.pk)
    return {name: getattr(fresh, Ticket._meta.get_field(name).attname) for name in fields}


def routed(ticket: Ticket, n: int) -> Ticket:
    """A ticket as routing leaves it in memory (values set, cleared, and awkward)."""
    ticket.status = TicketStatus.QUEUED
    ticket.queued_at = AT
    ticket.updated_at = AT
    ticket.category = None if n % 2 else category("jewelry")
    ticket.queue = queue("jewelry")
    ticket.intent = "refund"
    ticket.signals = [TRICKY[n % len(TRICKY)], {"repeat_contact": n}]
    ticket.priority = 100 + n
    ticket.needs_category = bool(n % 2)
    ticket.handoff_requested_at = AT if n % 2 else None
    return ticket


def decision(ticket: Ticket, n: int) -> RoutingDecision:
    reason = TRICKY[n % len(TRICKY)]
    return RoutingDecision(ticket=ticket, kind=RoutingDecision.Kind.ROUTE, queue=ticket.queue, reason=reason)


def decisions_of(tickets: list[Ticket]) -> list[tuple[Any, ...]]:
    fields = ("kind", "queue_id", "agent_id", "candidates", "reason", "latency_ms", "created_at")
    return [
        RoutingDecision.objects.filter(ticket=t).values_list(*fields).get()  # exactly one each
        for t in tickets
    ]


def test_a_routed_batch_stores_each_ticket_s_values_as_save_would() -> None:
    by_batch = [routed(TicketFactory.create(signals=["old"]), n) for n in range(4)]
    by_save = [routed(TicketFactory.create(signals=["old"]), n) for n in range(4)]

    with CaptureQueriesContext(connection) as queries:
        intake._write_routes(by_batch, [decision(t, n) for n, t in enumerate(by_batch)], now=AT, latency_ms=1.5)
    fields = [f for f in intake.ROUTE_FIELDS if f != "updated_at"]  # save() stamps its own time
    for ticket in by_save:
        ticket.save(update_fields=fields)

    for mine, theirs in zip(by_batch, by_save, strict=True):
        assert stored(mine, fields) == stored(theirs, fields)
        assert stored(mine, ["updated_at"]) == {"updated_at": AT}
    expected = [("route", queue("jewelry").id, None, 0, TRICKY[n % len(TRICKY)], 1.5, AT) for n in range(4)]
    assert decisions_of(by_batch) == expected
    if connection.vendor == "postgresql":
        assert len(queries) == 1


def test_fields_routing_does_not_own_are_left_as_stored() -> None:
    ticket = TicketFactory.create(subject="戒指尺寸", order_number="JD1")
    routed(ticket, 0).subject = "changed in memory only"

    intake._write_routes([ticket], [decision(ticket, 0)], now=AT, latency_ms=0.0)

    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.subject, fresh.order_number, fresh.status) == ("戒指尺寸", "JD1", TicketStatus.QUEUED)


def test_classification_decisions_are_stored_as_bulk_create_would() -> None:
    tickets = TicketFactory.create_batch(4)
    agent = UserFactory.create()

    def batch(by: Callable[[list[ClassificationDecision]], object]) -> list[tuple[Any, ...]]:
        made = [
            ClassificationDecision(
                ticket=t,
                category=None if n % 2 else category("jewelry"),
                predicted_slug="jewelry",
                method="model",
                confidence=n / 3,
                model_version=TRICKY[n],
                intent="refund",
                signals=[TRICKY[n], {"n": n}],
                latency_ms=n / 2,
                decided_by=agent if n == 3 else None,
                created_at=AT,
            )
            for n, t in enumerate(tickets)
        ]
        before = set(ClassificationDecision.objects.values_list("pk", flat=True))
        by(made)
        rows = ClassificationDecision.objects.exclude(pk__in=before).order_by("ticket_id")
        return [tuple(v for k, v in row.items() if k != "id") for row in rows.values()]

    assert batch(record_decisions) == batch(ClassificationDecision.objects.bulk_create)


def test_recording_no_decisions_runs_no_query() -> None:
    with CaptureQueriesContext(connection) as queries:
        record_decisions([])
    assert len(queries) == 0


# Assignment: the batch through the one statement against the same batch through the ORM.


def assign(ticket_count: int, write: Callable[[list[assignment.Pick]], object]) -> dict[str, Any]:
    """Give `ticket_count` waiting tickets (one a handoff) to two agents, through `write`."""
    agents = [AgentFactory.create(user=UserFactory.create(), capacity=10, skills=["jewelry"]) for _ in range(2)]
    jewelry = category("jewelry")
    tickets = [
        TicketFactory.create(status=TicketStatus.QUEUED, category=jewelry, queue=jewelry.queue, queued_at=AT)
        for _ in range(ticket_count)
    ]
    tickets[0].handoff_requested_at = AT
    Ticket.objects.filter(pk=tickets[0].pk).update(handoff_requested_at=AT)
    picks = [
        assignment.Pick(t, agents[n % 2].pk, agents[n % 2].user_id, SHORT[n % len(SHORT)], n + 1)
        for n, t in enumerate(tickets)
    ]
    with time_machine.travel(AT, tick=False), transaction.atomic():
        write(picks)
    fields = ["status", "assigned_agent", "first_assigned_at", "handoff_requested_at", "handoff_assigned_at"]
    users = {a.user_id: n for n, a in enumerate(agents)}  # which of the two, not their ids
    return {
        "tickets": [
            {k: (users[v] if k == "assigned_agent" else v) for k, v in stored(t, fields).items()} for t in tickets
        ],
        "assignments": [
            (users[agent_id], reason, ended_at, end_reason)
            for agent_id, reason, ended_at, end_reason in Assignment.objects.filter(ticket__in=tickets)
            .order_by("ticket_id")
            .values_list("agent_id", "reason", "ended_at", "end_reason")
        ],
        "agents": [
            (active, last is not None)
            for active, last in AgentProfile.objects.filter(pk__in=[a.pk for a in agents])
            .order_by("pk")
            .values_list("active_ticket_count", "last_assigned_at")
        ],
        "decisions": [
            (kind, queue_id, users[agent_id], candidates, reason)
            for kind, queue_id, agent_id, candidates, reason in RoutingDecision.objects.filter(ticket__in=tickets)
            .order_by("ticket_id")
            .values_list("kind", "queue_id", "agent_id", "candidates", "reason")
        ],
    }


def by_orm(picks: list[assignment.Pick]) -> None:
    for pick in picks:  # what _write_assignments does to the instances before it writes
        pick.ticket.status = TicketStatus.ASSIGNED
        pick.ticket.assigned_agent_id = pick.agent_user_id
        pick.ticket.first_assigned_at = pick.ticket.updated_at = AT
        if pick.ticket.handoff_requested_at:
            pick.ticket.handoff_assigned_at = AT
    assignment._write_assignments_by_orm(picks, now=AT, latency_ms=0.0)


def test_an_assignment_batch_stores_the_same_rows_as_the_orm(postgres: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        one_statement = assign(5, lambda picks: assignment._write_assignments(picks, started=None))
    through_orm = assign(5, by_orm)

    assert one_statement == through_orm
    assert one_statement["agents"] == [(3, True), (2, True)]
    assert one_statement["tickets"][0]["handoff_assigned_at"] is not None
    assert [t["handoff_assigned_at"] for t in one_statement["tickets"][1:]] == [None] * 4
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith("WITH")]
    assert len(writes) == 1


def test_an_assignment_batch_that_breaks_a_constraint_writes_nothing() -> None:
    agent = AgentFactory.create(user=UserFactory.create(), capacity=10, skills=["jewelry"])
    jewelry = category("jewelry")
    ticket = TicketFactory.create(status=TicketStatus.QUEUED, category=jewelry, queue=jewelry.queue, queued_at=AT)
    other = TicketFactory.create(status=TicketStatus.QUEUED, category=jewelry, queue=jewelry.queue, queued_at=AT)
    Assignment.objects.create(ticket=ticket, agent_id=agent.user_id, reason="routing")  # already active

    with pytest.raises(IntegrityError), transaction.atomic():
        assignment._write_assignments(
            [
                assignment.Pick(other, agent.pk, agent.user_id, "routing", 1),
                assignment.Pick(ticket, agent.pk, agent.user_id, "routing", 1),
            ],
            started=None,
        )

    assert Ticket.objects.get(pk=other.pk).status == TicketStatus.QUEUED
    assert AgentProfile.objects.get(pk=agent.pk).active_ticket_count == 0
    assert not RoutingDecision.objects.filter(ticket__in=[ticket, other]).exists()
    assert Assignment.objects.filter(ticket=other).count() == 0
