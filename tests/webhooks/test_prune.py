"""The outbox does not grow for ever: events past the retention that nobody still has to send go,
with their deliveries and attempt log; anything still pending stays, however old."""

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from core.events import Event, emit_many
from tests.webhooks.receiver import Receiver
from webhooks.delivery import deliver_endpoint
from webhooks.fanout import fan_out
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services import prune_outbox

pytestmark = pytest.mark.django_db


def _emit(tickets: range) -> None:
    with transaction.atomic():
        emit_many([Event("ticket.queued", {"ticket_id": t}, ticket_id=t) for t in tickets])


def test_old_delivered_events_go_with_their_log_and_pending_ones_stay(
    receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint], settings: object
) -> None:
    settings.WEBHOOK_RETENTION_DAYS = 14  # type: ignore[attr-defined]  # the settings fixture is annotated as object
    start = timezone.now() - timedelta(days=20)
    with time_machine.travel(start, tick=False):
        delivered_to, dead = endpoint_for(receiver.url), endpoint_for("http://127.0.0.1:9/nobody-listens")
        _emit(range(1, 6))  # five old events, for both endpoints
    deliver_endpoint(endpoint_id=delivered_to.pk)
    WebhookDelivery.objects.filter(endpoint=dead, event__ticket_id__in=[1, 2]).update(status=DeliveryStatus.FAILED)
    _emit(range(100, 103))  # recent: kept whatever their state
    deliver_endpoint(endpoint_id=delivered_to.pk)
    assert WebhookAttempt.objects.count() == 8

    pruned = prune_outbox(batch_size=1)  # capped batches: one event each

    assert pruned == 2  # tickets 1 and 2: delivered to one endpoint, failed for good at the other
    assert sorted(t for t in WebhookEvent.objects.values_list("ticket_id", flat=True) if t is not None) == [
        3,
        4,
        5,
        100,
        101,
        102,
    ]
    assert not WebhookDelivery.objects.filter(ticket_id__in=[1, 2]).exists()
    assert not WebhookAttempt.objects.filter(delivery__ticket_id__in=[1, 2]).exists()
    # Still pending at the dead endpoint: kept, and still sent once it is back.
    assert WebhookDelivery.objects.filter(endpoint=dead, status=DeliveryStatus.PENDING).count() == 6
    assert prune_outbox() == 0  # a second run finds nothing more


def test_a_run_stops_after_its_batches_and_the_next_one_goes_on(
    endpoint_for: Callable[..., WebhookEndpoint],
) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=30), tick=False):
        endpoint = endpoint_for("http://127.0.0.1:9/x")
        _emit(range(1, 8))
    fan_out()
    WebhookDelivery.objects.filter(endpoint=endpoint).update(status=DeliveryStatus.DELIVERED)

    assert prune_outbox(batch_size=2, max_batches=2) == 4
    assert prune_outbox(batch_size=2, max_batches=2) == 3
    assert WebhookEvent.objects.count() == 0
