"""What the shopper reads about an anomaly (the ticket's first message and the SMS or email), in
their language; rendered once, when the case opens, so a retried send says exactly the same."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.models import Notification, NotificationChannel
from proactive.models import AnomalyKind, Compensation
from tickets.links import shopper_page_url

# Shown on the shopper page when their new inquiry joined the case we opened about the order.
JOINED_NOTICE = gettext_lazy("We added your message to the case we opened about this order.")


def shopper_language(language: str) -> str:
    return "zh-hans" if (language or "zh").startswith("zh") else "en"


def format_when(at: datetime | None, language: str, tz_name: str = "Asia/Shanghai") -> str:
    if at is None:
        return ""
    from zoneinfo import ZoneInfo

    local = at.astimezone(ZoneInfo(tz_name))
    if language.startswith("zh"):
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


@dataclass(frozen=True)
class Words:
    subject: str
    body: str
    sms: str


def compose(
    *,
    kind: str,
    facts: dict[str, Any],
    language: str,
    compensation: str = Compensation.NONE,
    amount: str = "",
    currency: str = "",
) -> Words:
    """The anomaly explained to the shopper: what we saw, that we are on it, and any compensation."""
    from django.utils.dateparse import parse_datetime

    def when(key: str) -> str:
        value = facts.get(key)
        return format_when(parse_datetime(value) if isinstance(value, str) else None, language)

    order = facts.get("order_number", "")
    with translation.override(language):
        if kind == AnomalyKind.STALLED:
            place = facts.get("last_scan_place") or ""
            values = {"order": order, "when": when("moved_at"), "place": place}
            if place:
                what = (
                    _("Your parcel for order %(order)s has not moved since %(when)s (last seen: %(place)s).") % values
                )
            else:
                what = _("Your parcel for order %(order)s has not moved since %(when)s.") % values
        elif kind == AnomalyKind.LATE:
            what = _("Your order %(order)s was promised for %(when)s and has not arrived yet.") % {
                "order": order,
                "when": when("promised_at"),
            }
        elif kind == AnomalyKind.FAILED:
            if facts.get("state") == "returned":
                what = _("Your parcel for order %(order)s is being returned to the sender.") % {"order": order}
            else:
                what = _("The delivery of your order %(order)s did not succeed.") % {"order": order}
            if facts.get("failure_reason"):
                what = f"{what} ({facts['failure_reason']})"
        else:
            what = _(
                "Your fresh order %(order)s may not have stayed cold enough on its way. If anything arrives "
                "spoiled, you will not pay for it."
            ) % {"order": order}
        on_it = _("We noticed before you had to ask, and we are on it: a specialist is following it up.")
        money = f"{amount} {currency}".strip()
        extra = ""
        if compensation == Compensation.COUPON:
            extra = _("Late = compensated: a coupon worth %(amount)s is being added to your account.") % {
                "amount": money
            }
        elif compensation == Compensation.SHIPPING_REFUND:
            extra = _("Late = compensated: we are refunding your shipping fee of %(amount)s.") % {"amount": money}
        subject = _("About your order %(order)s") % {"order": order}
        body = " ".join(p for p in (str(what), str(on_it), str(extra)) if p)
        sms = body
    return Words(subject=str(subject), body=body, sms=sms)


def notifications_for(
    *, case_id: int, ticket_id: int, phone: str, email: str, language: str, words: Words, now: datetime
) -> list[Notification]:
    """The outbox rows: an SMS when there is a phone, an email when there is an address; each
    carries the link to the case's page on the shopper site. One key per case and channel."""
    link = shopper_page_url(ticket_id)
    rows = []
    if phone:
        rows.append(
            Notification(
                idempotency_key=f"proactive:{case_id}:{NotificationChannel.SMS}",
                ticket_id=ticket_id,
                kind="proactive",
                channel=NotificationChannel.SMS,
                recipient=phone,
                language=language,
                body=f"{words.sms} {link}",
                next_attempt_at=now,
                created_at=now,
            )
        )
    if email:
        with translation.override(language):
            follow = _("Follow it, or write to us, on this page:")
        rows.append(
            Notification(
                idempotency_key=f"proactive:{case_id}:{NotificationChannel.EMAIL}",
                ticket_id=ticket_id,
                kind="proactive",
                channel=NotificationChannel.EMAIL,
                recipient=email,
                language=language,
                subject=words.subject[:200],
                body=f"{words.body}\n\n{follow}\n{link}\n",
                next_attempt_at=now,
                created_at=now,
            )
        )
    return rows
