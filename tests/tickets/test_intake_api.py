"""A storefront opens inquiries through the API; bad input is refused field by field."""

from typing import Any

import pytest
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from core import events
from tests.helpers import INTAKE_URL, VALID_INQUIRY, inquiry_payload, query_budget
from tickets.models import Message, Shopper, Ticket, TicketStatus


@pytest.mark.django_db
def test_it_accepts_an_inquiry_and_saves_shopper_ticket_and_first_message(
    storefront_client: APIClient, django_assert_num_queries: Any
) -> None:
    # Token, role and categories read cold; then the write, whose statement also looks for an open
    # proactive case of the order (the inquiry would join its ticket): SQLite looks on its own.
    # The outboxes' subscription caches are warm, as in a running process.
    events.wanted("ticket.created")
    with django_assert_num_queries(query_budget(postgresql=8, sqlite=11)):
        response = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json")

    assert response.status_code == 201, response.data
    ticket = Ticket.objects.get(pk=response.data["id"])
    assert response.data == {"id": ticket.id, "status": "new", "tracking_token": ticket.tracking_token}
    assert ticket.status == TicketStatus.NEW
    assert ticket.language == "zh"
    assert ticket.order_number == "JD2026112500001"
    assert str(ticket.order_amount) == "3299.00"
    assert ticket.order_paid is True
    shopper = Shopper.objects.get(external_id="u-1001")
    assert shopper.phone == "+8613800138000"  # normalized
    assert ticket.shopper == shopper
    assert list(ticket.messages.values_list("author_kind", "body")) == [("shopper", VALID_INQUIRY["body"])]


@pytest.mark.django_db
def test_it_detects_the_language_when_the_storefront_does_not_send_one(storefront_client: APIClient) -> None:
    data = inquiry_payload(shopper__language=..., body="My necklace clasp broke after a day", subject="")
    response = storefront_client.post(INTAKE_URL, data, format="json")
    assert response.status_code == 201
    assert Ticket.objects.get(pk=response.data["id"]).language == "en"


@pytest.mark.django_db
def test_a_returning_shopper_keeps_one_record_with_fresh_contact_details(storefront_client: APIClient) -> None:
    storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json")
    storefront_client.post(INTAKE_URL, inquiry_payload(shopper__phone="13900139000", shopper__email=""), format="json")
    shopper = Shopper.objects.get(external_id="u-1001")
    assert shopper.phone == "13900139000"
    assert shopper.email == "wang.fang@example.com"  # a blank never erases what we know
    assert shopper.tickets.count() == 2


BAD_FIELDS = [
    ("missing body", {"body": ...}, "body"),
    ("empty body", {"body": ""}, "body"),
    ("body too long", {"body": "啊" * 5001}, "body"),
    ("subject too long", {"subject": "x" * 201}, "subject"),
    ("unknown channel", {"channel": "pigeon"}, "channel"),
    ("unknown language", {"language": "fr"}, "language"),
    ("missing shopper", {"shopper": ...}, "shopper"),
    ("shopper without id", {"shopper__external_id": ...}, "shopper"),
    ("bad phone", {"shopper__phone": "call me maybe"}, "shopper"),
    ("phone too short", {"shopper__phone": "123"}, "shopper"),
    ("bad email", {"shopper__email": "not-an-email"}, "shopper"),
    ("bad time zone", {"shopper__time_zone": "Mars/Olympus"}, "shopper"),
    ("negative amount", {"order__amount": "-1.00"}, "order"),
    ("amount not a number", {"order__amount": "lots"}, "order"),
    ("too many decimals", {"order__amount": "1.005"}, "order"),
    ("order without number", {"order__number": ...}, "order"),
    ("unknown product category", {"order__product_category": "spaceships"}, "order"),
    ("bad currency", {"order__currency": "yuan"}, "order"),
    ("paid not a boolean", {"order__paid": "perhaps"}, "order"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "changes", "field"), BAD_FIELDS, ids=[c[0] for c in BAD_FIELDS])
def test_bad_input_gets_400_with_field_errors_and_writes_nothing(
    storefront_client: APIClient, case: str, changes: dict, field: str
) -> None:
    response = storefront_client.post(INTAKE_URL, inquiry_payload(**changes), format="json")

    assert response.status_code == 400, response.data
    assert field in response.data
    assert Ticket.objects.count() == 0
    assert Shopper.objects.count() == 0


