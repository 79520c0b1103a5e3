"""The storefront hears every ticket event: signed, in order per ticket, retried when its
receiver fails for a while, never for a change that rolled back."""

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from routing.services import dispatch_queue, route_new_tickets
from tests.factories import AgentFactory, UserFactory, queue_id_of
from tests.webhooks.receiver import Receiver
from tickets.models import Ticket
from tickets.services import OrderSnapshot, ShopperDetails, open_ticket
from webhooks.delivery import deliver_endpoint, sweep_due_deliveries
from webhooks.fanout import fan_out
from webhooks.models import AttemptOutcome, DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.signing import SignatureError, verify_signature

pytestmark = pytest.mark.django_db


def inquiry(body: str = "我的戒指尺寸偏大，想换小一号", external_id: str = "u-1") -> Ticket:
    return open_ticket(
        shopper=ShopperDetails(external_id=external_id),
        channel="chat",
        body=body,
        language="zh",
        order=OrderSnapshot(number="JD1", product_category="jewelry"),
    ).ticket


def test_every_request_is_signed_and_the_receiver_verifies_it(
    receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    endpoint = endpoint_for(receiver.url)
    ticket = inquiry()

    summary = deliver_endpoint(endpoint_id=endpoint.pk)

    assert summary.delivered == 1
    (request,) = receiver.requests
    assert verify_signature("whsec_test", request.body, request.headers["X-CX-Signature"]) > 0
    envelope = request.envelope
    assert envelope["type"] == "ticket.created"
    assert envelope["version"] == 1
    assert envelope["id"] == request.headers["X-CX-Event-Id"]
    assert envelope["data"]["ticket_id"] == ticket.pk
    assert envelope["data"]["status"] == "new"
    assert envelope["data"]["shopper"] == "u-1"
    with pytest.raises(SignatureError):
        verify_signature("whsec_test", request.body.replace(b"new", b"old"), request.headers["X-CX-Signature"])
    with pytest.raises(SignatureError):
        verify_signature("another-secret", request.body, request.headers["X-CX-Signature"])
    with pytest.raises(SignatureError):  # a captured request replayed later than the tolerance
        verify_signature("whsec_test", request.body, request.headers["X-CX-Signature"], now=time.time() + 600)


def test_a_500_then_a_200_gives_one_delivery_after_one_retry(
    receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    endpoint = endpoint_for(receiver.url)
    receiver.script = [500]
    inquiry()

    first = deliver_endpoint(endpoint_id=endpoint.pk)
    assert (first.delivered, first.retried) == (0, 1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at > timezone.now()  # backoff: not at once
    assert deliver_endpoint(endpoint_id=endpoint.pk).delivered == 0  # not due yet

    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=True):
        assert sweep_due_deliveries() == 1
        second = deliver_endpoint(endpoint_id=endpoint.pk)

    assert second.delivered == 1
    assert len(receiver.requests) == 2
    assert receiver.envelopes[0]["id"] == receiver.envelopes[1]["id"]  # the same event, once more
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    attempts = list(delivery.attempt_log.order_by("number"))
    assert [(a.status_code, a.outcome) for a in attempts] == [
        (500, AttemptOutcome.RETRY),
        (200, AttemptOutcome.DELIVERED),
    ]
    assert "receiver says no" in attempts[0].response_excerpt
    assert all(a.latency_ms >= 0 for a in attempts)


def test_a_400_is_not_retried(receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]) -> None:
    endpoint = endpoint_for(receiver.url)
    receiver.script = [400]
    inquiry()

    summary = deliver_endpoint(endpoint_id=endpoint.pk)
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
        assert sweep_due_deliveries() == 0
        deliver_endpoint(endpoint_id=endpoint.pk)

    assert summary.failed == 1
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.FAILED, 400)


