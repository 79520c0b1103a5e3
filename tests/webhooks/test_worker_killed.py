"""A real `celery worker` delivering webhooks is killed (SIGKILL) mid-send: nothing is lost. The
group it was sending rolls back and goes again from another worker, so the receiver sees some
events twice — always with the same id and body, which is how it deduplicates.

The kill always lands mid-send: the receiver holds one request unanswered until the worker is
dead, and a group commits only once every request of it has been answered (the worker's timeout
is set far beyond the test's wait, so the held request cannot time out instead)."""

from collections.abc import Callable, Iterator

import pytest

from cxconsole.celery import app as celery_app
from tests.helpers import wait_for
from tests.webhooks.receiver import Receiver, serve
from tickets.services import ShopperDetails, open_ticket
from webhooks.delivery import GROUP_SIZE
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HELD_REQUEST = 30  # inside the first group of GROUP_SIZE


@pytest.fixture
def holding_receiver() -> Iterator[Receiver]:
    receiver = Receiver(hold_at=HELD_REQUEST)
    try:
        yield from serve(receiver)
    finally:
        receiver.release.set()


def test_killing_the_delivering_worker_mid_send_loses_no_event_and_resends_the_group(
    start_worker: Callable[..., object],
    holding_receiver: Receiver,
    endpoint_for: Callable[..., WebhookEndpoint],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    n = 2 * GROUP_SIZE
    endpoint_for(holding_receiver.url, ["ticket.created"])
    for i in range(n):
        open_ticket(shopper=ShopperDetails(external_id=f"u-{i}"), channel="chat", body="戒指能换尺寸吗", language="zh")
    assert WebhookEvent.objects.count() == n  # one outbox row each; the worker fans them out
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "600")  # the held request waits for the kill, not a timeout
    first = start_worker(queues=["webhooks"], concurrency=1)
    celery_app.signature("webhooks.sweep").apply_async()  # in case the kicks came before the worker

    assert holding_receiver.held.wait(timeout=120)  # a bound for a broken run, not a timing
    first.kill()  # type: ignore[attr-defined]  # the start_worker fixture is annotated as returning object
    held = holding_receiver.held_request
    assert held is not None
    # The group it belonged to rolled back: still to send, although the receiver has its body.
    assert WebhookDelivery.objects.get(event__uuid=held.envelope["id"]).status == DeliveryStatus.PENDING
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() < HELD_REQUEST
    holding_receiver.release.set()

    start_worker(queues=["webhooks"], concurrency=1)

    def swept_and_all_delivered() -> bool:
        celery_app.signature("webhooks.sweep").apply_async()  # the beat, every few seconds
        return WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == n

    wait_for(swept_and_all_delivered, timeout=120, interval=0.5)

    received = holding_receiver.requests
    ids = {r.envelope["id"] for r in received}
    assert ids == {str(pk) for pk in WebhookEvent.objects.values_list("uuid", flat=True)}  # every event arrived
    by_id: dict[str, bytes] = {}
    for request in received:
        assert by_id.setdefault(request.envelope["id"], request.body) == request.body  # a duplicate is identical
    # The group in flight went again, and nothing more: the held request at least, and every
    # other request of its group that the receiver had taken in full.
    assert sum(r.envelope["id"] == held.envelope["id"] for r in received) == 2
    assert 1 <= len(received) - len(ids) <= GROUP_SIZE
