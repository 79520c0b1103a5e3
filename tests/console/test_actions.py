"""An agent works a ticket from its page: every action, and what they see when one cannot be done."""

import pytest
from django.utils.html import escape

from classification.models import CategoryLabel
from routing.models import Assignment
from routing.services import set_agent_status
from teams.models import AgentProfile, AgentStatus
from tests.factories import category, queue
from tests.helpers import refreshed
from tickets.models import AuthorKind, Message, TicketStatus
from tickets.states import InvalidTransition

pytestmark = pytest.mark.django_db


def test_ana_replies_to_the_shopper_and_sees_her_reply_in_the_conversation(signed_in, ana, inquiry) -> None:
    ticket = inquiry()
    client = signed_in(ana)

    response = client.post(f"/console/tickets/{ticket.id}/reply/", {"body": "您好，已为您登记换小一号"}, follow=True)

    assert response.redirect_chain[-1][0] == f"/console/tickets/{ticket.id}/"
    assert "Reply sent to the shopper." in response.text
    assert "您好，已为您登记换小一号" in response.text
    reply = Message.objects.get(ticket=ticket, author_kind=AuthorKind.AGENT)
    assert reply.author == ana.user and not reply.is_internal
    assert refreshed(ticket).status == TicketStatus.WAITING_ON_SHOPPER


def test_an_empty_reply_is_refused_with_a_clear_message_and_nothing_is_sent(signed_in, ana, inquiry) -> None:
    ticket = inquiry()

    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/reply/", {"body": "   "})

    assert response.status_code == 400
    assert "Write a reply before sending." in response.text
    assert not Message.objects.filter(ticket=ticket, author_kind=AuthorKind.AGENT).exists()


def test_an_internal_note_is_stored_apart_from_the_shopper_conversation(signed_in, ana, inquiry) -> None:
    ticket = inquiry()

    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/notes/", {"body": "老客户，优先处理"}, follow=True)

    assert "Internal note added." in response.text
    note = Message.objects.get(ticket=ticket, is_internal=True)
    assert note.body == "老客户，优先处理" and note.author == ana.user
    assert 'class="msg msg-agent msg-internal"' in response.text
    assert refreshed(ticket).status == TicketStatus.ASSIGNED  # a note is not an answer


def test_recategorizing_moves_the_ticket_to_the_new_category_queue(signed_in, ana, mei, inquiry, after_commit) -> None:
    ticket = inquiry("奶瓶漏水了")  # the order says jewelry; the text says otherwise

    with after_commit():
        response = signed_in(ana).post(
            f"/console/tickets/{ticket.id}/category/",
            {"category": category("maternal_baby").id, "confirm": "1"},
            follow=True,
        )

    assert response.redirect_chain[-1][0] == "/console/"  # no longer Ana's to see
    assert "is now Maternal &amp; baby and moved to the" in response.text
    moved = refreshed(ticket)
    assert moved.category.slug == "maternal_baby" and moved.assigned_agent == mei.user
    assert CategoryLabel.objects.get(ticket=ticket).category.slug == "maternal_baby"


def test_an_unknown_category_is_a_form_error_not_a_crash(signed_in, ana, inquiry) -> None:
    ticket = inquiry()
    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/category/", {"category": "999999"})
    assert response.status_code == 400
    assert "Choose one of the listed categories." in response.text
    assert refreshed(ticket).category.slug == "jewelry"


def test_ana_transfers_a_ticket_to_another_queue_with_a_note(signed_in, ana, mei, inquiry, after_commit) -> None:
    ticket = inquiry()
    target = queue("maternal_baby")

    with after_commit():
        response = signed_in(ana).post(
            f"/console/tickets/{ticket.id}/transfer/",
            {"destination": f"queue:{target.id}", "note": "其实是婴儿手镯，转母婴"},
            follow=True,
        )

    assert response.redirect_chain[-1][0] == "/console/"
    assert f"Ticket #{ticket.id} transferred to {escape(target.name)}." in response.text
    moved = refreshed(ticket)
    assert moved.queue == target and moved.assigned_agent == mei.user
    assert Message.objects.get(ticket=ticket, is_internal=True).body == "Transfer: 其实是婴儿手镯，转母婴"
    assert AgentProfile.objects.get(pk=ana.pk).active_ticket_count == 0


def test_ana_hands_a_ticket_to_bo_by_name(signed_in, ana, bo, inquiry) -> None:
    ticket = inquiry()
    owner = refreshed(ticket).assigned_agent
    giver, taker = (ana, bo) if owner == ana.user else (bo, ana)

    response = signed_in(giver).post(
        f"/console/tickets/{ticket.id}/transfer/", {"destination": f"agent:{taker.id}", "note": "你熟悉这个款式"}
    )

    assert response.status_code == 302
    assert refreshed(ticket).assigned_agent == taker.user


