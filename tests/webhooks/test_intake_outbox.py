"""ticket.created is written by intake's own statement on PostgreSQL: the storefront hears every
new inquiry, and intake still costs one round trip with endpoints subscribed."""

from collections.abc import Callable, Iterator, Sequence

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from core import events
from core.events import Event, StatementId
from cxconsole.celery import app as celery_app
from tickets.models import Message
from tickets.services import ShopperDetails, open_ticket
from webhooks import outbox
from webhooks.fanout import fan_out
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.usefixtures("postgres")


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[object, ...]]]:
    sent: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args=None, *rest, **k: sent.append((name, tuple(args or ())))
    )
    monkeypatch.setattr(outbox, "_last_kick", {})
    return sent


@pytest.fixture
def listener() -> Iterator[list[Event]]:
    """A subscriber that can only hear events in a transaction (no inline recorder)."""
    heard: list[Event] = []

    def hear(batch: Sequence[Event]) -> None:
        heard.extend(batch)

    events.subscribe("test-listener", hear, wants=lambda type: type == "ticket.created")
    yield heard
    events.unsubscribe("test-listener")


def _open(external_id: str = "u-1", key: str | None = None) -> int:
    result = open_ticket(
        shopper=ShopperDetails(external_id=external_id), channel="chat", body="还没发货", idempotency_key=key
    )
    return result.ticket.pk


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_two_endpoints_a_new_inquiry_is_still_one_query_and_each_endpoint_is_told(
    endpoint_for: Callable[..., WebhookEndpoint], published: list[tuple[str, tuple[object, ...]]]
) -> None:
    first, second = endpoint_for("http://127.0.0.1:9/a"), endpoint_for("http://127.0.0.1:9/b")
    outbox.subscriptions()  # the endpoint cache is warm, as in a running web process

    with CaptureQueriesContext(connections["default"]) as queries:
        ticket_id = _open()

    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    event = WebhookEvent.objects.get()
    message_id = Message.objects.get(ticket_id=ticket_id).pk
    assert (event.type, event.ticket_id) == ("ticket.created", ticket_id)
    assert event.data["ticket_id"] == ticket_id
    assert event.data["message_id"] == message_id
    assert event.data["shopper"] == "u-1"
    assert not WebhookDelivery.objects.exists()  # nothing per endpoint on the hot path
    # Routing and the one fan-out are kicked once the statement has committed.
    assert sorted(published) == [("routing.route_new_tickets", ()), ("webhooks.fan_out", ())]

    fan_out()  # what that task does, on the webhooks queue

    assert sorted(WebhookDelivery.objects.filter(event=event).values_list("endpoint_id", "ticket_id")) == [
        (first.pk, ticket_id),
        (second.pk, ticket_id),
    ]
    assert sorted(published[2:]) == [("webhooks.deliver", (first.pk,)), ("webhooks.deliver", (second.pk,))]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_replayed_inquiry_records_no_second_event(
    endpoint_for: Callable[..., WebhookEndpoint], published: list[tuple[str, tuple[object, ...]]], storefront: object
) -> None:
    endpoint_for("http://127.0.0.1:9/a")
    first = open_ticket(
        shopper=ShopperDetails(external_id="u-1"),
        channel="chat",
        body="还没发货",
        client=storefront,  # type: ignore[arg-type]  # the storefront fixture is annotated as object
        idempotency_key="k-1",
    )
    again = open_ticket(
        shopper=ShopperDetails(external_id="u-1"),
        channel="chat",
        body="还没发货",
        client=storefront,  # type: ignore[arg-type]  # the storefront fixture is annotated as object
        idempotency_key="k-1",
    )

    assert (first.created, again.created, again.ticket.pk) == (True, False, first.ticket.pk)
    fan_out()
    assert WebhookEvent.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db
def test_a_subscriber_without_an_inline_recorder_hears_it_in_the_intake_transaction(
    endpoint_for: Callable[..., WebhookEndpoint], listener: list[Event]
) -> None:
    endpoint_for("http://127.0.0.1:9/a")

    ticket_id = _open()

    assert [(e.type, e.ticket_id) for e in listener] == [("ticket.created", ticket_id)]
    assert WebhookEvent.objects.get().data["ticket_id"] == ticket_id  # the webhook row too, the usual way


@pytest.mark.django_db
def test_a_rolled_back_intake_leaves_no_inline_event(endpoint_for: Callable[..., WebhookEndpoint]) -> None:
    endpoint_for("http://127.0.0.1:9/a")

    with pytest.raises(RuntimeError), transaction.atomic():
        _open()
        assert WebhookEvent.objects.count() == 1
        raise RuntimeError("the caller's transaction fails after intake")

    fan_out()
    assert (WebhookEvent.objects.count(), WebhookDelivery.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_statement_parts_say_nobody_wants_it_or_who_cannot_fold_it(
    endpoint_for: Callable[..., WebhookEndpoint], listener: list[Event]
) -> None:
    created = Event("ticket.created", {"ticket_id": StatementId("ticket")}, ticket_id=StatementId("ticket"))
    refs = {"ticket": "(SELECT 1)"}
    events.unsubscribe("test-listener")
    assert events.statement_parts([created], refs) == []  # no endpoint: nothing to fold in

    endpoint_for("http://127.0.0.1:9/a", ["ticket.created"])
    (part,) = events.statement_parts([created], refs)  # type: ignore[misc]  # None only with a subscriber that cannot record inline
    assert "wh_events" in part.ctes and "webhookdelivery" not in part.ctes and part.after_commit is not None

    events.subscribe("test-listener", listener.extend, wants=lambda type: True)
    assert events.statement_parts([created], refs) is None  # that one needs a transaction


@pytest.mark.django_db
def test_the_endpoints_per_event_type_are_cached_until_an_endpoint_is_saved_or_deleted(
    endpoint_for: Callable[..., WebhookEndpoint], django_assert_num_queries: object
) -> None:
    """Intake and routing ask which endpoints want each event they record: the answer is kept per
    event type and dropped however an endpoint changes (a service, the admin's plain save, a
    delete); a delivery attempt's counters keep it."""
    rated = endpoint_for("http://127.0.0.1:9/ratings", ["rating.created"])
    assert outbox.subscriptions().targets("rating.created") == (rated.pk,)
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert outbox.subscriptions().targets("ticket.created") == ()
        assert not outbox.wants("ticket.created")

    every = WebhookEndpoint.objects.create(client=rated.client, url="http://127.0.0.1:9/all", event_types=["*"])
    assert outbox.subscriptions().targets("ticket.created") == (every.pk,)
    assert outbox.wants("ticket.created")

    warm = outbox.subscriptions()
    every.consecutive_failures = 3
    every.save(update_fields=["consecutive_failures"])
    assert outbox.subscriptions() is warm

    every.event_types = ["ticket.resolved"]
    every.save(update_fields=["event_types"])
    assert outbox.subscriptions().targets("ticket.created") == ()
    assert outbox.subscriptions().targets("ticket.resolved") == (every.pk,)

    rated.delete()
    assert outbox.subscriptions().targets("rating.created") == ()
