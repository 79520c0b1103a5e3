"""Signing in, the inbox and the ticket page: who sees what, and what an empty console says."""

import re

import pytest
from django.test import Client

from routing.services import set_agent_status
from teams.models import AgentProfile, AgentStatus
from tests.factories import UserFactory
from tickets.models import Message, TicketStatus

pytestmark = pytest.mark.django_db


def test_the_site_root_leads_to_the_console_and_the_console_to_the_login_form(client: Client) -> None:
    assert client.get("/").headers["Location"] == "/console/"
    response = client.get("/console/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/login/?next=/console/"
    login = client.get("/accounts/login/")
    assert login.status_code == 200
    assert b'name="username"' in login.content and b"Sign in" in login.content


def test_an_agent_signs_in_with_their_password_and_lands_in_the_inbox(client: Client, ana: AgentProfile) -> None:
    bad = client.post("/accounts/login/", {"username": "ana", "password": "wrong"})
    assert bad.status_code == 200 and b'role="alert"' in bad.content

    response = client.post("/accounts/login/", {"username": "ana", "password": "pw-for-tests"}, follow=True)

    assert response.redirect_chain[-1][0] == "/console/"
    assert b"My tickets" in response.content


def test_signing_out_takes_the_agent_back_to_the_login_form(signed_in, ana: AgentProfile) -> None:
    client = signed_in(ana)
    response = client.post("/accounts/logout/")
    assert response.headers["Location"] == "/accounts/login/"
    assert client.get("/console/").status_code == 302


def test_a_user_who_is_neither_agent_nor_supervisor_is_refused(client: Client) -> None:
    client.force_login(UserFactory.create(username="visitor"))
    response = client.get("/console/")
    assert response.status_code == 403
    assert b"for agents and supervisors" in response.content


def test_an_empty_inbox_says_that_new_tickets_will_appear_by_themselves(signed_in, ana: AgentProfile) -> None:
    response = signed_in(ana).get("/console/")
    assert response.status_code == 200
    assert "No tickets yet — new ones appear here automatically." in response.text
    assert "Nobody is waiting in your queues." in response.text


def test_the_inbox_lists_my_tickets_with_their_signals_and_the_line_in_my_queues(signed_in, ana, inquiry) -> None:
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=1)
    mine = inquiry("我的戒指尺寸偏大，转人工！")
    waiting = inquiry("项链的扣子坏了")
    assert mine.assigned_agent == ana.user and waiting.status == TicketStatus.QUEUED

    page = signed_in(ana).get("/console/").text

    my_section, waiting_section = page.split('id="waiting-tickets"')
    assert f'data-ticket-id="{mine.id}"' in my_section
    assert "Asks for a person" in my_section and "Top" in my_section
    assert "Jewelry" in my_section and "中文" in my_section
    assert f'data-ticket-id="{waiting.id}"' in waiting_section
    assert "My load" in page and "1 / 1 open" in page


def test_an_agent_never_sees_another_queues_ticket_not_even_its_page(signed_in, ana, mei, inquiry) -> None:
    set_agent_status(agent=mei, status=AgentStatus.AWAY)
    baby = inquiry("奶瓶漏水", category="maternal_baby")
    client = signed_in(ana)

    assert f'data-ticket-id="{baby.id}"' not in client.get("/console/").text
    for path in ("", "live/"):
        response = client.get(f"/console/tickets/{baby.id}/{path}")
        assert response.status_code == 404
        assert "奶瓶" not in response.text
    assert client.post(f"/console/tickets/{baby.id}/notes/", {"body": "hi"}).status_code == 404
    assert not Message.objects.filter(ticket=baby, is_internal=True).exists()
    assert client.get("/console/tickets/999999/").status_code == 404


def test_the_ticket_page_shows_conversation_shopper_order_classification_and_history(signed_in, ana, inquiry) -> None:
    ticket = inquiry("我的戒指尺寸偏大，想换小一号")
    Message.objects.create(ticket=ticket, author_kind="agent", author=ana.user, body="先看看订单", is_internal=True)

    page = signed_in(ana).get(f"/console/tickets/{ticket.id}/").text

    assert "我的戒指尺寸偏大，想换小一号" in page
    assert "msg-internal" in page and "先看看订单" in page
    assert ticket.shopper.external_id in page and "JD1" in page
    assert "From the order" in page and "Confidence" in page and "100%" in page
    assert "Queue chosen" in page and "Assigned to Ana" in page
    assert f'action="/console/tickets/{ticket.id}/reply/"' in page


def test_a_ticket_waiting_in_my_queue_can_be_read_and_noted_but_not_answered(signed_in, ana, bo, inquiry) -> None:
    set_agent_status(agent=bo, status=AgentStatus.AWAY)
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=1)
    inquiry()
    waiting = inquiry("手链什么时候发货")

    page = signed_in(ana).get(f"/console/tickets/{waiting.id}/").text

    assert "手链什么时候发货" in page
    assert "/note" in page and f"/console/tickets/{waiting.id}/reply/" not in page
    assert "waiting in its queue" in page


def test_a_supervisor_sees_every_ticket_and_who_holds_it(signed_in, sam, ana, mei, inquiry) -> None:
    jewelry = inquiry()
    baby = inquiry("奶瓶漏水", category="maternal_baby")

    page = signed_in(sam).get("/console/").text

    assert "With other agents" in page
    assert f'data-ticket-id="{jewelry.id}"' in page and f'data-ticket-id="{baby.id}"' in page
    assert signed_in(sam).get(f"/console/tickets/{baby.id}/").status_code == 200


def test_the_inbox_costs_the_same_few_queries_however_many_tickets(
    signed_in, ana, bo, inquiry, django_assert_max_num_queries
) -> None:
    for _ in range(2):
        inquiry()
    client = signed_in(ana)
    client.get("/console/")  # the page load counts the sidebar; re-reads show it for a few seconds
    # 10: the reasons behind Top-priority badges are one query for the whole list; the agent's
    # queues one query (asked twice: the live groups and the visible tickets).
    with django_assert_max_num_queries(10) as few:
        client.get("/console/inbox/live/")
    for _ in range(6):
        inquiry("项链断了")
    with django_assert_max_num_queries(len(few)):
        client.get("/console/inbox/live/")


def test_the_ticket_page_costs_a_fixed_number_of_queries(
    signed_in, ana, inquiry, django_assert_max_num_queries
) -> None:
    ticket = inquiry()
    client = signed_in(ana)
    # 23: the order and after-sales panels registered by their apps add a query each; the
    # composer's canned replies one.
    with django_assert_max_num_queries(23) as few:
        client.get(f"/console/tickets/{ticket.id}/")
    for n in range(5):
        Message.objects.create(ticket=ticket, author_kind="agent", author=ana.user, body=f"note {n}", is_internal=True)
    with django_assert_max_num_queries(len(few)):
        client.get(f"/console/tickets/{ticket.id}/")


def test_every_label_on_the_ticket_page_points_at_its_own_field(signed_in, ana, bo, inquiry) -> None:
    ticket = inquiry()
    page = signed_in(ana).get(f"/console/tickets/{ticket.id}/").text

    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), [i for i in set(ids) if ids.count(i) > 1]
    for target in re.findall(r'<label for="([^"]+)"', page):
        assert target in ids
    for label in ("Reply to the shopper", "Internal note", "Transfer to", "Why it needs a supervisor", "Category"):
        assert f">{label}" in page