@pytest.mark.django_db
def test_malformed_json_gets_400_not_500(storefront_client: APIClient) -> None:
    response = storefront_client.post(INTAKE_URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_a_too_long_idempotency_key_gets_400(storefront_client: APIClient) -> None:
    response = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json", HTTP_IDEMPOTENCY_KEY="k" * 129)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.data


@pytest.mark.django_db
def test_anonymous_callers_are_refused(db: None) -> None:
    response = APIClient().post(INTAKE_URL, VALID_INQUIRY, format="json")
    assert response.status_code == 401


@pytest.mark.django_db
def test_a_token_without_the_storefront_role_is_refused(storefront_client: APIClient) -> None:
    storefront_client.user.groups.clear()  # type: ignore[attr-defined]  # a test-only attribute set on the APIClient
    response = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json")
    assert response.status_code == 403


@pytest.mark.django_db
def test_intake_is_throttled_per_client(storefront_client: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "cache", LocMemCache("throttle-test", {}))
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"intake": "3/minute"})
    codes = [storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json").status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]


@pytest.mark.django_db
def test_the_shopper_sees_status_and_public_messages_with_the_tracking_token(storefront_client: APIClient) -> None:
    created = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json").data
    ticket = Ticket.objects.get(pk=created["id"])
    Message.objects.create(ticket=ticket, author_kind="agent", body="内部备注：核实库存", is_internal=True)
    Message.objects.create(ticket=ticket, author_kind="agent", body="您好，可以为您换小一号")

    shopper = APIClient()
    response = shopper.get(f"{INTAKE_URL}{ticket.id}/", {"token": created["tracking_token"]})

    assert response.status_code == 200
    assert response.data["status"] == "new"
    assert [m["body"] for m in response.data["messages"]] == [VALID_INQUIRY["body"], "您好，可以为您换小一号"]
    header = shopper.get(f"{INTAKE_URL}{ticket.id}/", HTTP_X_TRACKING_TOKEN=created["tracking_token"])
    assert header.status_code == 200


@pytest.mark.django_db
def test_a_wrong_or_missing_tracking_token_reveals_nothing(storefront_client: APIClient) -> None:
    created = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json").data
    shopper = APIClient()
    assert shopper.get(f"{INTAKE_URL}{created['id']}/", {"token": "guess"}).status_code == 404
    assert shopper.get(f"{INTAKE_URL}{created['id']}/").status_code == 404
    assert shopper.get(f"{INTAKE_URL}999999/", {"token": created["tracking_token"]}).status_code == 404


def test_when_no_database_connection_frees_up_the_storefront_is_told_to_retry(
    storefront_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ASGI process's connection pool stayed exhausted past DB_POOL_TIMEOUT: a 503 the
    storefront retries (with its idempotency key), not a 500, and nothing half-written."""
    from django.db import OperationalError
    from psycopg_pool import PoolTimeout

    from tickets import services

    def pool_exhausted(*args: object, **kwargs: object) -> None:
        raise OperationalError("couldn't get a connection") from PoolTimeout(
            "couldn't get a connection after 10.00 sec"
        )

    monkeypatch.setattr(services, "insert_inquiry", pool_exhausted)
    response = storefront_client.post(INTAKE_URL, inquiry_payload(), format="json")

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert "busy" in response.json()["detail"]
    assert not Ticket.objects.exists() and not Shopper.objects.exists()


@pytest.mark.parametrize("error", ["OperationalError", "InterfaceError"])
def test_when_the_database_is_unreachable_the_storefront_gets_a_json_503_to_retry(
    storefront_client: APIClient, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    """PostgreSQL restarting mid-request: a JSON 503 with Retry-After (never an HTML 500)."""
    from django import db

    from tickets import services

    def connection_lost(*args: object, **kwargs: object) -> None:
        raise getattr(db, error)("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "insert_inquiry", connection_lost)
    response = storefront_client.post(INTAKE_URL, inquiry_payload(), format="json")

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert "unavailable" in response.json()["detail"]
    assert not Ticket.objects.exists()
