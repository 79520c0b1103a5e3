"""The words and files a shopper receives: notification texts in Chinese or English (the
shopper's language), times in the shopper's time zone, and the .ics calendar file.

Rendered once, when the notification is put in the outbox, so a retry sends exactly the same text.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import translation
from django.utils.translation import gettext as _

from callbacks.models import Callback, NotificationKind

WEEKDAYS_ZH = "一二三四五六日"


def django_language(language: str) -> str:
    return "zh-hans" if language.startswith("zh") else "en"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_local(at: datetime, tz_name: str, language: str) -> str:
    """A date and time in a time zone, written the way a reader of `language` expects."""
    local = at.astimezone(zone(tz_name))
    if language.startswith("zh"):
        return f"{local.year}年{local.month}月{local.day}日（周{WEEKDAYS_ZH[local.weekday()]}）{local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


def format_when(callback: Callback, tz_name: str, language: str) -> str:
    """ "Thu 26 Nov 2026, 10:00–10:30 (Asia/Shanghai)": the start, the window's end, the zone."""
    text = format_local(callback.scheduled_at, tz_name, language)
    if callback.window_end:
        text += f"–{callback.window_end.astimezone(zone(tz_name)):%H:%M}"
    return f"{text} ({tz_name})"


def who_calls(callback: Callback) -> str:
    owner = callback.owner
    if owner is not None:
        profile = getattr(owner, "agent_profile", None)
        return (profile.display_name if profile and profile.display_name else owner.get_username()) or ""
    return _("our %(queue)s specialists") % {"queue": callback.queue.label}


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str  # for email
    sms: str


def render_message(callback: Callback, *, kind: str, link: str) -> RenderedMessage:
    """The texts of one notification, in the shopper's language and time zone."""
    shopper = callback.ticket.shopper
    with translation.override(django_language(shopper.language)):
        values = {
            "name": shopper.name or _("customer"),
            "who": who_calls(callback),
            "when": format_when(callback, shopper.time_zone, shopper.language),
            "phone": callback.phone,
            "ticket": callback.ticket_id,
            "link": link,
        }
        if kind == NotificationKind.CONFIRMATION:
            subject = _("Your callback is booked: %(when)s") % values
            lead = _("%(who)s will call you at %(phone)s on %(when)s about your inquiry #%(ticket)s.") % values
            action = _("Confirm, pick another time or cancel: %(link)s") % values
            sms = _("Callback booked: %(who)s will call you on %(when)s. Confirm, change or cancel: %(link)s") % values
        elif kind == NotificationKind.REMINDER:
            subject = _("Reminder: we will call you on %(when)s") % values
            lead = (
                _("A reminder: %(who)s will call you at %(phone)s on %(when)s about your inquiry #%(ticket)s.") % values
            )
            action = _("Need another time? Change or cancel: %(link)s") % values
            sms = _("Reminder: %(who)s will call you on %(when)s. Change or cancel: %(link)s") % values
        elif kind == NotificationKind.RESCHEDULED:
            subject = _("Your callback has moved to %(when)s") % values
            lead = (
                _("Your callback about inquiry #%(ticket)s is now on %(when)s; %(who)s will call you at %(phone)s.")
                % values
            )
            action = _("Confirm, pick another time or cancel: %(link)s") % values
            sms = _("Your callback has moved to %(when)s. Confirm, change or cancel: %(link)s") % values
        elif kind == NotificationKind.COMPLETED:
            subject = _("Thank you for talking with us (inquiry #%(ticket)s)") % values
            lead = _("Our callback about your inquiry #%(ticket)s is complete. Thank you for your time.") % values
            action = _("If anything is still open, reply on your inquiry or book another callback: %(link)s") % values
            sms = _("Thank you for talking with us about inquiry #%(ticket)s.") % values
        elif kind == NotificationKind.MISSED:
            if callback.outcome == "wrong_number":
                lead = _("We could not reach you at %(phone)s: the number seems to be wrong.") % values
            else:
                lead = _("We called you at %(phone)s but could not reach you, so this callback is closed.") % values
            subject = _("We could not reach you (inquiry #%(ticket)s)") % values
            action = _("Book a new callback at a time that suits you: %(link)s") % values
            sms = _("We could not reach you for your callback. Book a new time: %(link)s") % values
        elif kind == NotificationKind.CANCELLED:
            subject = _("Your callback on %(when)s is cancelled") % values
            lead = _("Your callback on %(when)s about inquiry #%(ticket)s is cancelled.") % values
            action = _("You can book a new time here: %(link)s") % values
            sms = _("Your callback on %(when)s is cancelled. Book a new time: %(link)s") % values
        else:
            raise ValueError(f"unknown notification kind {kind!r}")
        greeting = _("Hello %(name)s,") % values
        signature = _("Customer service")
    body = f"{greeting}\n\n{lead}\n\n{action}\n\n— {signature}\n"
    return RenderedMessage(subject=subject, body=body, sms=sms)


# --- iCalendar (RFC 5545), written by hand: one event, UTC times, CRLF lines folded at 75 octets.


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        limit = 75 if not out else 74  # continuation lines start with a space
        if len(current) + len(encoded) > limit:
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def build_ics(
    callback: Callback, *, summary: str, description: str, link: str, now: datetime, cancelled: bool = False
) -> str:
    """A VCALENDAR with one VEVENT for the callback. UID is stable per callback and SEQUENCE is
    its version, so a calendar updates the event it already holds on a reschedule."""
    # An exact-time call is shown as a quarter of an hour; a window as the window.
    end = callback.window_end or callback.scheduled_at + timedelta(minutes=15)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//CX Console//Callbacks//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:callback-{callback.pk}@cxconsole",
        f"SEQUENCE:{callback.version}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(callback.scheduled_at)}",
        f"DTEND:{_utc(end)}",
        f"SUMMARY:{_escape(summary)}",
        f"DESCRIPTION:{_escape(description)}",
        f"URL:{link}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_fold(line) + "\r\n" for line in lines)
