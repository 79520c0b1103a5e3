"""update_statements and insert_statements write many rows in one go, storing exactly what save()
would;
select_rows and select_values read what the ORM would read
(core.bulk)."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from core.bulk import (
    insert_statements,
    prep_value,
    select_rows,
    select_values,
    update_statements,
    write,
)
from routing.models import RoutingDecision
from tests.factories import TicketFactory, UserFactory, category, queue
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

QUEUED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
FIELDS = ["status", "queue", "category", "signals", "priority", "queued_at", "assigned_agent", "order_amount"]


def stored(ticket: Ticket, fields: list[str] = FIELDS) -> dict[str, Any]:
    fresh = Ticket.objects.get(pk=ticket.pk)
    return {name: getattr(fresh, Ticket._meta.get_field(name).attname) for name in fields}


def change(ticket: Ticket, n: int) -> None:
    ticket.status = "queued"
    ticket.queue = queue("jewelry")
    ticket.category = None  # a value that was set, cleared
    ticket.signals = ["negative_sentiment", {"repeat_contact": n}]
    ticket.priority = 100 + n
    ticket.queued_at = QUEUED_AT
    ticket.assigned_agent = None
    ticket.order_amount = Decimal(f"{n}.50")


def expected(n: int) -> dict[str, Any]:
    return {
        "status": "queued",
        "queue": queue("jewelry").id,
        "category": None,
        "signals": ["negative_sentiment", {"repeat_contact": n}],
        "priority": 100 + n,
        "queued_at": QUEUED_AT,
        "assigned_agent": None,
        "order_amount": Decimal(f"{n}.50"),
    }


def test_it_stores_each_row_s_own_values_as_save_would() -> None:
    tickets = [TicketFactory(category=category("jewelry"), signals=["old"]) for _ in range(4)]
    by_save = TicketFactory(category=category("jewelry"), signals=["old"])
    for n, ticket in enumerate([*tickets, by_save]):
        change(ticket, n)

    write(update_statements(tickets, FIELDS))
    by_save.save(update_fields=FIELDS)

    assert [stored(ticket) for ticket in tickets] == [expected(n) for n in range(4)]
    assert stored(by_save) == expected(4)  # the same representation, through save()


def test_it_sets_a_foreign_key_given_as_object_or_as_id() -> None:
    ana = UserFactory(username="ana")
    by_object, by_id = TicketFactory(status="queued"), TicketFactory(status="queued")
    by_object.assigned_agent = ana
    by_id.assigned_agent_id = ana.id

    write(update_statements([by_object, by_id], ["assigned_agent"]))

    assert list(Ticket.objects.filter(assigned_agent=ana).order_by("pk")) == [by_object, by_id]


def test_fields_not_listed_are_left_as_stored() -> None:
    ticket = TicketFactory(subject="戒指尺寸", priority=0)
    ticket.subject = "changed in memory only"
    ticket.priority = 100

    write(update_statements([ticket], ["priority"]))

    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.subject, fresh.priority) == ("戒指尺寸", 100)


def test_other_tickets_are_untouched() -> None:
    changed, bystander = TicketFactory(), TicketFactory()
    changed.priority = 100

    write(update_statements([changed], ["priority"]))

    assert Ticket.objects.get(pk=bystander.pk).priority == 0


def test_a_batch_is_one_statement_whatever_its_size() -> None:
    tickets = [TicketFactory() for _ in range(25)]
    for n, ticket in enumerate(tickets):
        change(ticket, n)

    with CaptureQueriesContext(connections["default"]) as queries:
        write(update_statements(tickets, FIELDS))

    assert len(queries) == 1
    assert sorted(Ticket.objects.values_list("priority", flat=True)) == [100 + n for n in range(25)]


def test_an_empty_batch_touches_nothing() -> None:
    with CaptureQueriesContext(connections["default"]) as queries:
        write(update_statements([], FIELDS))
    assert len(queries) == 0


def test_inserted_rows_hold_what_save_would_store_defaults_included() -> None:
    tickets = TicketFactory.create_batch(3)
    jewelry = queue("jewelry")
    rows = [
        RoutingDecision(ticket=t, kind=RoutingDecision.Kind.ROUTE, queue=jewelry, reason=f"r{n}", latency_ms=n / 2)
        for n, t in enumerate(tickets)
    ]
    with CaptureQueriesContext(connections["default"]) as captured:
        write(insert_statements(rows))
    assert len(captured.captured_queries) == 1  # one statement for the whole batch
    saved = RoutingDecision(ticket=tickets[0], kind=RoutingDecision.Kind.ROUTE, queue=jewelry, reason="r0")
    saved.save()
    stored_rows = list(
        RoutingDecision.objects.exclude(pk=saved.pk)
        .order_by("reason")
        .values_list("ticket_id", "kind", "queue_id", "agent_id", "candidates", "reason", "latency_ms")
    )
    assert stored_rows == [(t.id, "route", jewelry.id, None, 0, f"r{n}", n / 2) for n, t in enumerate(tickets)]
    assert RoutingDecision.objects.exclude(pk=saved.pk).filter(created_at__isnull=True).count() == 0  # default set


def test_inserting_nothing_runs_no_query() -> None:
    with CaptureQueriesContext(connections["default"]) as captured:
        write(insert_statements([]))
    assert captured.captured_queries == []


def test_select_rows_builds_the_instances_the_orm_builds() -> None:
    jewelry = category("jewelry")
    tickets = [
        TicketFactory(category=jewelry, signals=["repeat_contact"], order_amount=Decimal("12.50"), queued_at=QUEUED_AT)
        for _ in range(3)
    ]
    ids = [t.pk for t in tickets]

    rows = select_rows(
        Ticket,
        where=f"{{id}} IN ({', '.join(['%s'] * len(ids))})",
        params=ids,
        order_by="{id} DESC",
        limit=2,
        skip_locked=True,
    )

    by_orm = list(Ticket.objects.filter(pk__in=ids).order_by("-id")[:2])
    assert [t.pk for t in rows] == [t.pk for t in by_orm]
    for mine, theirs in zip(rows, by_orm, strict=True):
        assert {f.attname: getattr(mine, f.attname) for f in Ticket._meta.concrete_fields} == {
            f.attname: getattr(theirs, f.attname) for f in Ticket._meta.concrete_fields
        }
        assert not mine._state.adding and mine._state.db == "default"


def test_select_values_converts_values_as_values_list_does() -> None:
    ticket = TicketFactory(queued_at=QUEUED_AT, signals=["a", {"b": 1}])

    rows = select_values(
        Ticket,
        ["queued_at", "signals", "shopper_id"],
        where="{id} = %s AND {queued_at} >= %s",
        params=[ticket.pk, prep_value(Ticket, "queued_at", QUEUED_AT)],
    )

    assert rows == [list(Ticket.objects.filter(pk=ticket.pk).values_list("queued_at", "signals", "shopper_id")[0])]


def test_write_applies_every_batch_and_on_postgresql_in_one_round_trip() -> None:
    tickets = [TicketFactory(category=category("jewelry")) for _ in range(3)]
    for n, ticket in enumerate(tickets):
        change(ticket, n)
    agent = UserFactory()
    decisions = [
        RoutingDecision(ticket=t, kind=RoutingDecision.Kind.ROUTE, queue=queue("jewelry"), agent=agent, reason="r")
        for t in tickets
    ]
    connection = connections["default"]

    with CaptureQueriesContext(connection) as queries:
        write(update_statements(tickets, FIELDS), insert_statements(decisions))

    if connection.vendor == "postgresql":
        assert len(queries) == 1
    for n, ticket in enumerate(tickets):
        assert stored(ticket) == expected(n)
    assert RoutingDecision.objects.filter(ticket__in=tickets, agent=agent).count() == 3


def test_text_that_looks_like_placeholders_or_quotes_is_stored_as_given() -> None:
    """Values travel apart from the statement's text (server-side binding on PostgreSQL): a value
    holding %s, $1 or quotes is data, never SQL."""
    ticket = TicketFactory()
    tricky = ["50%s off? $1 or $2", 'it\'s "broken"; DROP TABLE x; --', "%%", ""]
    decisions = [
        RoutingDecision(ticket=ticket, kind=RoutingDecision.Kind.ROUTE, queue=queue("jewelry"), reason=text)
        for text in tricky
    ]
    ticket.subject = "%s $1 '"

    write(insert_statements(decisions), update_statements([ticket], ["subject"]))

    assert sorted(RoutingDecision.objects.filter(ticket=ticket).values_list("reason", flat=True)) == sorted(tricky)
    assert Ticket.objects.get(pk=ticket.pk).subject == "%s $1 '"


def test_a_failing_batch_raises_django_s_error_and_writes_nothing() -> None:
    from django.db import IntegrityError, transaction

    ticket = TicketFactory()
    good = RoutingDecision(ticket=ticket, kind=RoutingDecision.Kind.ROUTE, queue=queue("jewelry"), reason="ok")
    bad = RoutingDecision(ticket=ticket, kind=None, reason="a decision of no kind")  # NOT NULL

    with pytest.raises(IntegrityError), transaction.atomic():
        write(insert_statements([good]), insert_statements([bad]))

    assert not RoutingDecision.objects.filter(ticket=ticket).exists()
