"""A shopper answers a notification email: the mail provider posts it to the inbound webhook and
it lands in the same ticket as a shopper message — signed address and signed post, quoted text
taken away, each email once however often it is delivered."""

import hashlib
import hmac
import json
import time

import pytest
from rest_framework.test import APIClient

from notifications.models import InboundEmail
from notifications.services.inbound import reply_address, strip_quoted
from routing.services import cancel_inquiry, resolve_ticket
from tests.notifications.conftest import INBOUND_SECRET
from tickets.models import AuthorKind, Message, TicketStatus

pytestmark = [pytest.mark.django_db]

URL = "/api/v1/inbound-email/"

GMAIL_REPLY = """还是不对，搭扣装上去还是松的。

在 2026年11月23日周一 10:00，客户服务 <service@cxconsole.example> 写道：
> 王女士，您好：
>
> Ana回复了您的咨询 #12：我们今天为您补发新手链。
"""


def mailgun_form(recipient: str, *, text: str = GMAIL_REPLY, message_id: str = "<CAF=abc@mail.gmail.com>", **extra):
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(INBOUND_SECRET.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {
        "recipient": recipient,
        "sender": "wang@example.cn",
        "subject": "Re: Ana回复了您的咨询 #12",
        "body-plain": text,
        "Message-Id": message_id,
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
        **extra,
    }


def post_json(client: APIClient, payload: dict, *, secret: str = INBOUND_SECRET, at: int | None = None):
    body = json.dumps(payload, ensure_ascii=False)
    t = str(at or int(time.time()))
    signature = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return client.post(
        URL, data=body.encode(), content_type="application/json", HTTP_X_CX_SIGNATURE=f"t={t},v1={signature}"
    )


def shopper_messages(ticket) -> list[str]:
    return list(Message.objects.filter(ticket=ticket, author_kind=AuthorKind.SHOPPER).values_list("body", flat=True))


def test_a_mailgun_style_reply_lands_in_the_ticket_without_the_quoted_conversation(wang, ticket_of) -> None:
    ticket = ticket_of(wang, status=TicketStatus.WAITING_ON_SHOPPER)
    response = APIClient().post(URL, mailgun_form(f"Customer service <{reply_address(ticket.pk)}>"))

    assert response.status_code == 201, response.content
    assert response.json()["ticket_id"] == ticket.pk and response.json()["duplicate"] is False
    assert shopper_messages(ticket)[-1] == "还是不对，搭扣装上去还是松的。"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ASSIGNED  # back with Ana, as when the shopper writes on the page
    assert InboundEmail.objects.get().sender == "wang@example.cn"


def test_mailguns_stripped_text_is_taken_as_it_is(wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    form = mailgun_form(reply_address(ticket.pk), **{"stripped-text": "Thanks, that works!"})
    assert APIClient().post(URL, form, format="multipart").status_code == 201
    assert shopper_messages(ticket)[-1] == "Thanks, that works!"


def test_the_json_shape_signed_in_a_header_is_accepted(wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    payload = {
        "recipient": reply_address(ticket.pk),
        "sender": "wang@example.cn",
        "text": "On Mon, Nov 23, 2026 at 10:00 AM Customer service wrote:\n> hello",
        "message_id": "m-1@example.cn",
    }
    payload["text"] = "The new one arrived.\n\n" + payload["text"]
    response = post_json(APIClient(), payload)
    assert response.status_code == 201, response.content
    assert shopper_messages(ticket)[-1] == "The new one arrived."


def test_a_reply_to_a_resolved_ticket_reopens_it(ana, wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    resolve_ticket(ticket_id=ticket.pk, by=ana.user)
    assert APIClient().post(URL, mailgun_form(reply_address(ticket.pk))).status_code == 201
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ASSIGNED and ticket.assigned_agent_id == ana.user.pk


def test_the_same_email_delivered_twice_is_one_message(wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    client = APIClient()
    first = client.post(URL, mailgun_form(reply_address(ticket.pk)))
    again = client.post(URL, mailgun_form(reply_address(ticket.pk)))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "duplicate": True}
    assert len(shopper_messages(ticket)) == 1
    assert InboundEmail.objects.count() == 1


def test_a_forged_reply_address_is_refused_and_nothing_is_written(wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    genuine = reply_address(ticket.pk)
    other = ticket_of(wang)
    forged = genuine.replace(f"reply+{ticket.pk}-", f"reply+{other.pk}-")  # someone else's ticket, same mac
    for recipient in (forged, "service@cxconsole.example", genuine.replace("@reply.", "@evil.")):
        response = APIClient().post(URL, mailgun_form(recipient))
        assert response.status_code == 400 and "recipient" in response.json(), recipient
    assert InboundEmail.objects.count() == 0
    assert shopper_messages(other) == []


def test_a_signed_address_of_a_ticket_that_does_not_exist_is_404(db) -> None:
    response = APIClient().post(URL, mailgun_form(reply_address(999_999)))
    assert response.status_code == 404
    assert InboundEmail.objects.count() == 0


def test_a_post_without_the_providers_signature_or_with_an_old_one_is_refused(wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    client = APIClient()
    tampered = mailgun_form(reply_address(ticket.pk))
    tampered["signature"] = "0" * 64
    assert client.post(URL, tampered).status_code == 403
    payload = {"recipient": reply_address(ticket.pk), "text": "hi", "message_id": "m-2"}
    assert post_json(client, payload, secret="not-the-secret").status_code == 403
    assert post_json(client, payload, at=int(time.time()) - 3600).status_code == 403
    assert client.post(URL, payload, format="json").status_code == 403  # no signature header at all
    assert shopper_messages(ticket) == []


def test_without_a_configured_secret_the_endpoint_refuses_everything(wang, ticket_of, settings) -> None:
    ticket = ticket_of(wang)
    form = mailgun_form(reply_address(ticket.pk))
    settings.INBOUND_EMAIL_SECRET = ""
    assert APIClient().post(URL, form).status_code == 403


def test_missing_fields_and_an_email_with_nothing_but_the_quote_are_400(wang, ticket_of) -> None:
    ticket = ticket_of(wang)
    client = APIClient()
    no_id = post_json(client, {"recipient": reply_address(ticket.pk), "text": "hi"})
    assert no_id.status_code == 400 and "message_id" in no_id.json()
    only_quote = client.post(URL, mailgun_form(reply_address(ticket.pk), text="> quoted only\n"))
    assert only_quote.status_code == 400 and "text" in only_quote.json()
    not_json = client.post(URL, data=b"[1, 2]", content_type="application/json", HTTP_X_CX_SIGNATURE="t=1,v1=0")
    assert not_json.status_code == 403
    assert InboundEmail.objects.count() == 0


def test_a_reply_to_a_closed_inquiry_is_409_and_not_kept(wang, ticket_of) -> None:
    ticket = ticket_of(wang, status=TicketStatus.QUEUED)
    cancel_inquiry(ticket_id=ticket.pk)
    response = APIClient().post(URL, mailgun_form(reply_address(ticket.pk)))
    assert response.status_code == 409
    assert InboundEmail.objects.count() == 0


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("Yes please.\n\nOn Mon, 23 Nov 2026 at 10:00, Shop <s@x.example> wrote:\n> old", "Yes please."),
        ("Yes please.\n\nOn Mon, 23 Nov 2026 at 10:00, Customer service\n<s@x.example> wrote:\n> old", "Yes please."),
        ("好的\n\n在 2026年11月23日 10:00，客服 写道：\n> 旧", "好的"),
        ("Fine\n\n-----Original Message-----\nFrom: Shop\nSent: Monday", "Fine"),
        ("Fine\n\nFrom: Shop <s@x.example>\nSent: Monday, 23 November 2026 10:00\nTo: me", "Fine"),
        ("Fine\n________________________________\nFrom: Shop", "Fine"),
        ("Line one\n> quoted\nLine two\n-- \nWang, sent from my phone", "Line one\nLine two"),
        ("From: Beijing, the parcel never came", "From: Beijing, the parcel never came"),
    ],
)
def test_quoted_text_and_signatures_are_stripped(email: str, expected: str) -> None:
    assert strip_quoted(email) == expected
