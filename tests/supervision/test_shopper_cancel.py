"""A shopper withdraws an inquiry with their tracking token: abandoned before any assignment."""

import pytest
from rest_framework.test import APIClient

from routing.services import cancel_inquiry, set_agent_status
from teams.models import AgentStatus
from tests.helpers import refreshed
from tickets.models import CloseReason, TicketStatus

pytestmark = pytest.mark.django_db


def cancel(ticket_id: int, token: str):
    return APIClient().post(f"/api/v1/inquiries/{ticket_id}/cancel/?token={token}")


def test_a_waiting_shopper_who_cancels_is_counted_as_abandoned(ana, inquiry) -> None:
    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    ticket = inquiry()
    assert ticket.status == TicketStatus.QUEUED

    response = cancel(ticket.id, ticket.tracking_token)

    assert response.status_code == 200
    assert response.data["status"] == TicketStatus.CLOSED
    ticket = refreshed(ticket)
    assert ticket.close_reason == CloseReason.ABANDONED
    assert ticket.closed_at is not None and ticket.first_assigned_at is None
    # Ana comes back: the withdrawn inquiry is not pulled to her.
    set_agent_status(agent=ana, status=AgentStatus.ONLINE)
    assert refreshed(ticket).assigned_agent_id is None


def test_cancelling_twice_returns_the_same_closed_inquiry(ana, inquiry) -> None:
    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    ticket = inquiry()
    first = cancel(ticket.id, ticket.tracking_token)
    closed_at = refreshed(ticket).closed_at

    again = cancel(ticket.id, ticket.tracking_token)

    assert (first.status_code, again.status_code) == (200, 200)
    assert refreshed(ticket).closed_at == closed_at


def test_a_wrong_token_reveals_nothing(ana, inquiry) -> None:
    ticket = inquiry()
    assert cancel(ticket.id, "not-the-token").status_code == 404
    assert cancel(ticket.id + 999, ticket.tracking_token).status_code == 404
    assert refreshed(ticket).status != TicketStatus.CLOSED


def test_once_an_agent_holds_it_cancel_is_a_conflict(ana, inquiry) -> None:
    ticket = inquiry()
    assert ticket.status == TicketStatus.ASSIGNED

    response = cancel(ticket.id, ticket.tracking_token)

    assert response.status_code == 409
    assert "agent" in response.data["detail"]
    assert refreshed(ticket).status == TicketStatus.ASSIGNED


def test_back_in_line_after_an_assignment_it_closes_as_cancelled_not_abandoned(ana, inquiry) -> None:
    ticket = inquiry()
    set_agent_status(agent=ana, status=AgentStatus.OFFLINE)  # unanswered: back to the front of the queue
    assert refreshed(ticket).status == TicketStatus.QUEUED

    ticket = cancel_inquiry(ticket_id=ticket.id)

    assert (ticket.status, ticket.close_reason) == (TicketStatus.CLOSED, CloseReason.CANCELLED)
