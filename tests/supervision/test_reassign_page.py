"""The reassign page: the waiting line, an agent picker with what a supervisor needs to choose,
and a refusal shown at the top of the page."""

import pytest

from routing.services import set_agent_status
from teams.models import AgentStatus
from tests.helpers import refreshed

pytestmark = pytest.mark.django_db


def test_the_page_lists_waiting_tickets_and_agents_with_languages_skills_load_and_status(
    sam, ana, bo, inquiry, signed_in, after_commit
) -> None:
    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.AWAY)
        set_agent_status(agent=bo, status=AgentStatus.AWAY)
    waiting = inquiry("My ring is too big", language="en")

    page = signed_in(sam).get(f"/console/dashboard/reassign/?ticket={waiting.id}").text

    assert f'name="ticket" value="{waiting.id}" checked' in page
    assert 'data-language="en"' in page
    bo_row = page[page.index('data-agent="bo"') :]
    bo_row = bo_row[: bo_row.index("</label>")]
    assert 'data-languages="zh" data-agent="bo"' in page
    assert "中文" in bo_row and "Away" in bo_row and "0/3 open" in bo_row
    assert "Jewelry" in bo_row


def test_a_refusal_is_shown_at_the_top_and_the_choice_kept(sam, ana, bo, inquiry, signed_in, after_commit) -> None:
    with after_commit():
        set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry("My ring is too big", language="en")

    response = signed_in(sam).post(
        "/console/dashboard/reassign/", {"ticket": ticket.id, "agent": bo.pk, "reason": "VIP"}
    )

    assert response.status_code == 409
    page = response.text
    top = page.index('id="reassign-errors"')
    assert top < page.index('id="reassign-form"')
    assert "Not reassigned:" in page[top : top + 400]
    assert f'name="agent" value="{bo.pk}" checked' in page
    assert refreshed(ticket).assigned_agent == ana.user


def test_a_missing_ticket_is_named_at_the_top(sam, signed_in) -> None:
    from tests.factories import queue

    response = signed_in(sam).post("/console/dashboard/reassign/", {"queue": queue("books").id, "reason": "x"})

    assert response.status_code == 400
    assert "Choose a waiting ticket, or type the number of an open ticket." in response.text
