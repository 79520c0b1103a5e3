"""On the inquiry's page the shopper follows the conversation, writes back, asks for a person,
withdraws, books a callback; and sees nothing that is not theirs."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from callbacks.models import Callback
from routing.services import add_internal_note, reply_to_shopper, resolve_ticket, set_agent_status
from teams.models import AgentProfile, AgentStatus
from tests.helpers import shopper_of
from tests.photos import image_bytes
from tests.shop.helpers import photo
from tickets.attachments import prepare_images
from tickets.models import Attachment, Message, Shopper, Ticket, TicketStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def status_line(browser: Client, ticket: Ticket) -> str:
    html = browser.get(f"/shop/inquiries/{ticket.id}/live/").content.decode()
    match = re.search(r'<p class="status-line"[^>]*>(.*?)</p>', html, re.S)
    assert match
    return " ".join(match.group(1).split())


def test_the_shopper_sees_the_agents_replies_but_never_internal_notes(ana, inquiry) -> None:
    ticket = inquiry("戒指上的钻石松了")
    browser = shopper_of(ticket)
    reply_to_shopper(ticket_id=ticket.id, by=ana.user, body="您好，请寄回给我们维修")
    add_internal_note(ticket_id=ticket.id, by=ana.user, body="INTERNAL: VIP, 可以免运费")

    html = browser.get(f"/shop/inquiries/{ticket.id}/live/").content.decode()

    assert "请寄回给我们维修" in html and "Ana" in html
    assert "INTERNAL" not in html and "免运费" not in html


def test_the_status_is_told_in_the_shoppers_words(ana, inquiry) -> None:
    set_agent_status(agent=ana, status=AgentStatus.OFFLINE)
    ticket = inquiry("项链能刻字吗？")
    browser = shopper_of(ticket)
    assert re.fullmatch(r"Waiting for a specialist, about \d+ minutes?\.", status_line(browser, ticket))

    set_agent_status(agent=ana, status=AgentStatus.ONLINE)
    assert status_line(browser, ticket) == "Ana from our Jewelry team is on it."

    reply_to_shopper(ticket_id=ticket.id, by=ana.user, body="可以，最多6个字")
    assert status_line(browser, ticket) == "Waiting for your reply to Ana."

    resolve_ticket(ticket_id=ticket.id, by=ana.user)
    assert status_line(browser, ticket).startswith("Resolved.")


def test_the_shopper_writes_back_with_a_photo(ana, inquiry) -> None:
    ticket = inquiry("手链断了")
    browser = shopper_of(ticket)

    response = browser.post(f"/shop/inquiries/{ticket.id}/messages/", {"body": "照片在这里", "photos": [photo()]})

    assert response.status_code == 302
    message = Message.objects.get(ticket=ticket, body="照片在这里")
    assert message.attachments.count() == 1
    assert Ticket.objects.get(pk=ticket.id).status == TicketStatus.ASSIGNED


def test_a_refused_photo_on_a_reply_sends_nothing(ana, inquiry) -> None:
    ticket = inquiry("手链断了")
    browser = shopper_of(ticket)
    response = browser.post(
        f"/shop/inquiries/{ticket.id}/messages/",
        {"body": "照片", "photos": [photo("x.gif", image_bytes("GIF"), "image/gif")]},
    )
    assert response.status_code == 400
    assert "is not a photo we accept" in response.content.decode()
    assert not Message.objects.filter(ticket=ticket, body="照片").exists()


def test_talk_to_a_person_shows_until_a_person_has_it_and_then_when_they_took_it(ana, inquiry) -> None:
    set_agent_status(agent=ana, status=AgentStatus.OFFLINE)
    ticket = inquiry("我要投诉")
    browser = shopper_of(ticket)
    assert "Talk to a person" in browser.get(f"/shop/inquiries/{ticket.id}/").content.decode()

    browser.post(f"/shop/inquiries/{ticket.id}/person/")
    html = browser.get(f"/shop/inquiries/{ticket.id}/").content.decode()
    assert "You asked for a person at" in html and "Talk to a person" in html
    assert Ticket.objects.get(pk=ticket.id).priority == Ticket.PRIORITY_TOP

    set_agent_status(agent=ana, status=AgentStatus.ONLINE)
    html = browser.get(f"/shop/inquiries/{ticket.id}/").content.decode()
    assert "Talk to a person" not in html
    assert re.search(r"Ana took your inquiry at \d\d:\d\d\.", html)


def test_the_shopper_withdraws_a_waiting_inquiry_but_not_one_a_person_holds(ana, inquiry) -> None:
    held = inquiry("耳环")
    browser = shopper_of(held)
    browser.post(f"/shop/inquiries/{held.id}/cancel/")
    assert Ticket.objects.get(pk=held.id).status == TicketStatus.ASSIGNED
    assert "already on it" in browser.get(f"/shop/inquiries/{held.id}/").content.decode()

    set_agent_status(agent=ana, status=AgentStatus.OFFLINE)
    waiting = inquiry("戒指")
    browser = shopper_of(waiting)
    browser.post(f"/shop/inquiries/{waiting.id}/cancel/")
    assert Ticket.objects.get(pk=waiting.id).status == TicketStatus.CLOSED
    assert "You withdrew this inquiry." in browser.get(f"/shop/inquiries/{waiting.id}/").content.decode()


@time_machine.travel(datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)  # a Monday
def test_the_shopper_books_a_callback_from_the_page(ana, inquiry) -> None:
    ticket = inquiry("想电话沟通")
    browser = shopper_of(ticket)
    html = browser.get(f"/shop/inquiries/{ticket.id}/").content.decode()
    slot = re.search(r'<option value="(2026-11-23T0[0-9]:[0-9:]+\+00:00)"', html)
    assert slot, "today's free slots are offered"

    response = browser.post(
        f"/shop/inquiries/{ticket.id}/callback/", {"slot": slot.group(1), "phone": "+86 138 0013 8000"}
    )

    assert response.status_code == 302
    callback = Callback.objects.get(ticket=ticket)
    assert callback.phone == "+8613800138000" and callback.owner == ana.user
    assert "We will call you on" in browser.get(f"/shop/inquiries/{ticket.id}/").content.decode()


def test_a_taken_or_made_up_callback_time_is_refused_with_the_reason(ana, inquiry) -> None:
    ticket = inquiry("想电话沟通")
    browser = shopper_of(ticket)
    response = browser.post(
        f"/shop/inquiries/{ticket.id}/callback/", {"slot": "2020-01-01T00:00:00+00:00", "phone": "+8613800138000"}
    )
    assert response.status_code == 400
    assert "no longer free" in response.content.decode()
    assert not Callback.objects.exists()


def test_shopper_a_never_sees_shopper_bs_inquiry_message_or_photo(ana, inquiry) -> None:
    a, b = inquiry("A 的戒指"), inquiry("B 的项链")
    b_message = reply_to_shopper(
        ticket_id=b.id, by=ana.user, body="B 的回复", photos=prepare_images([photo("b.png", image_bytes("PNG"))])
    )
    b_photo = Attachment.objects.get(message=b_message)
    browser_a = shopper_of(a)

    for url in [
        f"/shop/inquiries/{b.id}/",
        f"/shop/inquiries/{b.id}/live/",
        f"/shop/inquiries/{b.id}/photos/{b_photo.id}/",
        f"/shop/inquiries/{b.id}/photos/{b_photo.id}/thumb/",
        # A's own inquiry id with B's photo id: the photo must belong to the inquiry named.
        f"/shop/inquiries/{a.id}/photos/{b_photo.id}/",
        f"/shop/inquiries/{a.id}/photos/{b_photo.id}/thumb/",
    ]:
        response = browser_a.get(url)
        assert response.status_code == 404, url
        assert "B 的" not in response.content.decode(errors="replace"), url
    for action in ["messages", "person", "cancel", "callback", "rating"]:
        assert browser_a.post(f"/shop/inquiries/{b.id}/{action}/", {"body": "hi"}).status_code == 404, action
    assert not Message.objects.filter(ticket=b, body="hi").exists()
    assert Ticket.objects.get(pk=b.id).handoff_requested_at is None
    # A stranger with no link sees nothing either.
    assert Client().get(f"/shop/inquiries/{a.id}/").status_code == 404


def test_photos_on_internal_notes_are_never_served_to_the_shopper(ana, inquiry) -> None:
    ticket = inquiry("戒指")
    note = add_internal_note(ticket_id=ticket.id, by=ana.user, body="note")
    hidden = Attachment.objects.create(message=note, file="x.png", content_type="image/png", size=1, width=1, height=1)
    assert shopper_of(ticket).get(f"/shop/inquiries/{ticket.id}/photos/{hidden.id}/").status_code == 404


def test_an_agent_reply_with_a_photo_shows_on_the_shoppers_page(ana, inquiry, signed_in) -> None:
    AgentProfile.objects.filter(pk=ana.pk)  # Ana holds the inquiry
    ticket = inquiry("樱桃烂了一半")
    response = signed_in(ana).post(
        f"/console/tickets/{ticket.id}/reply/",
        {"body": "请看这张示意图", "photos": [photo("guide.png", image_bytes("PNG"))]},
    )
    assert response.status_code == 302
    photo_row = Attachment.objects.get(message__ticket=ticket)
    html = shopper_of(ticket).get(f"/shop/inquiries/{ticket.id}/").content.decode()
    assert f"/shop/inquiries/{ticket.id}/photos/{photo_row.id}/" in html


def test_a_reply_the_open_page_showed_is_not_sent_by_email_or_sms_as_well(ana, inquiry, settings) -> None:
    from notifications.models import Notification, NotificationStatus
    from notifications.services.outbox import send_due_notifications

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ticket = inquiry("戒指上的钻石松了")
    Shopper.objects.filter(pk=ticket.shopper_id).update(email="wang@example.cn", phone="+8613800138000")
    browser = shopper_of(ticket)
    reply = reply_to_shopper(ticket_id=ticket.id, by=ana.user, body="请把订单号发给我")
    assert "请把订单号发给我" in browser.get(f"/shop/inquiries/{ticket.id}/live/").content.decode()
    ticket.refresh_from_db()
    assert ticket.shopper_seen_message_id == reply.id

    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_SEEN_GRACE_SECONDS + 1)
    send_due_notifications(now=later)
    assert set(Notification.objects.filter(ticket=ticket).values_list("status", flat=True)) == {
        NotificationStatus.SUPPRESSED
    }
