"""The three events this app's notifications (and the storefront's webhooks) rely on: told inside
the writer's transaction, with the data a receiver needs, and never for an internal note."""

from collections.abc import Iterator, Sequence

import pytest

from core.events import Event, subscribe, unsubscribe
from routing.services import add_internal_note, add_shopper_message, reply_to_shopper, resolve_ticket
from tickets.models import TicketStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def told() -> Iterator[list[Event]]:
    events: list[Event] = []

    def record(batch: Sequence[Event]) -> None:
        # The events shopper notifications listen to (webhooks hear every other one too).
        events.extend(e for e in batch if e.type in ("message.created", "ticket.resolved", "ticket.reopened"))

    subscribe("test-recorder", record)
    yield events
    unsubscribe("test-recorder")


def test_a_public_reply_and_a_shopper_message_are_told_an_internal_note_is_not(ana, wang, ticket_of, told) -> None:
    ticket = ticket_of(wang)
    reply = reply_to_shopper(ticket_id=ticket.pk, by=ana.user, body="已补发")
    add_internal_note(ticket_id=ticket.pk, by=ana.user, body="VIP")
    answer = add_shopper_message(ticket_id=ticket.pk, body="谢谢")

    assert [(e.type, e.ticket_id) for e in told] == [("message.created", ticket.pk), ("message.created", ticket.pk)]
    assert told[0].data == {
        "ticket_id": ticket.pk,
        "message_id": reply.pk,
        "author_kind": "agent",
        "author_id": ana.user.pk,
        "body": "已补发",
        "created_at": reply.created_at.isoformat(),
    }
    assert (told[1].data["message_id"], told[1].data["author_kind"], told[1].data["author_id"]) == (
        answer.pk,
        "shopper",
        None,
    )


def test_resolving_and_reopening_are_told_with_status_agent_and_queue(ana, wang, ticket_of, told) -> None:
    ticket = ticket_of(wang)
    resolve_ticket(ticket_id=ticket.pk, by=ana.user)
    add_shopper_message(ticket_id=ticket.pk, body="还是不行")
    ticket.refresh_from_db()

    resolved, _message, reopened = told
    assert resolved.type == "ticket.resolved"
    assert resolved.data == {
        "ticket_id": ticket.pk,
        "status": TicketStatus.RESOLVED,
        "agent_id": ana.user.pk,
        "queue": "jewelry",
        "resolved_at": resolved.data["resolved_at"],
    }
    assert reopened.type == "ticket.reopened"
    assert {k: v for k, v in reopened.data.items() if k != "reopened_at"} == {
        "ticket_id": ticket.pk,
        "status": TicketStatus.ASSIGNED,  # back with Ana, who is online with room
        "agent_id": ana.user.pk,
        "queue": "jewelry",
    }
