"""POST /api/v1/inquiries/{id}/rating/: the shopper (tracking token) or the storefront that
submitted the inquiry (API token) rates a resolution; every unhappy path has a clear answer."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from satisfaction.models import Rating
from teams.services import STOREFRONT_GROUP, ensure_roles, issue_api_token
from tests.factories import UserFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def url(ticket: Ticket) -> str:
    return f"/api/v1/inquiries/{ticket.id}/rating/"


def rate(ticket: Ticket, payload: dict, *, token: str | None = None, client: APIClient | None = None):
    headers: dict[str, Any] = {"HTTP_X_TRACKING_TOKEN": token if token is not None else ticket.tracking_token}
    return (client or APIClient()).post(url(ticket), payload, format="json", **headers)


def test_the_shopper_rates_a_resolved_inquiry(resolved) -> None:
    ticket = resolved()

    answer = rate(ticket, {"score": 5, "comment": "换得很快"})

    assert answer.status_code == 201
    rating = Rating.objects.get()
    assert answer.json() == {
        "id": rating.id,
        "ticket_id": ticket.id,
        "score": 5,
        "comment": "换得很快",
        "resolved_at": answer.json()["resolved_at"],
        "created_at": answer.json()["created_at"],
    }


def test_the_tracking_token_may_come_in_the_query_and_the_form_may_be_urlencoded(resolved) -> None:
    ticket = resolved()
    answer = Client().post(
        f"{url(ticket)}?token={ticket.tracking_token}", "score=4", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 201
    assert Rating.objects.get().score == 4


def test_sending_the_same_rating_again_answers_200_with_the_first(resolved) -> None:
    ticket = resolved()
    first = rate(ticket, {"score": 4, "comment": "ok"})
    again = rate(ticket, {"score": 4, "comment": "ok"})
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


def test_a_different_second_rating_of_the_same_resolution_is_a_conflict(resolved) -> None:
    ticket = resolved()
    rate(ticket, {"score": 4})
    answer = rate(ticket, {"score": 1})
    assert answer.status_code == 409
    assert "already been rated" in answer.json()["detail"]
    assert Rating.objects.get().score == 4


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "score"),
        ({"score": 0}, "score"),
        ({"score": 6}, "score"),
        ({"score": "five"}, "score"),
        ({"score": 3.5}, "score"),
        ({"score": None}, "score"),
        ({"score": 3, "comment": "好" * 1001}, "comment"),
    ],
)
def test_bad_input_answers_400_with_the_field_error_and_stores_nothing(resolved, payload, field) -> None:
    ticket = resolved()
    answer = rate(ticket, payload)
    assert answer.status_code == 400
    assert field in answer.json()
    assert not Rating.objects.exists()


def test_malformed_json_answers_400(resolved) -> None:
    ticket = resolved()
    answer = APIClient().post(
        url(ticket), "{not json", content_type="application/json", HTTP_X_TRACKING_TOKEN=ticket.tracking_token
    )
    assert answer.status_code == 400


def test_an_inquiry_not_yet_resolved_answers_409(inquiry, ana) -> None:
    ticket = inquiry()
    answer = rate(ticket, {"score": 5})
    assert answer.status_code == 409
    assert "once it is resolved" in answer.json()["detail"]
    assert not Rating.objects.exists()


def test_a_wrong_or_missing_token_and_an_unknown_id_answer_404(resolved) -> None:
    ticket = resolved()
    assert rate(ticket, {"score": 5}, token="not-the-token").status_code == 404
    assert rate(ticket, {"score": 5}, token="").status_code == 404
    assert APIClient().post("/api/v1/inquiries/987654/rating/", {"score": 5}, format="json").status_code == 404
    assert not Rating.objects.exists()


def test_shopper_a_cannot_rate_shopper_bs_inquiry(resolved, wang, li) -> None:
    wangs, lis = resolved(shopper=wang), resolved(shopper=li)

    answer = APIClient().post(url(lis), {"score": 1}, format="json", HTTP_X_TRACKING_TOKEN=wangs.tracking_token)

    assert answer.status_code == 404
    assert not Rating.objects.filter(ticket=lis).exists()


def _storefront(username: str) -> APIClient:
    user = UserFactory.create(username=username)
    user.groups.add(ensure_roles()[STOREFRONT_GROUP])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=user)}")
    client.user = user  # type: ignore[attr-defined]  # a test-only attribute set on the APIClient
    return client


def test_the_storefront_relays_a_rating_for_an_inquiry_it_submitted(resolved) -> None:
    ticket = resolved()
    shop = _storefront("shop-a")
    Ticket.objects.filter(pk=ticket.pk).update(client=shop.user)  # type: ignore[attr-defined]  # a test-only attribute set on the APIClient

    assert shop.post(url(ticket), {"score": 3}, format="json").status_code == 201


def test_another_storefront_cannot_rate_an_inquiry_it_did_not_submit(resolved) -> None:
    ticket = resolved()
    Ticket.objects.filter(pk=ticket.pk).update(client=_storefront("shop-a").user)  # type: ignore[attr-defined]  # a test-only attribute set on the APIClient

    answer = _storefront("shop-b").post(url(ticket), {"score": 3}, format="json")

    assert answer.status_code == 404
    assert not Rating.objects.exists()


def test_the_endpoint_is_in_the_openapi_schema(client: Client) -> None:
    schema = client.get("/api/schema/")
    assert b"/api/v1/inquiries/{ticket_id}/rating/" in schema.content
