"""A callback's messages to the shopper (confirmation, reminder, reschedule, outcome, cancellation)
as rows of the shopper notification outbox (notifications.services.outbox sends and retries them).

Rendered once, here, in the transaction of the change (callbacks.rendering), so a retry sends
exactly the same text; each row names its callback (Notification.source).
"""

from datetime import datetime

from callbacks.links import shopper_link
from callbacks.models import Callback, NotificationKind, Outcome
from callbacks.rendering import build_ics, render_message
from notifications.models import Notification, NotificationChannel
from notifications.services.outbox import enqueue_notifications
from tickets.links import shopper_page_url

__all__ = ["build_notifications", "enqueue_notifications", "notification_key"]

# Kinds whose email carries the calendar file.
WITH_CALENDAR = {NotificationKind.CONFIRMATION, NotificationKind.RESCHEDULED, NotificationKind.CANCELLED}


def notification_key(callback: Callback, kind: str, channel: str) -> str:
    """The idempotency key: what makes two notifications "the same message".

    A confirmation or reschedule notice per version of the callback (a new time is a new
    message), a reminder per scheduled time, an outcome per attempt.
    """
    if kind in (NotificationKind.CONFIRMATION, NotificationKind.RESCHEDULED, NotificationKind.CANCELLED):
        return f"callback:{callback.pk}:{kind}:v{callback.version}:{channel}"
    if kind == NotificationKind.REMINDER:
        return f"callback:{callback.pk}:reminder:{callback.scheduled_at:%Y%m%dT%H%M%SZ}:{channel}"
    return f"callback:{callback.pk}:{kind}:a{callback.attempts}:{channel}"


def build_notifications(callback: Callback, kind: str, *, now: datetime) -> list[Notification]:
    """The outbox rows for one event: an SMS to the callback's phone and an email when the
    shopper has an address (after a wrong number, email only: an SMS would reach a stranger)."""
    shopper = callback.ticket.shopper
    # The callback's own link dies when it is cancelled or completed (callbacks.views): those
    # messages lead to the shopper's inquiry page instead.
    over = kind in (NotificationKind.CANCELLED, NotificationKind.COMPLETED)
    link = shopper_page_url(callback.ticket_id) if over else shopper_link(callback.pk)
    text = render_message(callback, kind=kind, link=link)
    rows = []
    if callback.phone and not (kind == NotificationKind.MISSED and callback.outcome == Outcome.WRONG_NUMBER):
        rows.append(
            Notification(
                idempotency_key=notification_key(callback, kind, NotificationChannel.SMS),
                ticket_id=callback.ticket_id,
                source=callback,
                kind=kind,
                channel=NotificationChannel.SMS,
                recipient=callback.phone,
                language=shopper.language,
                body=text.sms,
                next_attempt_at=now,
                created_at=now,
            )
        )
    if shopper.email:
        ics = ""
        if kind in WITH_CALENDAR:
            ics = build_ics(
                callback,
                summary=text.subject,
                description=text.body,
                link=link,
                now=now,
                cancelled=kind == NotificationKind.CANCELLED,
            )
        rows.append(
            Notification(
                idempotency_key=notification_key(callback, kind, NotificationChannel.EMAIL),
                ticket_id=callback.ticket_id,
                source=callback,
                kind=kind,
                channel=NotificationChannel.EMAIL,
                recipient=shopper.email,
                language=shopper.language,
                subject=text.subject[:200],
                body=text.body,
                ics=ics,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return rows