@pytest.mark.parametrize("status", [408, 429, 503])
def test_a_timeout_status_a_rate_limit_or_a_server_error_is_retried(
    status: int, receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    endpoint = endpoint_for(receiver.url)
    receiver.script = [status]
    inquiry()

    deliver_endpoint(endpoint_id=endpoint.pk)
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=True):
        deliver_endpoint(endpoint_id=endpoint.pk)

    assert len(receiver.requests) == 2
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_a_receiver_that_times_out_is_retried_and_rests_without_holding_the_run(
    receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint], settings: object
) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2  # type: ignore[attr-defined]  # the settings fixture is annotated as object
    endpoint = endpoint_for(receiver.url)
    receiver.delay = 1.0
    for n in range(5):
        inquiry(external_id=f"u-{n}")

    started = time.monotonic()
    summary = deliver_endpoint(endpoint_id=endpoint.pk)

    assert time.monotonic() - started < 1.0  # one timeout, then the endpoint rests: not five
    assert (summary.retried, summary.stopped) == (1, "unwell")
    endpoint.refresh_from_db()
    assert endpoint.paused_until is not None and endpoint.paused_until > timezone.now()
    assert "timeout" in WebhookDelivery.objects.order_by("id").first().last_error
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, attempts=0).count() == 4


def test_events_of_one_ticket_arrive_in_the_order_they_happened(
    receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    AgentFactory(user=UserFactory(username="ana"), skills=["jewelry"])
    endpoint = endpoint_for(receiver.url)
    receiver.script = [500]  # the first event fails: everything after it for that ticket waits
    ticket = inquiry()
    route_new_tickets()
    dispatch_queue(queue_id=queue_id_of("jewelry"))

    deliver_endpoint(endpoint_id=endpoint.pk)
    assert receiver.types == ["ticket.created"]  # refused; the later events were not sent past it
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=True):
        deliver_endpoint(endpoint_id=endpoint.pk)

    assert receiver.types == [
        "ticket.created",
        "ticket.created",
        "ticket.classified",
        "ticket.queued",
        "ticket.assigned",
    ]
    assigned = receiver.envelopes[-1]["data"]
    assert assigned["ticket_id"] == ticket.pk
    assert assigned["status"] == "assigned"
    assert assigned["queue"] == "jewelry"
    assert assigned["agent_id"] is not None


def test_a_rolled_back_change_emits_nothing(receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]) -> None:
    endpoint = endpoint_for(receiver.url)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        inquiry()
        assert WebhookEvent.objects.count() == 1  # written with the change...
        raise Abort

    assert WebhookEvent.objects.count() == 0  # ...and gone with it
    assert WebhookDelivery.objects.count() == 0
    deliver_endpoint(endpoint_id=endpoint.pk)
    assert receiver.requests == []


def test_an_endpoint_gets_only_the_types_it_subscribed_to(
    receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    AgentFactory(user=UserFactory(username="ana"), skills=["jewelry"])
    endpoint = endpoint_for(receiver.url, ["ticket.assigned"])
    inquiry()
    route_new_tickets()
    dispatch_queue(queue_id=queue_id_of("jewelry"))

    deliver_endpoint(endpoint_id=endpoint.pk)

    assert receiver.types == ["ticket.assigned"]


def test_without_endpoints_an_event_costs_no_query(django_assert_num_queries: DjangoAssertNumQueries) -> None:
    from core.events import Event, emit_many

    emit_many([Event("ticket.queued", {"ticket_id": 1}, ticket_id=1)])  # fills the endpoint cache
    with django_assert_num_queries(0):
        emit_many([Event("ticket.queued", {"ticket_id": n}, ticket_id=n) for n in range(100)])
    assert WebhookEvent.objects.count() == 0


def test_an_endpoint_that_keeps_failing_is_disabled(
    receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint], settings: object
) -> None:
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3  # type: ignore[attr-defined]  # the settings fixture is annotated as object
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 1  # type: ignore[attr-defined]  # the settings fixture is annotated as object
    endpoint = endpoint_for(receiver.url)
    receiver.script = [503] * 10
    inquiry()

    start = timezone.now()
    for minutes in (0, 40, 80):  # three failures in a row, spanning more than an hour
        with time_machine.travel(start + timedelta(minutes=minutes), tick=True):
            deliver_endpoint(endpoint_id=endpoint.pk)

    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert "3 failed attempts in a row" in endpoint.disabled_reason
    assert len(receiver.requests) == 3
    inquiry(external_id="u-2")  # a disabled endpoint records nothing new
    assert WebhookDelivery.objects.count() == 1
    with time_machine.travel(start + timedelta(hours=3), tick=True):
        assert sweep_due_deliveries() == 0  # and sends nothing


