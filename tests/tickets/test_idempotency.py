"""Retries with the same Idempotency-Key return the first ticket, never a second one."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.helpers import INTAKE_URL, VALID_INQUIRY, inquiry_payload
from tickets.models import Ticket


@pytest.mark.django_db
def test_a_retry_with_the_same_key_returns_the_first_ticket(storefront_client: APIClient) -> None:
    first = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json", HTTP_IDEMPOTENCY_KEY="order-1-try")
    retry = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json", HTTP_IDEMPOTENCY_KEY="order-1-try")

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.data == first.data
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_a_different_inquiry_is_refused(storefront_client: APIClient) -> None:
    storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = storefront_client.post(
        INTAKE_URL, inquiry_payload(body="完全不同的问题"), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert other.status_code == 422
    assert "Idempotency-Key" in other.data
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_different_keys_make_different_tickets(storefront_client: APIClient) -> None:
    storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json", HTTP_IDEMPOTENCY_KEY="a")
    storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json", HTTP_IDEMPOTENCY_KEY="b")
    storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json")
    assert Ticket.objects.count() == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_identical_requests_at_the_same_moment_make_one_ticket(postgres: None, storefront_token: str) -> None:
    token = f"Token {storefront_token}"
    racers = 6
    barrier = threading.Barrier(racers)
    results: list[tuple[int, int]] = []

    def post() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        barrier.wait()
        response = client.post(INTAKE_URL, VALID_INQUIRY, format="json", HTTP_IDEMPOTENCY_KEY="same-moment")
        results.append((response.status_code, response.data["id"]))
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Ticket.objects.count() == 1
    assert {ticket_id for _, ticket_id in results} == {Ticket.objects.get().id}
    assert sorted(code for code, _ in results) == [200] * (racers - 1) + [201]
