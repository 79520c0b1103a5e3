"""A real `celery worker` delivering webhooks is killed (SIGKILL) mid-batch: nothing is lost.
The group it was sending rolls back and goes again from another worker, so the receiver may see
an event twice — always with the same id and body, which is how it deduplicates."""

from collections.abc import Callable, Iterator

import pytest

from cxconsole.celery import app as celery_app
from tests.helpers import wait_for
from tests.webhooks.receiver import Receiver, serve
from tickets.services import ShopperDetails, open_ticket
from webhooks.delivery import GROUP_SIZE
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def slow_receiver() -> Iterator[Receiver]:
    yield from serve(Receiver(delay=0.02))  # ~50 requests/s: a group of 50 takes about a second


def test_killing_the_delivering_worker_mid_batch_loses_no_event(
    start_worker: Callable[..., object],
    slow_receiver: Receiver,
    endpoint_for: Callable[..., WebhookEndpoint],
) -> None:
    n = 150
    endpoint_for(slow_receiver.url, ["ticket.created"])
    for i in range(n):
        open_ticket(shopper=ShopperDetails(external_id=f"u-{i}"), channel="chat", body="戒指能换尺寸吗", language="zh")
    assert WebhookEvent.objects.count() == n  # one outbox row each; the worker fans them out
    first = start_worker(queues=["webhooks"], concurrency=1)
    celery_app.signature("webhooks.sweep").apply_async()  # in case the kicks came before the worker

    wait_for(lambda: len(slow_receiver.requests) >= 30, timeout=60, interval=0.01)
    first.kill()  # type: ignore[attr-defined]  # the start_worker fixture is annotated as returning object
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() < n  # really mid-way

    start_worker(queues=["webhooks"], concurrency=1)

    def swept_and_all_delivered() -> bool:
        celery_app.signature("webhooks.sweep").apply_async()  # the beat, every few seconds
        return WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == n

    wait_for(swept_and_all_delivered, timeout=120, interval=1.0)

    received = slow_receiver.requests
    ids = {r.envelope["id"] for r in received}
    assert ids == {str(pk) for pk in WebhookEvent.objects.values_list("uuid", flat=True)}  # every event arrived
    by_id: dict[str, bytes] = {}
    for request in received:
        assert by_id.setdefault(request.envelope["id"], request.body) == request.body  # a duplicate is identical
    # The group in flight goes again, nothing more: its requests the receiver had taken in full
    # arrive twice (none, when the kill fell between one group's commit and the next one's sends).
    duplicates = len(received) - len(ids)
    assert 0 <= duplicates <= GROUP_SIZE
