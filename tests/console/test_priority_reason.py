"""Nothing is Top priority without a reason an agent can read: on the inbox row and the ticket header."""

import pytest

from routing.services import escalate_ticket, set_agent_status
from teams.models import AgentStatus
from tests.helpers import refreshed, set_ui_language

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def reason_badge(html: str, ticket_id: int) -> str:
    """The reason badge inside the ticket's inbox row."""
    row = html.split(f'data-ticket-id="{ticket_id}"', 1)[1].split("</tr>", 1)[0]
    return row.split('class="badge badge-reason"', 1)[1].split("</span></span>", 1)[0] if "badge-reason" in row else ""


def test_a_shoppers_handoff_request_shows_why_on_the_row_and_the_header(signed_in, ana, inquiry) -> None:
    ticket = inquiry("戒指坏了，转人工！")
    client = signed_in(ana)

    inbox = client.get("/console/").text
    page = client.get(f"/console/tickets/{ticket.id}/").text

    assert refreshed(ticket).priority >= ticket.PRIORITY_TOP
    assert "Shopper asked for a person" in reason_badge(inbox, ticket.id)
    assert 'data-priority-reason="handoff"' in page


def test_an_escalation_shows_its_note_in_the_header(signed_in, ana, sam, inquiry) -> None:
    ticket = inquiry()
    escalate_ticket(ticket_id=ticket.id, by=ana.user, note="退款金额超过权限")

    page = signed_in(sam).get(f"/console/tickets/{ticket.id}/").text

    assert 'data-priority-reason="escalation"' in page
    assert "Escalated: <q>退款金额超过权限</q>" in page


def test_a_ticket_returned_when_its_agent_went_offline_says_so(signed_in, ana, bo, inquiry) -> None:
    set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry()
    assert refreshed(ticket).assigned_agent == ana.user
    set_agent_status(agent=ana, status=AgentStatus.OFFLINE)  # back to the front of the line

    inbox = signed_in(ana).get("/console/").text

    assert refreshed(ticket).status == "queued"
    assert "Returned: agent went offline" in reason_badge(inbox, ticket.id)


def test_a_normal_ticket_carries_no_reason(signed_in, ana, inquiry) -> None:
    ticket = inquiry()

    inbox = signed_in(ana).get("/console/").text

    assert refreshed(ticket).priority < ticket.PRIORITY_TOP
    assert reason_badge(inbox, ticket.id) == ""


def test_in_chinese_the_reason_is_translated(signed_in, ana, inquiry) -> None:
    ticket = inquiry("戒指坏了，转人工！")
    set_ui_language("zh-hans", ana)

    page = signed_in(ana).get(f"/console/tickets/{ticket.id}/").text

    assert "顾客要求转人工" in page
