"""Shoppers answer notification emails: signed reply-to addresses and the inbound webhook's
service.

The address is `reply+<ticket id>-<mac>@<INBOUND_EMAIL_DOMAIN>`: the mac is an HMAC-SHA256 of the
ticket id under SECRET_KEY (salted), cut to 24 hex digits (96 bits: unguessable by trying).
Lower-case hex only, because mail systems may change the case of the local part, and short,
because a local part holds at most 64 characters. It does not expire: a shopper may answer an
old email, and a closed ticket refuses the message anyway.

The mail provider's webhook is authenticated separately (notifications.api), so a forged address
and a forged post are refused on their own.
"""

import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac

from notifications.models import InboundEmail
from routing.services import add_shopper_message
from tickets.models import Message, Ticket

SALT = "notifications.reply-address"
MAC_DIGITS = 24
ADDRESS = re.compile(rf"^reply\+(?P<ticket>\d{{1,18}})-(?P<mac>[0-9a-f]{{{MAC_DIGITS}}})@(?P<domain>[^@\s]+)$")


class ReplyAddressInvalid(Exception):
    """Not one of our reply addresses, or its signature does not match (forged, mangled)."""


class InboundEmailEmpty(Exception):
    """Nothing left once the quoted earlier conversation is taken away."""


def _mac(ticket_id: int) -> str:
    return salted_hmac(SALT, str(ticket_id), algorithm="sha256").hexdigest()[:MAC_DIGITS]


def reply_address(ticket_id: int) -> str:
    """The Reply-To of a ticket's notification emails; empty while INBOUND_EMAIL_DOMAIN is unset
    (replies then go to DEFAULT_FROM_EMAIL, outside the product)."""
    if not settings.INBOUND_EMAIL_DOMAIN:
        return ""
    return f"reply+{ticket_id}-{_mac(ticket_id)}@{settings.INBOUND_EMAIL_DOMAIN}"


def _addresses(recipient: str) -> list[str]:
    """The plain addresses in a To-like header value ("Shop <reply+…@…>, other@…")."""
    found = re.findall(r"<([^<>]+)>", recipient) or re.split(r"[,;\s]+", recipient)
    return [address.strip().lower() for address in found if "@" in address]


def read_reply_address(recipient: str) -> int:
    """The ticket id of the first of our signed reply addresses among the recipients; raises
    ReplyAddressInvalid when there is none (or its signature is wrong)."""
    for address in _addresses(recipient):
        match = ADDRESS.match(address)
        if match is None:
            continue
        domain = settings.INBOUND_EMAIL_DOMAIN.lower()
        if domain and match["domain"] != domain:
            continue
        ticket_id = int(match["ticket"])
        if hmac.compare_digest(match["mac"], _mac(ticket_id)):
            return ticket_id
        raise ReplyAddressInvalid("The reply address's signature does not match.")
    raise ReplyAddressInvalid("No reply address of ours among the recipients.")


# Where the quoted earlier conversation starts, as the common mail clients write it.
_WROTE = [
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),  # Gmail, Apple Mail, Thunderbird
    re.compile(r"^\s*在.{0,300}写道[:：]\s*$", re.DOTALL),  # the same clients in Chinese
]
_RULES = [
    re.compile(r"^\s*-{2,}\s*(Original Message|原始邮件|回复的原邮件|Forwarded message)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above the quoted headers
]
_OUTLOOK_FROM = re.compile(r"^\s*(From|发件人)\s*[:：]", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*(Sent|Date|To|发送时间|日期|收件人)\s*[:：]", re.IGNORECASE)


def _quote_starts(line: str, next_line: str) -> bool:
    if any(p.match(line) for p in _WROTE + _RULES):
        return True
    if _OUTLOOK_FROM.match(line) and _OUTLOOK_NEXT.match(next_line):
        return True
    # Gmail wraps a long "On … wrote:" line in two.
    return line.lstrip().startswith(("On ", "在")) and any(p.match(f"{line} {next_line}") for p in _WROTE)


def strip_quoted(text: str) -> str:
    """The new text of a reply: what comes before the quoted conversation ("On … wrote:", "在 …
    写道：", "-----Original Message-----", Outlook's header block), without ">"-quoted lines and
    without a signature after "-- "."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        if _quote_starts(line, next_line) or line.rstrip() == "--":
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    return "\n".join(kept).strip()


@dataclass(frozen=True)
class InboundResult:
    message: Message
    created: bool  # False: this Message-Id was taken in before; nothing new was written


def receive_reply_email(
    *, recipient: str, sender: str, text: str, message_id: str, stripped: bool = False
) -> InboundResult:
    """A shopper's email reply becomes a shopper message on its ticket (add_shopper_message: a
    resolved ticket reopens). Idempotent per Message-Id: a redelivered email returns the message
    the first delivery wrote (created=False). Atomic: on any refusal nothing is written.

    Raises ReplyAddressInvalid, Ticket.DoesNotExist, InboundEmailEmpty, or routing's RoutingError
    (a closed ticket)."""
    ticket_id = read_reply_address(recipient)
    message_id = message_id.strip().strip("<>").strip()
    earlier = InboundEmail.objects.filter(email_message_id=message_id).select_related("message").first()
    if earlier is not None and earlier.message is not None:
        return InboundResult(earlier.message, created=False)
    if not Ticket.objects.filter(pk=ticket_id).exists():
        raise Ticket.DoesNotExist(f"No ticket {ticket_id}")
    body = (text if stripped else strip_quoted(text)).strip()
    if not body:
        raise InboundEmailEmpty("The email has no text of its own besides the quoted conversation.")
    body = body[: settings.INQUIRY_BODY_MAX_LENGTH]
    try:
        with transaction.atomic():
            # The unique Message-Id first: of two racing deliveries one inserts, the other waits
            # on it and then fails here, before writing a message.
            inbound = InboundEmail.objects.create(email_message_id=message_id, ticket_id=ticket_id, sender=sender[:254])
            message = add_shopper_message(ticket_id=ticket_id, body=body)
            inbound.message = message
            inbound.save(update_fields=["message"])
    except IntegrityError:
        earlier = InboundEmail.objects.filter(email_message_id=message_id).select_related("message").first()
        if earlier is None or earlier.message is None:
            raise
        return InboundResult(earlier.message, created=False)
    return InboundResult(message, created=True)
