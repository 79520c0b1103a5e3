"""An agent's public reply, a resolution and a reopened inquiry reach the shopper by their
channel (email for email inquiries, a short SMS with the page's link for chat and phone), once per
event, a short while later — and not at all when the shopper's page showed it meanwhile."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction

from core.events import emit
from notifications.models import Notification, NotificationStatus
from notifications.services.inbound import read_reply_address
from notifications.services.outbox import send_due_notifications
from routing.services import add_internal_note, add_shopper_message, reply_to_shopper, resolve_ticket
from tests.notifications.conftest import MONDAY_10_SHANGHAI
from tickets.links import read_access_token
from tickets.models import Channel, TicketStatus
from tickets.services import record_shopper_seen

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

GRACE = timedelta(seconds=20)
LATER = MONDAY_10_SHANGHAI + GRACE


def _link_in(text: object) -> str:
    return next(word for word in str(text).split() if word.startswith("https://shop.example/shop/access/"))


def test_an_agent_reply_on_an_email_inquiry_is_emailed_in_the_shoppers_language_with_a_signed_reply_to(
    ana, wang, ticket_of
) -> None:
    ticket = ticket_of(wang, channel=Channel.EMAIL)
    message = reply_to_shopper(ticket_id=ticket.pk, by=ana.user, body="您好，我们今天为您补发新手链。")

    [row] = Notification.objects.all()
    assert (row.kind, row.channel, row.recipient, row.language) == ("reply", "email", "wang@example.cn", "zh-hans")
    assert row.idempotency_key == f"ticket:{ticket.pk}:reply:{message.pk}:email"
    assert row.next_attempt_at == MONDAY_10_SHANGHAI + GRACE  # a short wait for the "seen" check
    assert send_due_notifications(now=MONDAY_10_SHANGHAI).sent == 0

    assert send_due_notifications(now=LATER).sent == 1
    [email] = mail.outbox
    assert email.to == ["wang@example.cn"]
    assert email.subject == f"Ana回复了您的咨询 #{ticket.pk}"
    assert "您好，我们今天为您补发新手链。" in email.body and "王女士，您好" in email.body
    assert read_access_token(_link_in(email.body).split("/access/")[1].rstrip("/")) == (ticket.pk, "")
    # Answering the email lands in this ticket: the Reply-To is the ticket's signed address.
    [reply_to] = email.reply_to
    assert reply_to.endswith("@reply.shop.example") and read_reply_address(reply_to) == ticket.pk
    assert email.extra_headers["X-Idempotency-Key"] == row.idempotency_key


def test_a_reply_on_a_chat_goes_by_short_sms_with_the_pages_link(ana, emma, ticket_of, sms_sent) -> None:
    ticket = ticket_of(emma, channel=Channel.CHAT)
    long_reply = "We are sorry about the clasp. " * 10
    reply_to_shopper(ticket_id=ticket.pk, by=ana.user, body=long_reply)

    send_due_notifications(now=LATER)
    [sms] = sms_sent()
    assert sms["to"] == "+491701234567"
    assert sms["body"].startswith(f"Ana replied to your inquiry #{ticket.pk}: We are sorry about the clasp.")
    assert "…" in sms["body"] and len(sms["body"]) < 220  # an excerpt, not the whole reply
    assert read_access_token(_link_in(sms["body"]).split("/access/")[1].rstrip("/")) == (ticket.pk, "")
    assert mail.outbox == []


def test_a_chat_shopper_without_a_phone_gets_email_and_one_with_neither_gets_nothing(ana, ticket_of) -> None:
    from tests.factories import ShopperFactory

    email_only = ticket_of(ShopperFactory(email="li@example.cn", phone=""), channel=Channel.CHAT)
    nothing = ticket_of(ShopperFactory(email="", phone=""), channel=Channel.PHONE)
    reply_to_shopper(ticket_id=email_only.pk, by=ana.user, body="好的")
    reply_to_shopper(ticket_id=nothing.pk, by=ana.user, body="好的")
    assert list(Notification.objects.values_list("ticket_id", "channel")) == [(email_only.pk, "email")]


def test_internal_notes_and_the_shoppers_own_messages_notify_nobody(ana, wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    add_internal_note(ticket_id=ticket.pk, by=ana.user, body="customer seems upset")
    add_shopper_message(ticket_id=ticket.pk, body="还有一个问题")
    assert Notification.objects.count() == 0


def test_the_same_event_told_twice_makes_one_notification(ana, wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    message = reply_to_shopper(ticket_id=ticket.pk, by=ana.user, body="第一条回复")
    data = {
        "ticket_id": ticket.pk,
        "message_id": message.pk,
        "author_kind": "agent",
        "author_id": ana.user.pk,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }
    with transaction.atomic():
        emit("message.created", data=data, ticket_id=ticket.pk)
    assert Notification.objects.count() == 1
    send_due_notifications(now=LATER)
    assert len(mail.outbox) == 1


def test_a_reply_the_shopper_saw_on_the_page_is_not_sent(ana, wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    message = reply_to_shopper(ticket_id=ticket.pk, by=ana.user, body="已为您补发")
    # The shopper's page is open: it re-reads and shows the reply within a second.
    assert record_shopper_seen(ticket_id=ticket.pk, last_message_id=message.pk)

    assert send_due_notifications(now=LATER).suppressed == 1
    assert Notification.objects.get().status == NotificationStatus.SUPPRESSED
    assert mail.outbox == []


def test_a_page_that_showed_only_older_messages_does_not_hold_back_a_new_reply(ana, wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    first = reply_to_shopper(ticket_id=ticket.pk, by=ana.user, body="第一条")
    record_shopper_seen(ticket_id=ticket.pk, last_message_id=first.pk)
    reply_to_shopper(ticket_id=ticket.pk, by=ana.user, body="第二条")
    record_shopper_seen(ticket_id=ticket.pk, last_message_id=first.pk - 1)  # an old tab: never moves back

    summary = send_due_notifications(now=LATER)
    assert (summary.sent, summary.suppressed) == (1, 1)
    assert "第二条" in mail.outbox[0].body


def test_a_resolution_asks_for_a_rating_through_the_pages_rating_link(ana, wang, emma, ticket_of, sms_sent) -> None:
    by_email = ticket_of(wang, channel=Channel.EMAIL)
    by_chat = ticket_of(emma, channel=Channel.CHAT)
    resolve_ticket(ticket_id=by_email.pk, by=ana.user)
    resolve_ticket(ticket_id=by_chat.pk, by=ana.user)

    assert send_due_notifications(now=LATER).sent == 2
    [email] = mail.outbox
    assert email.subject == f"您的咨询 #{by_email.pk} 已解决，请为我们的服务评分"
    token = _link_in(email.body).split("/access/")[1].rstrip("/")
    assert read_access_token(token) == (by_email.pk, "rate")
    [sms] = sms_sent()
    assert sms["body"].startswith(f"Your inquiry #{by_chat.pk} is resolved. How did we do? Rate us: ")
    assert read_access_token(_link_in(sms["body"]).split("/access/")[1].rstrip("/")) == (by_chat.pk, "rate")


def test_each_resolution_and_each_reopening_is_its_own_notification(ana, wang, ticket_of, clock) -> None:
    ticket = ticket_of(wang)
    resolve_ticket(ticket_id=ticket.pk, by=ana.user)
    clock.shift(timedelta(minutes=5))
    add_shopper_message(ticket_id=ticket.pk, body="还是不行")  # reopens: back to Ana (online, has room)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ASSIGNED
    clock.shift(timedelta(minutes=5))
    resolve_ticket(ticket_id=ticket.pk, by=ana.user)

    kinds = list(Notification.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["resolved", "reopened", "resolved"]
    send_due_notifications(now=MONDAY_10_SHANGHAI + timedelta(minutes=11))
    reopened = next(m for m in mail.outbox if "重新打开" in m.subject)
    assert "Ana会尽快回复您" in reopened.body


def test_a_reopening_the_shopper_made_on_the_page_is_not_announced_to_them(ana, wang, ticket_of, clock) -> None:
    ticket = ticket_of(wang)
    resolve_ticket(ticket_id=ticket.pk, by=ana.user)
    send_due_notifications(now=LATER)
    clock.shift(timedelta(minutes=5))
    message = add_shopper_message(ticket_id=ticket.pk, body="还是不行")
    clock.shift(timedelta(seconds=1))
    record_shopper_seen(ticket_id=ticket.pk, last_message_id=message.pk)  # the page re-reads after posting

    summary = send_due_notifications(now=MONDAY_10_SHANGHAI + timedelta(minutes=6))
    assert summary.suppressed == 1 and len(mail.outbox) == 1  # the resolution's email only


def test_a_rolled_back_reply_leaves_no_notification(ana, wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    with pytest.raises(RuntimeError), transaction.atomic():
        reply_to_shopper(ticket_id=ticket.pk, by=ana.user, body="draft")
        raise RuntimeError("the request failed after the reply")
    assert Notification.objects.count() == 0
