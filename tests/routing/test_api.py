"""Agents, supervisors and shoppers through the API: who may see and do what."""

import pytest
from rest_framework.test import APIClient

from routing.services import set_agent_status
from teams.models import AgentStatus
from teams.services import AGENTS_GROUP, ensure_roles
from tests.helpers import refreshed
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


def as_user(agent) -> APIClient:
    agent.user.groups.add(ensure_roles()[AGENTS_GROUP])
    client = APIClient()
    client.force_authenticate(agent.user)
    return client


def test_an_agent_sees_their_tickets_and_their_queues_but_not_another_queues_ticket(
    ana, mei, inquiry, after_commit
) -> None:
    mine = inquiry()
    with after_commit():
        set_agent_status(agent=mei, status=AgentStatus.AWAY)
    baby = inquiry("奶瓶漏水", category="maternal_baby")
    client = as_user(ana)

    listed = {t["id"] for t in client.get("/api/v1/tickets/").data}
    assert mine.id in listed and baby.id not in listed
    assert client.get(f"/api/v1/tickets/{mine.id}/").status_code == 200
    assert client.get(f"/api/v1/tickets/{baby.id}/").status_code == 404
    assert client.post(f"/api/v1/tickets/{baby.id}/reply/", {"body": "hi"}, format="json").status_code == 404
    assert client.post(f"/api/v1/tickets/{baby.id}/notes/", {"body": "hi"}, format="json").status_code == 404


def test_an_agent_works_a_ticket_through_the_api(ana, mei, inquiry, after_commit) -> None:
    ticket = inquiry()
    client = as_user(ana)

    reply = client.post(f"/api/v1/tickets/{ticket.id}/reply/", {"body": "您好"}, format="json")
    assert reply.status_code == 200 and reply.data["status"] == TicketStatus.WAITING_ON_SHOPPER
    assert client.post(f"/api/v1/tickets/{ticket.id}/reply/", {"body": ""}, format="json").status_code == 400
    bad = client.post(f"/api/v1/tickets/{ticket.id}/transfer/", {"note": "x"}, format="json")
    assert bad.status_code == 400
    unknown = client.post(f"/api/v1/tickets/{ticket.id}/transfer/", {"queue": "nowhere", "note": "x"}, format="json")
    assert unknown.status_code == 400 and "queue" in unknown.data
    with after_commit():  # the transfer's dispatch of the new queue runs once it commits
        moved = client.post(
            f"/api/v1/tickets/{ticket.id}/transfer/", {"queue": "maternal_baby", "note": "婴儿用品"}, format="json"
        )
    assert moved.status_code == 200
    assert refreshed(ticket).assigned_agent == mei.user  # Mei's queue dispatched once the transfer committed
    assert client.post(f"/api/v1/tickets/{ticket.id}/resolve/").status_code == 404  # no longer hers


def test_resolving_twice_is_a_conflict_not_a_crash(ana, inquiry) -> None:
    ticket = inquiry()
    client = as_user(ana)
    assert client.post(f"/api/v1/tickets/{ticket.id}/resolve/").status_code == 200
    again = client.post(f"/api/v1/tickets/{ticket.id}/resolve/")
    assert again.status_code in (404, 409)


def test_agents_set_their_own_status_and_only_supervisors_set_others(ana, bo, sam) -> None:
    client = as_user(ana)
    response = client.post("/api/v1/agents/me/status/", {"status": "away"}, format="json")
    assert response.status_code == 200 and response.data["status"] == "away"
    assert client.post("/api/v1/agents/me/status/", {"status": "asleep"}, format="json").status_code == 400
    assert client.post("/api/v1/agents/bo/status/", {"status": "offline"}, format="json").status_code == 403

    supervisor = APIClient()
    supervisor.force_authenticate(sam.user)
    assert supervisor.post("/api/v1/agents/bo/status/", {"status": "offline"}, format="json").status_code == 200
    assert refreshed_status(bo) == "offline"
    assert supervisor.post("/api/v1/agents/nobody/status/", {"status": "offline"}, format="json").status_code == 404


def refreshed_status(agent) -> str:
    agent.refresh_from_db()
    return agent.status


def test_a_shopper_hands_off_with_the_tracking_token(ana, inquiry, after_commit) -> None:
    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.AWAY)
    ticket = inquiry()
    shopper = APIClient()
    assert shopper.post(f"/api/v1/inquiries/{ticket.id}/handoff/?token=wrong").status_code == 404

    response = shopper.post(f"/api/v1/inquiries/{ticket.id}/handoff/", HTTP_X_TRACKING_TOKEN=ticket.tracking_token)

    assert response.status_code == 200 and response.data["status"] == TicketStatus.QUEUED
    assert refreshed(ticket).priority == ticket.PRIORITY_TOP
    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.ONLINE)
    ticket = refreshed(ticket)
    assert ticket.assigned_agent == ana.user
    requested, assigned = ticket.handoff_requested_at, ticket.handoff_assigned_at
    assert requested is not None and assigned is not None and assigned >= requested


def test_a_shopper_message_on_a_closed_ticket_is_a_conflict(ana, inquiry) -> None:
    ticket = inquiry()
    type(ticket).objects.filter(pk=ticket.pk).update(status=TicketStatus.CLOSED)
    response = APIClient().post(
        f"/api/v1/inquiries/{ticket.id}/messages/",
        {"body": "hello"},
        format="json",
        HTTP_X_TRACKING_TOKEN=ticket.tracking_token,
    )
    assert response.status_code == 409
