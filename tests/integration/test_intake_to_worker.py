"""An inquiry goes from HTTP 201 to a status change made by a real worker process over Redis."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from cxconsole.celery import app as celery_app
from routing.services import requeue_unrouted_tickets
from tests.helpers import INTAKE_URL, VALID_INQUIRY, wait_for
from tickets.models import Ticket, TicketStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def status_of(ticket_id: int) -> str:
    return Ticket.objects.values_list("status", flat=True).get(pk=ticket_id)


def test_an_inquiry_is_routed_by_a_real_worker_process(worker, storefront_client: APIClient) -> None:
    response = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json")

    assert response.status_code == 201
    ticket_id = response.data["id"]
    wait_for(lambda: status_of(ticket_id) == TicketStatus.QUEUED)
    ticket = Ticket.objects.select_related("queue", "category").get(pk=ticket_id)
    assert ticket.queue.slug == "jewelry"  # from the order's product category
    assert ticket.queued_at is not None


def test_a_ticket_whose_enqueue_was_lost_is_recovered_by_the_sweeper(
    worker, storefront_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_send_task = celery_app.send_task

    def redis_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(celery_app, "send_task", redis_down)
    ticket_id = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json").data["id"]
    assert status_of(ticket_id) == TicketStatus.NEW

    monkeypatch.setattr(celery_app, "send_task", real_send_task)  # Redis is back
    with time_machine.travel(timezone.now() + timedelta(seconds=90), tick=True):
        assert requeue_unrouted_tickets() == 1

    wait_for(lambda: status_of(ticket_id) == TicketStatus.QUEUED)