def _emit_lines(tickets: int, per_ticket: int) -> None:
    from core.events import Event, emit_many

    types = ["ticket.created", "ticket.classified", "ticket.queued", "ticket.assigned"]
    with transaction.atomic():
        emit_many(
            [
                Event(types[n], {"ticket_id": t, "step": n}, ticket_id=t)
                for n in range(per_ticket)
                for t in range(1, tickets + 1)
            ]
        )


def test_different_tickets_are_in_flight_together_and_each_ticket_keeps_its_order(
    receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint], settings: object
) -> None:
    settings.WEBHOOK_CONCURRENCY = 4  # type: ignore[attr-defined]  # the settings fixture is annotated as object
    endpoint = endpoint_for(receiver.url)
    receiver.delay = 0.05  # a receiver that takes its time: only overlapping requests keep up
    _emit_lines(tickets=6, per_ticket=3)

    summary = deliver_endpoint(endpoint_id=endpoint.pk)

    assert summary.delivered == 18
    assert 1 < receiver.most_in_flight <= 4
    steps: dict[int, list[int]] = {}
    for envelope in receiver.envelopes:
        steps.setdefault(envelope["data"]["ticket_id"], []).append(envelope["data"]["step"])
    assert steps == {t: [0, 1, 2] for t in range(1, 7)}
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 18
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}


def test_a_failing_ticket_holds_only_its_own_line_while_others_go_on(
    receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint], settings: object
) -> None:
    # One sender, so the script's answers meet known requests: ticket 1's two events, then
    # ticket 2's first, refused with a 503.
    settings.WEBHOOK_CONCURRENCY = 1  # type: ignore[attr-defined]  # the settings fixture is annotated as object
    endpoint = endpoint_for(receiver.url)
    _emit_lines(tickets=5, per_ticket=2)
    receiver.script = [200, 200, 503]

    summary = deliver_endpoint(endpoint_id=endpoint.pk)

    assert (summary.delivered, summary.retried) == (8, 1)
    held = list(WebhookDelivery.objects.filter(ticket_id=2).order_by("id"))
    assert [row.status for row in held] == [DeliveryStatus.PENDING, DeliveryStatus.PENDING]
    assert [row.attempts for row in held] == [1, 0]  # its second event waits behind the first


def test_a_delivered_group_is_booked_in_one_statement(
    receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint], postgres: None
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    endpoint = endpoint_for(receiver.url)
    _emit_lines(tickets=10, per_ticket=2)
    fan_out()  # the rows exist before the run, as when the fan-out task made them

    with CaptureQueriesContext(connection) as queries:
        deliver_endpoint(endpoint_id=endpoint.pk)

    # The run's own fan-out first (nothing left to fan out here), then the group's bookkeeping.
    sqls = [
        q["sql"] for q in queries.captured_queries if "webhooks_webhookevent AS e SET fanned_out_at" not in q["sql"]
    ]
    writes = [sql for sql in sqls if sql.split()[0] in ("UPDATE", "INSERT", "WITH")]
    assert len(writes) == 1, writes  # rows, attempt log and the endpoint's success together
    assert not [sql for sql in sqls if "FOR UPDATE" in sql and "webhooks_webhookendpoint" in sql]
    assert "webhooks_webhookattempt" in writes[0] and "webhooks_webhookendpoint" in writes[0]
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 20
    endpoint.refresh_from_db()
    assert endpoint.last_success_at is not None and endpoint.consecutive_failures == 0
