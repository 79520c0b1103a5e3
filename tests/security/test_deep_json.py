"""JSON nested deeper than anything the API accepts is a 400 on every JSON endpoint, never a 500."""

import pytest
from rest_framework.test import APIClient

from core.parsers import MAX_DEPTH, nesting_depth_exceeds
from tests.factories import TicketFactory
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("body", [nested(1_000), nested(100_000), nested_objects(990), nested(MAX_DEPTH + 1)])
def test_intake_classify_and_shopper_messages_refuse_deep_json_with_a_400(storefront_client, body: str) -> None:
    ticket = TicketFactory.create()
    before = (Ticket.objects.count(), Message.objects.count())
    answers = [
        storefront_client.post("/api/v1/inquiries/", body, content_type="application/json"),
        storefront_client.post("/api/v1/classify/", body, content_type="application/json"),
        APIClient().post(
            f"/api/v1/inquiries/{ticket.id}/messages/",
            body,
            content_type="application/json",
            HTTP_X_TRACKING_TOKEN=ticket.tracking_token,
        ),
    ]
    assert [a.status_code for a in answers] == [400, 400, 400]
    assert all("nested more than" in a.json()["detail"] for a in answers)
    assert (Ticket.objects.count(), Message.objects.count()) == before


def test_the_depth_check_walks_without_recursion() -> None:
    deep: list = []
    cursor = deep
    for _ in range(200_000):
        cursor.append([])
        cursor = cursor[0]
    assert nesting_depth_exceeds(deep, MAX_DEPTH)
    assert not nesting_depth_exceeds({"shopper": {"a": [1, {"b": []}]}}, MAX_DEPTH)
