"""Tracking tokens: derived from a nonce (never stored), checked without an id oracle, sent in a header."""

import pytest
from django.contrib.admin.sites import site
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import TicketFactory, UserFactory, queue
from tests.helpers import INTAKE_URL as URL
from tests.helpers import VALID_INQUIRY as VALID
from tickets.models import Ticket
from tickets.tracking import token_matches, tracking_token

pytestmark = pytest.mark.django_db

# Every shopper operation that takes a tracking token: (method, path under /api/v1/inquiries/{id}/, body).
SHOPPER_OPERATIONS = [
    ("get", "", None),
    ("post", "handoff/", None),
    ("post", "messages/", {"body": "hello"}),
    ("post", "cancel/", None),
    ("get", "callback-slots/", None),
    ("get", "callbacks/", None),
    ("post", "callbacks/", {"slot_start": "2026-11-23T02:30:00Z"}),
]
WRONG_TOKENS = ["令牌令牌", "ä" * 43, "\u202e", "x" * 43]


def _call(method: str, ticket_id: int, suffix: str, body: object, **extra: str):
    client = APIClient()
    return getattr(client, method)(f"/api/v1/inquiries/{ticket_id}/{suffix}", body, format="json", **extra)


@pytest.mark.parametrize(("method", "suffix", "body"), SHOPPER_OPERATIONS)
@pytest.mark.parametrize("wrong", WRONG_TOKENS)
def test_a_wrong_token_answers_exactly_like_an_id_that_does_not_exist(method, suffix, body, wrong) -> None:
    ticket = TicketFactory.create(queue=queue("jewelry"))
    missing_id = ticket.id + 1000

    by_header = _call(method, ticket.id, suffix, body, HTTP_X_TRACKING_TOKEN=wrong)
    by_query = _call(method, ticket.id, f"{suffix}?token={wrong}", body)
    no_such_ticket = _call(method, missing_id, suffix, body, HTTP_X_TRACKING_TOKEN=ticket.tracking_token)
    no_token = _call(method, ticket.id, suffix, body)

    assert by_header.status_code == by_query.status_code == no_such_ticket.status_code == no_token.status_code == 404
    assert by_header.content == by_query.content == no_such_ticket.content == no_token.content


def test_the_database_holds_no_token_only_the_nonce_it_is_derived_from(storefront_client: APIClient) -> None:
    created = storefront_client.post(URL, VALID, format="json").json()
    row = Ticket.objects.filter(pk=created["id"]).values().get()
    assert created["tracking_token"] not in {str(value) for value in row.values()}
    assert created["tracking_token"] == tracking_token(created["id"], row["tracking_nonce"])


def test_a_replayed_intake_returns_the_same_token_again(storefront_client: APIClient) -> None:
    first = storefront_client.post(URL, VALID, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    again = storefront_client.post(URL, VALID, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["tracking_token"] == first.json()["tracking_token"]
    status = APIClient().get(f"{URL}{first.json()['id']}/", HTTP_X_TRACKING_TOKEN=again.json()["tracking_token"])
    assert status.status_code == 200


def test_a_token_signed_with_a_rotated_out_key_still_opens_the_inquiry_while_it_is_a_fallback(settings) -> None:
    ticket = TicketFactory.create()
    old_token = ticket.tracking_token
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "n" + old_key[1:] if old_key[0] != "n" else "m" + old_key[1:]
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert token_matches(ticket.pk, ticket.tracking_nonce, old_token)
    assert ticket.tracking_token != old_token
    settings.SECRET_KEY_FALLBACKS = []
    assert not token_matches(ticket.pk, ticket.tracking_nonce, old_token)


def test_the_admin_never_shows_the_tracking_token_or_its_nonce() -> None:
    ticket = TicketFactory.create()
    admin = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/tickets/ticket/{ticket.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert ticket.tracking_token not in html and ticket.tracking_nonce not in html
    assert "tracking" not in " ".join(str(f) for f in site._registry[Ticket].get_fields(page.wsgi_request, ticket))
