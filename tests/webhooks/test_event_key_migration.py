"""A database from before events were keyed by seq migrates with nothing lost: every event keeps
its envelope id (receivers deduplicate resends of old events by it), every delivery and its
attempt log still belong to the same event, and events written afterwards are numbered after
the old ones and fanned out as usual."""

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.events import Event, emit_many
from webhooks.fanout import fan_out
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("webhooks", "0002_event_fan_out")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader sees what is applied now


@pytest.fixture
def old_schema() -> Iterator[MigrationExecutor]:
    executor = _migrate(BEFORE)
    try:
        yield executor
    finally:
        _migrate(executor.loader.graph.leaf_nodes())  # the other tests' schema, whatever happened


def test_events_keep_their_ids_and_deliveries_their_events_when_the_key_becomes_seq(
    old_schema: MigrationExecutor,
) -> None:
    apps = old_schema.loader.project_state(BEFORE).apps
    User = apps.get_model("auth", "User")
    Endpoint = apps.get_model("webhooks", "WebhookEndpoint")
    OldEvent = apps.get_model("webhooks", "WebhookEvent")
    OldDelivery = apps.get_model("webhooks", "WebhookDelivery")
    OldAttempt = apps.get_model("webhooks", "WebhookAttempt")
    now = timezone.now()
    client = User.objects.create(username="storefront-web")
    endpoints = [
        Endpoint.objects.create(client=client, url=f"http://127.0.0.1:9/{n}", event_types=["*"], created_at=now)
        for n in (1, 2)
    ]
    ids = [uuid.uuid4() for _ in range(4)]
    for n, pk in enumerate(ids):
        # seq from its sequence on PostgreSQL; SQLite's writer numbered the rows itself
        extra = {} if connection.vendor == "postgresql" else {"seq": n + 1}
        OldEvent.objects.create(
            id=pk,
            type="ticket.queued",
            ticket_id=10 + n,
            data={"ticket_id": 10 + n},
            created_at=now + timedelta(seconds=n),
            fanned_out_at=None if n == 3 else now,  # the last one still waits for its fan-out
            **extra,
        )
    old_seq = dict(OldEvent.objects.values_list("id", "seq"))
    for event_id in ids[:3]:
        for endpoint in endpoints:
            OldDelivery.objects.create(
                event_id=event_id,
                endpoint=endpoint,
                ticket_id=OldEvent.objects.get(id=event_id).ticket_id,
                give_up_at=now + timedelta(hours=24),
            )
    tried = OldDelivery.objects.get(event_id=ids[1], endpoint=endpoints[1])
    OldAttempt.objects.create(delivery=tried, number=1, started_at=now, latency_ms=3.0, outcome="retry")
    old_links = {(d.pk, d.endpoint_id): d.event_id for d in OldDelivery.objects.all()}

    _migrate(old_schema.loader.graph.leaf_nodes())

    events = {e.uuid: e for e in WebhookEvent.objects.all()}
    assert set(events) == set(ids)  # every envelope id kept
    assert {pk: events[pk].seq for pk in ids} == old_seq  # and its place in the order
    assert events[ids[2]].data == {"ticket_id": 12}
    links = {(d.pk, d.endpoint_id): d.event.uuid for d in WebhookDelivery.objects.select_related("event")}
    assert links == old_links  # each delivery still points at its own event
    assert WebhookAttempt.objects.get().delivery.event.uuid == ids[1]

    with transaction.atomic():
        emit_many([Event("ticket.assigned", {"ticket_id": 20}, ticket_id=20)])
    new = WebhookEvent.objects.get(ticket_id=20)
    assert new.seq > max(old_seq.values())  # numbered after every old event
    assert new.uuid not in events

    fan_out()  # the old event left waiting and the new one, by their new key
    assert WebhookDelivery.objects.filter(event__uuid=ids[3]).count() == 2
    assert WebhookDelivery.objects.filter(event=new).count() == 2
