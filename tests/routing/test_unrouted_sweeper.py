"""Nothing accepted is lost: a ticket whose routing kick failed is picked up by the sweeper."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from cxconsole.celery import app as celery_app
from routing.services import requeue_unrouted_tickets, route_new_tickets, route_ticket
from tests.helpers import INTAKE_URL, VALID_INQUIRY
from tickets.models import Ticket, TicketStatus


class BrokerDown(Exception):
    pass


@pytest.fixture
def broken_broker(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def refuse(name: str, *args: object, **kwargs: object) -> None:
        calls.append(name)
        raise BrokerDown("Redis is down")

    monkeypatch.setattr(celery_app, "send_task", refuse)
    return calls


@pytest.fixture
def recording_broker(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list]]:
    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args=None, kwargs=None, **kw: sent.append((name, list(args)))
    )
    return sent


@pytest.mark.django_db
def test_an_inquiry_is_accepted_even_when_the_broker_is_down(
    storefront_client: APIClient, broken_broker: list[str], django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json")

    assert response.status_code == 201
    assert broken_broker == ["routing.route_new_tickets"]
    assert Ticket.objects.get(pk=response.data["id"]).status == TicketStatus.NEW


@pytest.mark.django_db
def test_the_sweeper_re_enqueues_tickets_left_new_past_the_grace_period(
    storefront_client: APIClient, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    monkeypatch.setattr(celery_app, "send_task", lambda *a, **k: (_ for _ in ()).throw(BrokerDown()))
    with django_capture_on_commit_callbacks(execute=True):
        lost_id = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json").data["id"]

    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args=None, kwargs=None, **kw: sent.append((name, list(args)))
    )
    assert requeue_unrouted_tickets() == 0  # still inside the grace period
    assert sent == []

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert requeue_unrouted_tickets() == 1
    assert sent == [("routing.route_new_tickets", [])]

    assert route_new_tickets() == 1  # what the worker does with the kicked task
    assert Ticket.objects.get(pk=lost_id).status == TicketStatus.QUEUED


@pytest.mark.django_db
def test_the_sweeper_leaves_routed_tickets_alone(storefront_client: APIClient, recording_broker: list) -> None:
    ticket_id = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json").data["id"]
    route_ticket(ticket_id=ticket_id)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert requeue_unrouted_tickets() == 0


@pytest.mark.django_db
def test_routing_the_same_ticket_twice_changes_nothing_the_second_time(storefront_client: APIClient) -> None:
    ticket_id = storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json").data["id"]
    route_ticket(ticket_id=ticket_id)
    first = Ticket.objects.get(pk=ticket_id)
    route_ticket(ticket_id=ticket_id)
    again = Ticket.objects.get(pk=ticket_id)
    assert (again.status, again.queue_id, again.queued_at) == (first.status, first.queue_id, first.queued_at)
    assert again.routing_decisions.count() == 1
