"""An event's envelope id (what receivers deduplicate by) is a UUID that begins with the time it
was written (UUIDv7), so the index that finds events by it grows at one end like the seq key —
whichever writer recorded it: a service's transaction or intake's single statement."""

import time
import uuid
from collections.abc import Callable

import pytest
from django.db import transaction

from core.events import Event, emit_many
from tickets.services import ShopperDetails, open_ticket
from webhooks.models import WebhookEndpoint, WebhookEvent, new_event_uuid

pytestmark = pytest.mark.django_db


def _millis(event_id: uuid.UUID) -> int:
    return int(event_id.hex[:12], 16)


def test_every_writer_gives_its_events_distinct_uuids_that_begin_with_the_time(
    endpoint_for: Callable[..., WebhookEndpoint],
) -> None:
    endpoint_for("http://127.0.0.1:9/a")
    before = time.time_ns() // 1_000_000
    with transaction.atomic():
        emit_many([Event("ticket.queued", {"ticket_id": t}, ticket_id=t) for t in (1, 2, 3)])
    open_ticket(shopper=ShopperDetails(external_id="u-1"), channel="chat", body="戒指能换尺寸吗", language="zh")
    after = time.time_ns() // 1_000_000

    ids = list(WebhookEvent.objects.order_by("seq").values_list("uuid", flat=True))
    assert len(ids) == 4 and len(set(ids)) == 4
    for event_id in ids:
        assert (event_id.version, event_id.variant) == (7, uuid.RFC_4122)
        assert before <= _millis(event_id) <= after
    assert [_millis(i) for i in ids] == sorted(_millis(i) for i in ids)  # in the order they were written


def test_the_python_maker_used_by_the_orm_and_sqlite_makes_the_same_kind() -> None:
    made = [new_event_uuid() for _ in range(200)]
    assert len(set(made)) == 200
    assert {(u.version, u.variant) for u in made} == {(7, uuid.RFC_4122)}
    assert {u.hex[16] for u in made} <= set("89ab")
