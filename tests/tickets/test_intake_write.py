"""The intake write stores shopper, ticket and first message together: one statement on
PostgreSQL, three in a transaction elsewhere, with the same rows and the same shopper merge rule
either way (tickets.intake_write)."""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connections
from django.test.utils import CaptureQueriesContext

from core import events
from cxconsole.celery import app as celery_app
from tests.factories import UserFactory
from tests.helpers import service_missing
from tickets.intake_write import insert_inquiry
from tickets.models import Message, Shopper, Ticket
from tickets.services import ShopperDetails, open_ticket

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

Write = Callable[..., tuple[Shopper, Ticket, Message]]


def build(
    external_id: str,
    *,
    name: str = "",
    phone: str = "",
    email: str = "",
    language: str = "zh",
    time_zone: str = "",
    body: str = "戒指尺寸偏大，能换小一号吗？",
    key: str | None = None,
    client: Any = None,
) -> tuple[Shopper, Ticket, Message]:
    """The three unsaved rows, as tickets.services.open_ticket builds them."""
    shopper = Shopper(
        external_id=external_id,
        name=name,
        phone=phone,
        email=email,
        language=language,
        **({"time_zone": time_zone} if time_zone else {}),
        created_at=NOW,
    )
    ticket = Ticket(
        channel="order_page",
        subject="戒指尺寸",
        body=body,
        language=language,
        client=client,
        idempotency_key=key,
        request_fingerprint="f" * 64,
        created_at=NOW,
        tracking_nonce="same-nonce-for-comparing-rows",
        order_number="JD2026112500001",
        order_product_category="jewelry",
        order_amount=Decimal("3299.00"),
        order_currency="CNY",
        order_paid=True,
    )
    return shopper, ticket, Message(author_kind="shopper", body=body, created_at=NOW)


