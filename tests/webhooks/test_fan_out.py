"""Routing writes one row per event; the fan-out on the webhooks queue makes each endpoint's
delivery from it. No event is lost however late its transaction commits, none is delivered twice
however often the fan-out runs, a lost kick is recovered by the sweep, and an endpoint created
after an event does not receive it."""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from core.events import Event, emit_many
from cxconsole.celery import app as celery_app
from tests.helpers import wait_for
from webhooks import fanout
from webhooks.delivery import sweep_due_deliveries
from webhooks.fanout import BUSY_RETRY_SECONDS, fan_out, fan_out_batch
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db


def _emit(ticket_id: int, step: int = 0) -> None:
    with transaction.atomic():
        emit_many([Event("ticket.queued", {"ticket_id": ticket_id, "step": step}, ticket_id=ticket_id)])


def _delivered_tickets(endpoint: WebhookEndpoint) -> list[int | None]:
    return list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id").values_list("ticket_id", flat=True))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_committed_after_a_later_one_was_fanned_out_still_reaches_the_endpoint(
    endpoint_for: Callable[..., WebhookEndpoint], postgres: None
) -> None:
    """A long transaction takes its event's number first and commits last: a cursor on the
    number would have moved past it."""
    endpoint = endpoint_for("http://127.0.0.1:9/a")
    written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def long_transaction() -> None:
        try:
            with transaction.atomic():
                emit_many([Event("ticket.queued", {"ticket_id": 1}, ticket_id=1)])
                written.set()
                assert release.wait(30)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    slow = threading.Thread(target=long_transaction)
    slow.start()
    assert written.wait(30)
    _emit(2)  # numbered after ticket 1's event, committed before it
    assert fan_out().events == 1
    assert _delivered_tickets(endpoint) == [2]

    release.set()
    slow.join(30)
    assert errors == []
    assert fan_out().events == 1

    assert _delivered_tickets(endpoint) == [2, 1]
    assert not WebhookEvent.objects.filter(fanned_out_at__isnull=True).exists()


def test_fanning_out_again_makes_no_second_delivery(endpoint_for: Callable[..., WebhookEndpoint]) -> None:
    first, second = endpoint_for("http://127.0.0.1:9/a"), endpoint_for("http://127.0.0.1:9/b")
    for ticket in (1, 2, 3):
        _emit(ticket)

    assert (fan_out().deliveries, fan_out().deliveries) == (6, 0)
    # Even events marked as not fanned out (a run that died after its insert, were that possible)
    # get no second row: one delivery per endpoint and event is a constraint.
    WebhookEvent.objects.update(fanned_out_at=None)
    assert fan_out_batch() == (3, 0, set())

    assert _delivered_tickets(first) == _delivered_tickets(second) == [1, 2, 3]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_fan_outs_at_once_make_each_delivery_once_in_event_order(
    endpoint_for: Callable[..., WebhookEndpoint], postgres: None
) -> None:
    endpoints = [endpoint_for(f"http://127.0.0.1:9/{n}") for n in range(3)]
    with transaction.atomic():
        emit_many(
            [Event("ticket.queued", {"ticket_id": t, "step": s}, ticket_id=t) for s in range(4) for t in range(1, 31)]
        )
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            while (batch := fan_out_batch(batch_size=7)) is not None and batch.events:
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert WebhookDelivery.objects.count() == 3 * 120
    assert not WebhookDelivery.objects.values("endpoint", "event").annotate(n=Count("id")).filter(n__gt=1).exists()
    for endpoint in endpoints:
        for ticket in range(1, 31):
            steps = (
                WebhookDelivery.objects.filter(endpoint=endpoint, ticket_id=ticket)
                .order_by("id")
                .values_list("event__data__step", flat=True)
            )
            assert list(steps) == [0, 1, 2, 3]