def test_a_transfer_without_destination_or_note_says_what_is_missing(signed_in, ana, inquiry) -> None:
    ticket = inquiry()

    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/transfer/", {"destination": "", "note": ""})

    assert response.status_code == 400
    assert "Choose a queue or an agent." in response.text
    assert "Add a note: the next agent needs the context." in response.text
    assert refreshed(ticket).assigned_agent == ana.user


def test_a_transfer_to_an_offline_agent_is_refused_and_the_note_kept_on_the_form(signed_in, ana, bo, inquiry) -> None:
    set_agent_status(agent=bo, status=AgentStatus.OFFLINE)
    ticket = inquiry()

    response = signed_in(ana).post(
        f"/console/tickets/{ticket.id}/transfer/", {"destination": f"agent:{bo.id}", "note": "请接手"}
    )

    assert response.status_code == 409
    assert "This could not be done:" in response.text and "offline or has no free capacity" in response.text
    assert "请接手" in response.text  # the agent's note survives the refusal
    assert refreshed(ticket).assigned_agent == ana.user
    assert not Message.objects.filter(ticket=ticket, is_internal=True).exists()  # nothing half-done


def test_ana_escalates_a_ticket_to_the_supervisors(signed_in, ana, sam, inquiry, after_commit) -> None:
    ticket = inquiry()

    with after_commit():
        response = signed_in(ana).post(
            f"/console/tickets/{ticket.id}/escalate/", {"note": "顾客要求赔偿，超出权限"}, follow=True
        )

    assert f"Ticket #{ticket.id} escalated to the supervisors." in response.text
    escalated = refreshed(ticket)
    assert escalated.queue.slug == "supervisors" and escalated.assigned_agent == sam.user
    assert escalated.priority >= escalated.PRIORITY_TOP


def test_resolving_returns_to_the_inbox_with_the_next_waiting_ticket_pulled_in(
    signed_in, ana, inquiry, after_commit
) -> None:
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=1)
    first, waiting = inquiry(), inquiry("耳环掉色")
    assert refreshed(waiting).status == TicketStatus.QUEUED
    client = signed_in(ana)

    with after_commit():  # the resolve commits, its dispatch runs, then the browser follows the redirect
        resolved = client.post(f"/console/tickets/{first.id}/resolve/")
    assert resolved.status_code == 302 and resolved.url == "/console/"
    response = client.get(resolved.url)

    assert f"Ticket #{first.id} resolved." in response.text
    assert refreshed(first).status == TicketStatus.RESOLVED
    mine = response.text.split('id="waiting-tickets"')[0]
    assert f'data-ticket-id="{waiting.id}"' in mine and "耳环掉色" in mine


def test_resolving_twice_explains_why_instead_of_failing(signed_in, sam, ana, inquiry) -> None:
    ticket = inquiry()
    client = signed_in(sam)  # a supervisor may act on any ticket
    assert client.post(f"/console/tickets/{ticket.id}/resolve/").status_code == 302

    again = client.post(f"/console/tickets/{ticket.id}/resolve/")

    assert again.status_code == 409
    assert "This could not be done:" in again.text and "cannot be resolved" in again.text


def test_only_the_holder_may_answer_a_ticket_waiting_in_the_queue(signed_in, ana, bo, inquiry) -> None:
    set_agent_status(agent=bo, status=AgentStatus.AWAY)
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=1)
    inquiry()
    waiting = inquiry("手链什么时候发货")
    client = signed_in(ana)

    for action, data in [("reply", {"body": "hi"}), ("resolve", {}), ("escalate", {"note": "x"})]:
        response = client.post(f"/console/tickets/{waiting.id}/{action}/", data)
        assert response.status_code == 403, action
        assert "Only the agent who holds this ticket, or a supervisor, can do this." in response.text
    assert refreshed(waiting).status == TicketStatus.QUEUED
    assert not Assignment.objects.filter(ticket=waiting).exists()


def test_actions_need_a_post_with_a_csrf_token(ana, inquiry) -> None:
    from django.test import Client

    ticket = inquiry()
    client = Client(enforce_csrf_checks=True)
    client.force_login(ana.user)

    assert client.get(f"/console/tickets/{ticket.id}/resolve/").status_code == 405
    assert client.post(f"/console/tickets/{ticket.id}/resolve/").status_code == 403
    assert refreshed(ticket).status == TicketStatus.ASSIGNED


def test_a_move_the_state_machine_forbids_is_explained_never_a_server_error(
    signed_in, ana, inquiry, monkeypatch
) -> None:
    ticket = inquiry()

    def forbidden(**kwargs: object) -> None:
        raise InvalidTransition(TicketStatus.RESOLVED, TicketStatus.WAITING_ON_SHOPPER)

    monkeypatch.setattr("console.actions.services.reply_to_shopper", forbidden)

    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/reply/", {"body": "还有一件事"})

    assert response.status_code == 409
    assert "This could not be done: not possible while the ticket is Resolved." in response.text
    assert "还有一件事" in response.text
