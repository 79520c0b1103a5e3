"""Callback filters for the callbacks templates, and the panels callbacks adds to the console's
pages (registered in callbacks.apps through console.panels): the ticket's callbacks on the ticket
page, due and upcoming callbacks on the inbox."""

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone, translation

from callbacks.forms import BookCallbackForm, OutcomeForm
from callbacks.models import ACTIVE_STATUSES, CallbackStatus
from callbacks.rendering import WEEKDAYS_ZH, zone
from callbacks.selectors import callback_work_for, callbacks_of_ticket

register = template.Library()


@register.filter
def in_tz(value: datetime | None, tz_name: str) -> str:
    """ "Mon 23 Nov 14:00" (in Chinese "11月23日（周一）14:00") in the given time zone, in the
    page's language (strftime's %a and %b are English whatever the page's language)."""
    if value is None:
        return ""
    local = value.astimezone(zone(tz_name or "UTC"))
    if (translation.get_language() or "").startswith("zh"):
        return f"{local.month}月{local.day}日（周{WEEKDAYS_ZH[local.weekday()]}）{local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b %H:%M}"


@register.filter
def hhmm_in_tz(value: datetime | None, tz_name: str) -> str:
    return value.astimezone(zone(tz_name or "UTC")).strftime("%H:%M") if value else ""


def _agent_tz(context: template.Context) -> str:
    profile = context.get("profile")
    return getattr(profile, "time_zone", "") or "UTC"


def _page_path(context: template.Context) -> str:
    """Where an action returns to: the page (never its live fragment's URL)."""
    request = context.get("request")
    return str(context.get("page_path") or getattr(request, "path", ""))


def callbacks_for_ticket(context: template.Context, ticket: Any, live: bool = False) -> dict[str, Any]:
    """The ticket's callbacks with start/outcome/cancel actions; with live=False also the
    booking form (kept out of the live part so a refresh never wipes what the agent types)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    tz = _agent_tz(context)
    callbacks = list(callbacks_of_ticket(ticket.id))
    data: dict[str, Any] = {
        "ticket": ticket,
        "callbacks": callbacks,
        "active_statuses": ACTIVE_STATUSES,
        "tz": tz,
        "user_id": getattr(user, "pk", None),
        "live": live,
        "csrf_token": context.get("csrf_token"),
        "request": request,
        "here": _page_path(context),
        "outcome_form": OutcomeForm(time_zone=tz, auto_id="outcome_%s"),
        # Resolved and closed tickets take no callbacks (callbacks.services.book_callback refuses them).
        "can_book": ticket.queue_id is not None and ticket.status not in ("closed", "resolved"),
    }
    if not live and data["can_book"]:
        # No list of free slots here: it would cost the page four more queries; a full slot or a
        # closed hour comes back as a message naming the reason.
        data["book_form"] = BookCallbackForm(initial={"phone": ticket.shopper.phone, "owner": "me"}, time_zone=tz)
    return data


def callbacks_inbox(context: template.Context) -> dict[str, Any]:
    """Due callbacks at the top of the inbox (mine first, then my queues'), and my next ones."""
    request = context.get("request")
    user = getattr(request, "user", None)
    tz = _agent_tz(context)
    work = callback_work_for(user, now=timezone.now()) if user is not None and user.is_authenticated else None
    due = work.due if work else []
    return {
        "due": due,
        "upcoming": work.upcoming if work else [],
        "tz": tz,
        "user_id": getattr(user, "pk", None),
        "csrf_token": context.get("csrf_token"),
        "request": request,
        "here": _page_path(context),
        # Only due callbacks show it: most re-reads of the inbox have none and build no form.
        "outcome_form": OutcomeForm(time_zone=tz, auto_id="inbox_outcome_%s") if due else None,
        "in_progress": CallbackStatus.IN_PROGRESS,
    }