def _waiting_for_an_advisory_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)")
        row = cursor.fetchone()
    return bool(row and row[0])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_fan_out_waits_for_one_still_open_so_no_ticket_shows_a_later_event_before_an_earlier_one(
    endpoint_for: Callable[..., WebhookEndpoint], postgres: None
) -> None:
    """The one-at-a-time lock, held still: run A has fanned out every ticket's first event and not
    committed yet; run B must not fan out (and commit) the second events meanwhile, or a delivery
    run could send a ticket's second event before its first one exists."""
    endpoint = endpoint_for("http://127.0.0.1:9/a")
    with transaction.atomic():
        emit_many(
            [Event("ticket.queued", {"ticket_id": t, "step": s}, ticket_id=t) for s in range(2) for t in (1, 2, 3)]
        )
    a_open, release_a, b_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run_a() -> None:
        try:
            with transaction.atomic():
                assert fan_out_batch(batch_size=3) == (3, 3, {endpoint.pk})  # the first events
                a_open.set()
                assert release_a.wait(30)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    def run_b() -> None:
        try:
            fan_out_batch(batch_size=3)
            b_done.set()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    a, b = threading.Thread(target=run_a), threading.Thread(target=run_b)
    a.start()
    try:
        assert a_open.wait(30)
        b.start()
        wait_for(lambda: b_done.is_set() or _waiting_for_an_advisory_lock(), timeout=30, interval=0.01)
        # What a delivery run could see now: nothing, rather than the second events alone.
        visible = sorted(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event__data__step", flat=True))
        assert visible == []
        assert not b_done.is_set()
    finally:
        release_a.set()
        a.join(30)
        b.join(30)
    assert errors == []
    fan_out()
    for ticket in (1, 2, 3):
        steps = (
            WebhookDelivery.objects.filter(ticket_id=ticket).order_by("id").values_list("event__data__step", flat=True)
        )
        assert list(steps) == [0, 1]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_fan_out_finding_another_at_work_does_not_wait_and_looks_again_shortly(
    endpoint_for: Callable[..., WebhookEndpoint], postgres: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither a delivery run nor a second fan-out holds a webhook worker waiting for the lock;
    the fan-out kicks a successor, so what the busy run misses is not left for the sweep."""
    sent: list[tuple[str, object]] = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, *a, **options: sent.append((name, options.get("countdown")))
    )
    endpoint_for("http://127.0.0.1:9/a")
    _emit(1)
    holding, release = threading.Event(), threading.Event()

    def fan_out_held_open() -> None:
        try:
            with transaction.atomic():
                fan_out_batch()
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    other = threading.Thread(target=fan_out_held_open)
    other.start()
    try:
        assert holding.wait(30)
        assert fan_out_batch(wait=False) is None  # the other run has it (and kicks its endpoints)
        sent.clear()
        paused: list[float] = []
        monkeypatch.setattr(fanout.time, "sleep", paused.append)
        assert fan_out().events == 0
        assert paused == [BUSY_RETRY_SECONDS]  # a moment for the other run to finish, then
        assert sent == [("webhooks.fan_out", None)]  # a successor (no Celery countdown)
    finally:
        release.set()
        other.join(30)
    assert WebhookDelivery.objects.count() == 1


def test_the_sweep_fans_out_events_whose_kick_was_lost(endpoint_for: Callable[..., WebhookEndpoint]) -> None:
    endpoint = endpoint_for("http://127.0.0.1:9/a")
    _emit(1)  # its kick goes nowhere (a test transaction never commits)

    assert sweep_due_deliveries() == 0  # a fresh event is left to its kick
    with time_machine.travel(timezone.now() + timedelta(seconds=10), tick=True):
        assert sweep_due_deliveries() == 1  # fanned out, and its endpoint kicked

    assert _delivered_tickets(endpoint) == [1]


def test_an_endpoint_created_after_an_event_does_not_receive_it(
    endpoint_for: Callable[..., WebhookEndpoint],
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        old = endpoint_for("http://127.0.0.1:9/old")
        _emit(1)
    with time_machine.travel(start + timedelta(seconds=1), tick=False):
        new = endpoint_for("http://127.0.0.1:9/new")
        _emit(2)
        fan_out()

    assert _delivered_tickets(old) == [1, 2]
    assert _delivered_tickets(new) == [2]


def test_an_endpoint_disabled_before_the_fan_out_gets_no_row(endpoint_for: Callable[..., WebhookEndpoint]) -> None:
    kept, disabled = endpoint_for("http://127.0.0.1:9/a"), endpoint_for("http://127.0.0.1:9/b")
    _emit(1)
    WebhookEndpoint.objects.filter(pk=disabled.pk).update(disabled_at=timezone.now())

    fan_out()

    assert (_delivered_tickets(kept), _delivered_tickets(disabled)) == ([1], [])
