"""Domain events reach every subscriber in the emitter's transaction, as one batch."""

from collections.abc import Iterator, Sequence

import pytest
from django.db import transaction

from core import events
from core.events import Event, emit, emit_many, subscribe, unsubscribe


@pytest.fixture
def received() -> Iterator[list[list[Event]]]:
    batches: list[list[Event]] = []
    subscribe("test", lambda batch: batches.append(list(batch)))
    yield batches
    unsubscribe("test")


@pytest.mark.django_db  # the apps' own subscribers (outboxes) hear the batch too
def test_a_batch_reaches_the_subscriber_once_in_order(received: list[list[Event]]) -> None:
    emit_many([Event("ticket.queued", {"id": 1}, ticket_id=1), Event("ticket.assigned", {"id": 1}, ticket_id=1)])
    assert [[e.type for e in batch] for batch in received] == [["ticket.queued", "ticket.assigned"]]


@pytest.mark.django_db
def test_an_empty_batch_calls_nobody(received: list[list[Event]]) -> None:
    emit_many([])
    assert received == []


@pytest.mark.django_db
def test_a_failing_subscriber_rolls_the_change_back() -> None:
    from teams.models import Category

    def refuse(batch: Sequence[Event]) -> None:
        raise RuntimeError("outbox unavailable")

    subscribe("refuse", refuse)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            Category.objects.filter(slug="jewelry").update(name_en="Changed")
            emit("ticket.created", data={"id": 1}, ticket_id=1)
    finally:
        unsubscribe("refuse")
    assert Category.objects.get(slug="jewelry").name_en == "Jewelry"
    assert "refuse" not in events.subscriber_names()
