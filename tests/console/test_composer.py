"""The composer's server side: no silent truncation, a canned reply counted and applied on
sending, the next ticket after sending, and the SLA clock."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings

from macros.models import Macro, ThenStatus
from macros.services import create_macro
from tests.helpers import refreshed
from tickets.models import AuthorKind, Message, TicketStatus

pytestmark = pytest.mark.django_db


def test_an_over_limit_reply_is_refused_with_a_clear_error_and_kept_whole(signed_in, ana, inquiry) -> None:
    ticket = inquiry()
    text = "好" * (settings.INQUIRY_BODY_MAX_LENGTH + 250)

    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/reply/", {"body": text})

    assert response.status_code == 400
    limit = settings.INQUIRY_BODY_MAX_LENGTH
    assert f"This text is {len(text)} characters long; the limit is {limit}." in response.text
    assert text + "</textarea>" in response.text  # nothing cut: the agent shortens it themself
    assert not Message.objects.filter(ticket=ticket, author_kind=AuthorKind.AGENT).exists()


def test_the_textarea_carries_the_limit_for_the_counter_but_no_maxlength(signed_in, ana, inquiry) -> None:
    ticket = inquiry()
    page = signed_in(ana).get(f"/console/tickets/{ticket.id}/").text
    composer = page[page.index('id="reply-form"') :]
    composer = composer[: composer.index("</form>")]

    assert f'data-max-length="{settings.INQUIRY_BODY_MAX_LENGTH}"' in composer
    assert "maxlength" not in composer


def test_a_reply_with_a_resolving_macro_resolves_counts_and_opens_the_next_ticket(
    signed_in, ana, sam, inquiry, after_commit
) -> None:
    first = inquiry("戒指太大了")
    second = inquiry("项链断了")
    macro = create_macro(
        actor=sam.user,
        name="Done",
        shortcut="done",
        queue=None,
        body_en="Done",
        body_zh="已处理",
        then_status=ThenStatus.RESOLVED,
    )

    with after_commit():
        response = signed_in(ana).post(
            f"/console/tickets/{first.id}/reply/", {"body": "已处理，祝您愉快", "macro": macro.pk, "open_next": "on"}
        )

    assert response.status_code == 302 and response["Location"] == f"/console/tickets/{second.id}/"
    assert refreshed(first).status == TicketStatus.RESOLVED
    assert Macro.objects.get(pk=macro.pk).usage_count == 1


def test_another_queues_macro_is_refused_on_the_page_and_the_text_kept(signed_in, ana, sam, inquiry) -> None:
    from tests.factories import queue

    ticket = inquiry()
    elsewhere = create_macro(
        actor=sam.user, name="Bottle", shortcut="bottle", queue=queue("maternal_baby"), body_en="x", body_zh="x"
    )

    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/reply/", {"body": "您好", "macro": elsewhere.pk})

    assert response.status_code == 409
    assert "belongs to another queue" in response.text and "您好</textarea>" in response.text
    assert refreshed(ticket).status == TicketStatus.ASSIGNED


def test_the_ticket_page_offers_its_macros_filled_in_as_json(signed_in, ana, sam, inquiry) -> None:
    ticket = inquiry()
    ticket.shopper.name = "</script><b>x"
    ticket.shopper.save()
    create_macro(actor=sam.user, name="Hi", shortcut="hi", queue=None, body_en="Hi", body_zh="{{shopper_name}}您好")

    page = signed_in(ana).get(f"/console/tickets/{ticket.id}/").text

    assert 'id="composer-macros"' in page
    assert "\\u003C/script\\u003E\\u003Cb\\u003Ex" in page  # escaped inside the JSON script element
    assert "</script><b>x" not in page


def test_next_ticket_goes_to_the_next_one_awaiting_a_reply_else_the_inbox(signed_in, ana, inquiry) -> None:
    first = inquiry("戒指太大了")
    second = inquiry("项链断了")
    client = signed_in(ana)

    assert client.get(f"/console/next/?after={first.id}")["Location"] == f"/console/tickets/{second.id}/"
    assert client.get(f"/console/next/?after={second.id}")["Location"] == f"/console/tickets/{first.id}/"
    client.post(f"/console/tickets/{first.id}/reply/", {"body": "好的"})
    response = client.get(f"/console/next/?after={second.id}", follow=True)
    assert response.redirect_chain[-1][0] == "/console/" and "No other ticket awaits your reply." in response.text


def test_the_sla_clock_counts_down_and_turns_red_past_due(signed_in, ana, inquiry) -> None:
    ticket = inquiry()
    due = ticket.created_at + timedelta(seconds=ticket.queue.service_level_seconds)
    client = signed_in(ana)

    with time_machine.travel(due - timedelta(seconds=65), tick=False):
        page = client.get(f"/console/tickets/{ticket.id}/").text
    assert "SLA 1:05 left" in page and "sla is-overdue" not in page
    with time_machine.travel(due + timedelta(seconds=30), tick=False):
        page = client.get("/console/").text
    assert 'class="sla is-overdue"' in page and "SLA 0:30 over" in page
