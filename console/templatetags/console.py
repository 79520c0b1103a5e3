"""Template helpers for the console: localized names, badges and labels."""

from datetime import datetime
from typing import Any

from django import template
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.html import json_script
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from classification import signals as sig
from console.panels import render_panels
from console.sla import sla_due
from teams.models import Category
from teams.selectors import categories_by_slug
from tickets.models import Intent, Ticket

register = template.Library()

# Label and badge style of each signal the classifier raises.
SIGNALS: dict[str, tuple[Any, str]] = {
    sig.ASKS_FOR_HUMAN: (_("Asks for a person"), "danger"),
    sig.SENSITIVE: (_("Sensitive"), "sensitive"),
    sig.NEGATIVE: (_("Negative"), "warning"),
    sig.REPEAT_CONTACT: (_("Repeat contact"), "warning"),
    sig.HIGH_VALUE: (_("High value"), "info"),
    sig.FRESH_GUARANTEE: (_("Fresh guarantee"), "success"),
    # Set by the proactive service on the tickets it opens from order events (proactive.services).
    "proactive": (_("Proactive"), "info"),
}

HIGH_PRIORITY = 30


@register.filter
def category_name(category: Category | None) -> str:
    """The category's name in the interface language."""
    if category is None:
        return ""
    language = get_language() or ""
    return category.name_zh if language.startswith("zh") else category.name_en


@register.filter
def category_label(slug: str) -> str:
    """A category slug as the category's name in the interface language (the categories come from
    the routing config cache: no query per row); an unknown slug as itself."""
    category = categories_by_slug().get(slug)
    return category_name(category) if category is not None else slug


@register.simple_tag
def skill_names(slugs: list[str] | None) -> str:
    """Category slugs (an agent's skills) as category names in the interface language."""
    return ", ".join(category_label(slug) for slug in slugs or [])


@register.filter
def person(user: User | None) -> str:
    """An agent's display name (needs agent_profile loaded alongside the user)."""
    if user is None:
        return ""
    try:
        profile = user.agent_profile
    except User.agent_profile.RelatedObjectDoesNotExist:
        profile = None
    if profile is not None and profile.display_name:
        return profile.display_name
    return user.get_full_name() or user.get_username()


@register.inclusion_tag("console/_signals.html")
def signal_badges(signals: list[str] | None) -> dict[str, Any]:
    badges = [(SIGNALS.get(code, (code.replace("_", " "), "neutral"))) for code in signals or []]
    return {"badges": badges}


@register.inclusion_tag("console/_priority_reason.html")
def priority_reason(ticket: Ticket, *, with_detail: bool = False) -> dict[str, Any]:
    """Why a Top-priority ticket is on top (console.priority.attach_priority_reasons sets it)."""
    return {"reason": getattr(ticket, "priority_reason", None), "with_detail": with_detail}


@register.inclusion_tag("console/_priority.html")
def priority_badge(priority: int) -> dict[str, Any]:
    if priority >= Ticket.PRIORITY_TOP:
        label, style = _("Top"), "danger"
    elif priority >= HIGH_PRIORITY:
        label, style = _("High"), "warning"
    elif priority > 0:
        label, style = _("Raised"), "info"
    else:
        label, style = _("Normal"), "neutral"
    return {"label": label, "style": style, "priority": priority}


@register.filter
def intent_label(value: str) -> str:
    if not value:
        return ""
    try:
        return str(Intent(value).label)
    except ValueError:
        return value


# How long a ticket has waited, in the words console.js also uses to keep it ticking between
# re-reads (console_strings), so a page need not be re-rendered for its clocks to move.
WAITED_STRINGS = {
    "waitedUnderMinute": _("under a minute"),
    "waitedMinutes": _("%(minutes)s min"),
    "waitedHours": _("%(hours)s h %(minutes)s min"),
    "waitedDays": _("%(days)s d %(hours)s h"),
    "waitedAgo": _("%(ago)s ago"),
}


@register.filter
def waited(since: datetime | None) -> str:
    """How long since then, to the minute ("under a minute" for the first one)."""
    if since is None:
        return ""
    minutes = int((timezone.now() - since).total_seconds() // 60)
    if minutes < 1:
        return str(WAITED_STRINGS["waitedUnderMinute"])
    hours, days = minutes // 60, minutes // 1440
    if days:
        return str(WAITED_STRINGS["waitedDays"]) % {"days": days, "hours": hours % 24}
    if hours:
        return str(WAITED_STRINGS["waitedHours"]) % {"hours": hours, "minutes": minutes % 60}
    return str(WAITED_STRINGS["waitedMinutes"]) % {"minutes": minutes}


@register.filter
def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


@register.filter
def excerpt(ticket: Ticket) -> str:
    """A ticket's title: its subject, or the start of what the shopper wrote."""
    text = ticket.subject or " ".join(ticket.body.split())
    return text if len(text) <= 80 else text[:79] + "…"


# A message longer than this (characters or lines) is shown collapsed, with "Show all".
LONG_MESSAGE_CHARACTERS = 700
LONG_MESSAGE_LINES = 12


@register.filter
def is_long(text: str) -> bool:
    return len(text) > LONG_MESSAGE_CHARACTERS or text.count("\n") >= LONG_MESSAGE_LINES


def _clock(seconds: float) -> str:
    seconds = int(abs(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@register.inclusion_tag("console/_sla.html")
def sla_countdown(ticket: Ticket) -> dict[str, Any]:
    """Time left to the queue's service level (console.sla); red past due. console's
    workspace.js keeps it ticking between re-reads."""
    due = sla_due(ticket)
    if due is None:
        return {"due": None}
    left = (due - timezone.now()).total_seconds()
    return {"due": due, "overdue": left < 0, "clock": _clock(left)}


@register.simple_tag
def console_strings() -> str:
    """The few strings console.js shows, in the interface language, as a JSON script element."""
    strings = {
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Reconnecting…"),
        "offline": _("Offline — retrying"),
        "soundOn": _("Sound on"),
        "soundOff": _("Sound off"),
        "newTicket": _("New ticket #%(id)s assigned to you"),
        "newMessage": _("New message from the shopper"),
        "newWaiting": _("Ticket #%(id)s is waiting in your queues"),
        "slaLeft": _("SLA %(time)s left"),
        "slaOver": _("SLA %(time)s over"),
        "showAll": _("Show the whole message"),
        "showLess": _("Show less"),
        "overLimit": _("%(count)s characters over the limit: shorten it, or send it in two parts."),
        "unsentDraft": _("You have an unsent draft on this ticket. Resolve it anyway?"),
        "thenResolve": _("then resolves the ticket"),
        "thenWaiting": _("then waits on the shopper"),
        "cannedReply": _("Canned reply"),
        "noMacro": _("No canned reply matches."),
        "newOffer": _("A ticket is offered to you: accept or decline"),
        "offerTitle": _("Offer waiting"),
        "seconds": _("%(seconds)s s"),
        **WAITED_STRINGS,
    }
    return json_script({key: str(value) for key, value in strings.items()}, "console-strings")


@register.simple_tag(takes_context=True)
def panels(context: template.Context, slot: str, *args: Any, **kwargs: Any) -> str:
    """The panels other apps registered for a slot of this page (console.panels)."""
    return render_panels(context, slot, *args, **kwargs)