@contextmanager
def path_of(name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """ "cte": PostgreSQL's one statement; "sequential": the three-statement path (what SQLite
    runs), forced on PostgreSQL by making the function see another vendor."""
    conn = connections["default"]
    with monkeypatch.context() as patch:
        if name == "sequential" and conn.vendor == "postgresql":
            patch.setattr(conn, "vendor", "sqlite")
        yield


def writer_for(name: str, monkeypatch: pytest.MonkeyPatch) -> Write:
    def write(external_id: str, **details: Any) -> tuple[Shopper, Ticket, Message]:
        shopper, ticket, message = build(external_id, **details)
        with path_of(name, monkeypatch), time_machine.travel(NOW, tick=False):
            insert_inquiry(shopper, ticket, message, time_zone_given=bool(details.get("time_zone")))
        return shopper, ticket, message

    return write


@pytest.fixture(params=["cte", "sequential"])
def write(request: pytest.FixtureRequest, db: None, monkeypatch: pytest.MonkeyPatch) -> Write:
    if request.param == "cte" and connections["default"].vendor != "postgresql":
        service_missing("the one-statement intake write needs PostgreSQL: set DATABASE_URL=postgres://...")
    return writer_for(request.param, monkeypatch)


def shopper_row(external_id: str) -> Mapping[str, object]:
    return Shopper.objects.values("name", "phone", "email", "language", "time_zone").get(external_id=external_id)


def test_it_stores_the_shopper_the_ticket_and_the_first_message_linked(write: Write) -> None:
    shopper, ticket, message = write("u-1001", name="王芳", phone="+8613800138000", email="wang.fang@example.com")

    stored = Ticket.objects.select_related("shopper").get()
    assert (stored.id, stored.shopper.id) == (ticket.id, shopper.id)
    assert stored.shopper.external_id == "u-1001"
    assert (stored.status, stored.priority, stored.signals, stored.needs_category) == ("new", 0, [], False)
    assert (stored.order_amount, stored.order_paid, stored.order_shipped) == (Decimal("3299.00"), True, None)
    assert stored.created_at == NOW and stored.updated_at == NOW
    first = Message.objects.get()
    assert (first.ticket_id, first.author_kind, first.body, first.created_at) == (
        ticket.id,
        "shopper",
        ticket.body,
        NOW,
    )
    assert ticket.shopper_id == shopper.id and message.ticket_id == ticket.id
    # A new shopper without a time zone gets the default.
    assert shopper_row("u-1001")["time_zone"] == "Asia/Shanghai"


def test_the_first_message_knows_its_id_after_the_write(write: Write) -> None:
    _, _, message = write("u-1001")
    assert message.id == Message.objects.get().id


def test_a_returning_shopper_keeps_what_we_know_and_takes_fresh_details(write: Write) -> None:
    first, _, _ = write(
        "u-1001", name="王芳", phone="+8613800138000", email="wang@example.com", language="zh", time_zone="Europe/Paris"
    )

    # Blanks never erase; fresh details win; the language is this inquiry's; no time zone given: kept.
    again, ticket, _ = write("u-1001", name="", phone="+8613900139000", email="", language="en")
    assert shopper_row("u-1001") == {
        "name": "王芳",
        "phone": "+8613900139000",
        "email": "wang@example.com",
        "language": "en",
        "time_zone": "Europe/Paris",
    }
    assert again.id == first.id and ticket.shopper_id == first.id

    write("u-1001", name="Fang Wang", language="zh", time_zone="Asia/Tokyo")
    assert shopper_row("u-1001") == {
        "name": "Fang Wang",
        "phone": "+8613900139000",
        "email": "wang@example.com",
        "language": "zh",
        "time_zone": "Asia/Tokyo",
    }
    assert Shopper.objects.count() == 1
    assert list(Ticket.objects.values_list("shopper_id", flat=True)) == [first.id] * 3
    assert Message.objects.count() == 3


def test_an_idempotency_key_collision_raises_and_writes_nothing(write: Write) -> None:
    storefront = UserFactory(username="storefront")
    write("u-1001", name="王芳", phone="+8613800138000", key="order-1", client=storefront)
    before = shopper_row("u-1001")

    with pytest.raises(IntegrityError):
        write(
            "u-1001",
            name="Other",
            phone="+8613900139000",
            language="en",
            time_zone="Asia/Tokyo",
            key="order-1",
            client=storefront,
        )
    with pytest.raises(IntegrityError):
        write("u-new", name="Newcomer", key="order-1", client=storefront)

    assert shopper_row("u-1001") == before
    assert list(Shopper.objects.values_list("external_id", flat=True)) == ["u-1001"]
    assert (Ticket.objects.count(), Message.objects.count()) == (1, 1)
    # The transaction around the write is still usable: the next inquiry goes in.
    write("u-1001", key="order-2", client=storefront)
    assert Ticket.objects.count() == 2


def scenario(write: Write, external_id: str) -> None:
    write(external_id, name="王芳", phone="+8613800138000", email="wang@example.com", time_zone="Europe/Paris")
    write(external_id, name="", phone="+8613900139000", language="en", body="Still waiting for the ring")
    write(f"{external_id}-b", language="en", body="Where is my order?")


def rows(external_id: str) -> dict[str, list[dict[str, Any]]]:
    """Everything stored for a shopper (and its sibling "-b"), without ids and external ids."""
    shoppers = Shopper.objects.filter(external_id__startswith=external_id).order_by("external_id")
    tickets = Ticket.objects.filter(shopper__in=shoppers).order_by("id")
    messages = Message.objects.filter(ticket__in=tickets).order_by("id")
    return {
        "shoppers": [{k: v for k, v in row.items() if k not in ("id", "external_id")} for row in shoppers.values()],
        "tickets": [{k: v for k, v in row.items() if k not in ("id", "shopper_id")} for row in tickets.values()],
        "messages": [{k: v for k, v in row.items() if k not in ("id", "ticket_id")} for row in messages.values()],
    }


def test_on_postgresql_both_paths_store_identical_rows(postgres: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with CaptureQueriesContext(connections["default"]) as cte:
        scenario(writer_for("cte", monkeypatch), "u-cte")
    with CaptureQueriesContext(connections["default"]) as sequential:
        scenario(writer_for("sequential", monkeypatch), "u-seq")

    # Each path really ran: three writes as one WITH statement each, or as three INSERTs each.
    assert [q["sql"].split()[0] for q in cte.captured_queries if "SAVEPOINT" not in q["sql"]] == ["WITH"] * 3
    assert [q["sql"].split()[0] for q in sequential.captured_queries if "SAVEPOINT" not in q["sql"]] == ["INSERT"] * 9

    one_statement, three_statements = rows("u-cte"), rows("u-seq")
    assert len(one_statement["tickets"]) == 3 and len(one_statement["shoppers"]) == 2
    assert one_statement == three_statements


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_on_postgresql_a_new_inquiry_is_one_query(postgres: None, monkeypatch: pytest.MonkeyPatch) -> None:
    shopper, ticket, message = build("u-1001", name="王芳")
    with CaptureQueriesContext(connections["default"]) as direct:
        insert_inquiry(shopper, ticket, message, time_zone_given=False)
    assert len(direct) == 1, [q["sql"] for q in direct.captured_queries]

    # The whole intake service, routing kick included (the kick costs no query).
    published: list[str] = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, *a, **k: published.append(name))
    events.wanted("ticket.created")  # the outboxes' subscription caches are warm, as in a running process
    with CaptureQueriesContext(connections["default"]) as service:
        result = open_ticket(shopper=ShopperDetails(external_id="u-1002"), channel="chat", body="还没发货")
    assert len(service) == 1, [q["sql"] for q in service.captured_queries]
    assert result.created and Ticket.objects.filter(pk=result.ticket.pk, shopper__external_id="u-1002").exists()
    assert published == ["routing.route_new_tickets"]


def test_on_postgresql_inside_a_transaction_it_is_still_one_statement(postgres: None) -> None:
    shopper, ticket, message = build("u-1001")
    with CaptureQueriesContext(connections["default"]) as queries:
        insert_inquiry(shopper, ticket, message, time_zone_given=False)
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_on_postgresql_a_collision_outside_a_transaction_writes_nothing(postgres: None) -> None:
    storefront = UserFactory(username="storefront")
    shopper, ticket, message = build("u-1001", name="王芳", key="order-1", client=storefront)
    insert_inquiry(shopper, ticket, message, time_zone_given=False)

    retry = build("u-1001", name="Other", language="en", time_zone="Asia/Tokyo", key="order-1", client=storefront)
    with pytest.raises(IntegrityError):
        insert_inquiry(*retry, time_zone_given=True)

    assert shopper_row("u-1001") == {
        "name": "王芳",
        "phone": "",
        "email": "",
        "language": "zh",
        "time_zone": "Asia/Shanghai",
    }
    assert (Ticket.objects.count(), Message.objects.count()) == (1, 1)
