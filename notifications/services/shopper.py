"""Replies, resolutions and reopenings reach the shopper: the domain-event subscriber that turns
them into outbox rows, inside the transaction of the change (core.events).

One notification per event, by the shopper's channel: email for email inquiries, SMS (short,
with the page's link) for chat and phone; the web form and order page use the email address the
shopper gave, else the phone. No address for that channel: the other one; neither: none. Rows are
due NOTIFICATION_SEEN_GRACE_SECONDS later and skipped then if the shopper's page showed the
message (or, for a status change, was read after it): see notifications.services.outbox.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import Truncator

from core.events import Event
from notifications.models import Notification, NotificationChannel, NotificationTemplate
from notifications.rendering import load_templates, render_notification, template_language
from notifications.services.inbound import reply_address
from notifications.services.outbox import enqueue_notifications
from teams.models import localized_name
from tickets.links import shopper_page_url
from tickets.models import AuthorKind, Channel, Ticket

Kind = NotificationTemplate.Kind
EVENT_KINDS = {"message.created": Kind.REPLY, "ticket.resolved": Kind.RESOLVED, "ticket.reopened": Kind.REOPENED}
SMS_FIRST = {Channel.CHAT, Channel.PHONE}
SMS_EXCERPT_CHARS = 60


def shopper_channel(ticket: Ticket) -> tuple[str, str] | None:
    """(channel, address) to reach this ticket's shopper, or None when they left neither."""
    shopper = ticket.shopper
    email = (NotificationChannel.EMAIL, shopper.email)
    sms = (NotificationChannel.SMS, shopper.phone)
    for channel, address in (sms, email) if ticket.channel in SMS_FIRST else (email, sms):
        if address:
            return channel, address
    return None


def _kind_of(event: Event) -> str | None:
    kind = EVENT_KINDS.get(event.type)
    if kind == Kind.REPLY and event.data.get("author_kind") != AuthorKind.AGENT:
        return None  # the shopper's own messages (and system ones) notify nobody
    return kind


def _when(event: Event, key: str) -> datetime:
    value = event.data.get(key)
    parsed = parse_datetime(value) if isinstance(value, str) else value
    return parsed if isinstance(parsed, datetime) else event.occurred_at


def notification_key(event: Event, kind: str, channel: str) -> str:
    """What makes two notifications the same: the reply's message; the moment of the resolution
    or reopening (a ticket can be resolved and reopened several times)."""
    ticket_id = int(event.data["ticket_id"])
    if kind == Kind.REPLY:
        return f"ticket:{ticket_id}:reply:{int(event.data['message_id'])}:{channel}"
    at = _when(event, "resolved_at" if kind == Kind.RESOLVED else "reopened_at")
    return f"ticket:{ticket_id}:{kind}:{at:%Y%m%dT%H%M%S.%fZ}:{channel}"


def _agent_names(user_ids: set[int]) -> dict[int, str]:
    names = {}
    for user in User.objects.filter(pk__in=user_ids).select_related("agent_profile"):
        profile = getattr(user, "agent_profile", None)
        names[user.pk] = (profile.display_name if profile and profile.display_name else "") or user.get_username()
    return names


def notify_shopper_of(events: Sequence[Event]) -> None:
    """The core.events subscriber: outbox rows for agents' public replies, resolutions and
    reopenings in this batch. Costs nothing for a batch without such events (routing's); else
    three queries (tickets, agents, templates) and the insert, whatever the batch size."""
    wanted = [(event, kind) for event in events if (kind := _kind_of(event))]
    if not wanted:
        return
    tickets = Ticket.objects.select_related("shopper", "queue").in_bulk({int(e.data["ticket_id"]) for e, _ in wanted})
    agent_ids = {int(a) for e, _ in wanted if (a := e.data.get("author_id") or e.data.get("agent_id"))}
    names = _agent_names(agent_ids) if agent_ids else {}
    texts = load_templates({kind for _, kind in wanted})
    now = timezone.now()
    due = now + timedelta(seconds=settings.NOTIFICATION_SEEN_GRACE_SECONDS)
    rows = []
    for event, kind in wanted:
        ticket = tickets.get(int(event.data["ticket_id"]))
        if ticket is None:
            continue
        reach = shopper_channel(ticket)
        if reach is None:
            continue
        channel, address = reach
        shopper = ticket.shopper
        language = template_language(shopper.language)
        agent_id = event.data.get("author_id") or event.data.get("agent_id")
        message = str(event.data.get("body", "")) if kind == Kind.REPLY else ""
        context: dict[str, Any] = {
            "shopper_name": shopper.name or ("顾客" if language == "zh-hans" else "customer"),
            "ticket_id": ticket.pk,
            "subject": Truncator(ticket.subject or ticket.body).chars(40),
            "agent_name": names.get(int(agent_id), "") if agent_id else "",
            "team": localized_name(ticket.queue.name, ticket.queue.name_zh, language) if ticket.queue else "",
            "message": message,
            "message_short": Truncator(" ".join(message.split())).chars(SMS_EXCERPT_CHARS),
            "link": shopper_page_url(ticket.pk),
            "rate_link": shopper_page_url(ticket.pk, next_page="rate"),
        }
        text = render_notification(texts, kind=kind, channel=channel, language=language, context=context)
        rows.append(
            Notification(
                idempotency_key=notification_key(event, kind, channel),
                ticket=ticket,
                message_id=int(event.data["message_id"]) if kind == Kind.REPLY else None,
                kind=kind,
                channel=channel,
                recipient=address,
                language=text.language,
                subject=text.subject if channel == NotificationChannel.EMAIL else "",
                body=text.body,
                reply_to=reply_address(ticket.pk) if channel == NotificationChannel.EMAIL else "",
                skip_if_seen=True,
                next_attempt_at=due,
                created_at=now,
            )
        )
    enqueue_notifications(rows)
