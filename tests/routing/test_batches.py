"""Routing and assignment work in batches: a batch of 30 tickets costs the database no more
queries than a batch of 3, and live screens get one hint per queue, not one per ticket."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cxconsole.celery import app as celery_app
from routing.models import Assignment, RoutingDecision
from routing.services import dispatch_queue, route_new_tickets
from teams.models import AgentProfile
from tests.factories import AgentFactory, TicketFactory, UserFactory, category, queue_id_of
from tickets.events import ticket_changed
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db

# Order categories the storefront sent: each decides the ticket's queue.
MIX = ["jewelry", "maternal_baby", "fresh_food"]


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list]]:
    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args=None, kwargs=None, **kw: sent.append((name, list(args or [])))
    )
    return sent


@pytest.fixture
def hints() -> Iterator[list[dict]]:
    """The ticket_changed notifications live screens receive."""
    received: list[dict] = []

    def listen(sender: object, **kwargs: object) -> None:
        received.append(kwargs)

    ticket_changed.connect(listen, dispatch_uid="test-batch-hints")
    yield received
    ticket_changed.disconnect(dispatch_uid="test-batch-hints")


@pytest.fixture
def jewelry_team(db: None) -> list[AgentProfile]:
    """Three jewelry specialists with room for plenty of tickets."""
    return [
        AgentFactory.create(user=UserFactory.create(username=name), capacity=40, languages=["zh"], skills=["jewelry"])
        for name in ("ana", "bo", "cy")
    ]


def new_tickets(count: int, categories: list[str] = MIX) -> list[Ticket]:
    return [TicketFactory.create(order_product_category=categories[n % len(categories)]) for n in range(count)]


def waiting_tickets(count: int) -> list[Ticket]:
    jewelry = category("jewelry")
    queued_at = timezone.now() - timedelta(minutes=5)
    return [
        TicketFactory.create(status=TicketStatus.QUEUED, category=jewelry, queue=jewelry.queue, queued_at=queued_at)
        for _ in range(count)
    ]


def queries_to_route(count: int) -> int:
    tickets = new_tickets(count)
    with CaptureQueriesContext(connections["default"]) as queries:
        assert route_new_tickets(batch_size=100) == count
    assert not Ticket.objects.filter(pk__in=[t.pk for t in tickets], status=TicketStatus.NEW).exists()
    return len(queries)


def queries_to_dispatch(count: int) -> int:
    tickets = waiting_tickets(count)
    with CaptureQueriesContext(connections["default"]) as queries:
        assert dispatch_queue(queue_id=queue_id_of("jewelry")) == count
    assert Ticket.objects.filter(pk__in=[t.pk for t in tickets], status=TicketStatus.ASSIGNED).count() == count
    return len(queries)


def test_routing_30_new_tickets_takes_no_more_queries_than_routing_3() -> None:
    # First use: the text model loads (slow: the categories cached before it may expire), then
    # every category is cached; the runs compared below are each well inside the cache's lifetime.
    queries_to_route(1)
    queries_to_route(len(MIX))

    assert queries_to_route(3) == queries_to_route(30)


def test_a_routed_batch_puts_every_ticket_in_its_queue_with_a_decision() -> None:
    tickets = new_tickets(9)

    assert route_new_tickets(batch_size=100) == 9

    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets]).select_related("category"):
        assert ticket.status == TicketStatus.QUEUED
        assert ticket.category.slug == ticket.order_product_category
        assert ticket.queue_id == ticket.category.queue_id
        assert ticket.queued_at is not None
    assert RoutingDecision.objects.filter(kind=RoutingDecision.Kind.ROUTE).count() == 9


def test_a_routing_run_takes_at_most_its_batch_oldest_first() -> None:
    tickets = new_tickets(5)

    assert route_new_tickets(batch_size=3) == 3

    still_new = Ticket.objects.filter(status=TicketStatus.NEW).order_by("pk")
    assert list(still_new) == tickets[3:]


def test_dispatching_30_waiting_tickets_takes_no_more_queries_than_dispatching_3(
    jewelry_team: list[AgentProfile],
) -> None:
    queries_to_dispatch(3)  # first use: per-process caches (the queue, its categories) fill here

    assert queries_to_dispatch(3) == queries_to_dispatch(30)
    loads = sorted(AgentProfile.objects.values_list("active_ticket_count", flat=True))
    assert loads == [12, 12, 12]  # 36 tickets shared evenly
    assert Assignment.objects.filter(ended_at__isnull=True).count() == 36


def test_routing_a_batch_sends_one_hint_and_one_dispatch_kick_per_queue(
    hints: list[dict], published: list, django_capture_on_commit_callbacks
) -> None:
    tickets = new_tickets(12)

    with django_capture_on_commit_callbacks(execute=True):
        route_new_tickets(batch_size=100)

    queue_ids = {queue_id_of(slug) for slug in MIX}
    assert len(queue_ids) == 3
    assert sorted(h["queue_id"] for h in hints) == sorted(queue_ids)
    assert {(h["kind"], h["status"]) for h in hints} == {("status", TicketStatus.QUEUED)}
    assert {h["ticket_id"] for h in hints} <= {t.pk for t in tickets}
    assert sorted(args[0] for name, args in published if name == "routing.dispatch_queue") == sorted(queue_ids)
    assert [name for name, _ in published if name != "routing.dispatch_queue"] == []


def test_a_batch_of_one_queue_sends_one_hint_however_many_tickets(
    hints: list[dict], published: list, django_capture_on_commit_callbacks
) -> None:
    new_tickets(20, categories=["jewelry"])

    with django_capture_on_commit_callbacks(execute=True):
        route_new_tickets(batch_size=100)

    assert [h["queue_id"] for h in hints] == [category("jewelry").queue_id]


def test_dispatching_a_batch_sends_one_hint_naming_every_agent_who_got_work(
    jewelry_team: list[AgentProfile], hints: list[dict], published: list, django_capture_on_commit_callbacks
) -> None:
    waiting_tickets(6)

    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_queue(queue_id=queue_id_of("jewelry")) == 6

    assert len(hints) == 1
    (hint,) = hints
    assert hint["queue_id"] == category("jewelry").queue_id
    assert hint["status"] == TicketStatus.ASSIGNED
    assert hint["agent_ids"] == sorted(agent.user_id for agent in jewelry_team)


def test_a_dispatch_run_that_reaches_its_limit_kicks_a_successor(
    jewelry_team: list[AgentProfile],
    published: list[tuple[str, list]],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
) -> None:
    from routing import tasks

    monkeypatch.setattr("routing.services.intake.DISPATCH_LIMIT", 4)
    monkeypatch.setattr("routing.services.assignment.DISPATCH_LIMIT", 4)
    waiting_tickets(6)
    queue = category("jewelry").queue

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.dispatch_queue(queue.id) == 4
    assert published == [("routing.dispatch_queue", [queue.id])]  # the two left are not stranded
    assert Ticket.objects.filter(status=TicketStatus.QUEUED).count() == 2


def test_a_ticket_whose_words_ask_for_a_person_is_assigned_by_the_routing_run_itself(
    jewelry_team: list[AgentProfile], published: list[tuple[str, list]], django_capture_on_commit_callbacks
) -> None:
    asks = TicketFactory.create(order_product_category="jewelry", body="转人工！戒指尺寸不对", language="zh")
    waits = TicketFactory.create(order_product_category="jewelry", body="戒指尺寸偏大，想换小一号", language="zh")

    with django_capture_on_commit_callbacks(execute=True):
        assert route_new_tickets() == 2

    asks.refresh_from_db()
    waits.refresh_from_db()
    assert asks.status == TicketStatus.ASSIGNED and asks.handoff_assigned_at is not None  # no hop
    assert waits.status == TicketStatus.QUEUED  # served by its queue's dispatch run, which was kicked
    assert ("routing.dispatch_queue", [waits.queue_id]) in published


def test_a_dispatch_run_reads_past_a_head_of_line_nobody_present_can_take(jewelry_team) -> None:
    """60 English tickets at the head (the team speaks Chinese) fill more than one batch: the run
    pages past them (keyset on priority, queued_at, id) to the Chinese tickets behind."""
    jewelry = category("jewelry")
    start = timezone.now() - timedelta(minutes=30)

    def waiting(language: str, seconds: int) -> Ticket:
        return TicketFactory.create(
            status=TicketStatus.QUEUED,
            category=jewelry,
            queue=jewelry.queue,
            language=language,
            queued_at=start + timedelta(seconds=seconds),
        )

    english = [waiting("en", n) for n in range(60)]
    chinese = [waiting("zh", 600 + n) for n in range(3)]

    assert dispatch_queue(queue_id=jewelry.queue.id) == 3

    assert set(Ticket.objects.filter(status=TicketStatus.ASSIGNED).values_list("pk", flat=True)) == {
        t.pk for t in chinese
    }
    assert not Ticket.objects.filter(pk__in=[t.pk for t in english], status=TicketStatus.ASSIGNED).exists()
    counts = dict(AgentProfile.objects.values_list("user__username", "active_ticket_count"))
    assert counts == {"ana": 1, "bo": 1, "cy": 1}  # most free capacity first: one each
