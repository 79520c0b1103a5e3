"""Pages: the shopper's callback page (signed link) and the console's callback actions.

Every action is a plain POST form calling one service; a refusal or bad input comes back as a
message on the page it was sent from, never as an error page.
"""

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from callbacks import services
from callbacks.forms import BookCallbackForm, OutcomeForm, SlotChoiceForm
from callbacks.links import LinkExpired, LinkInvalid, make_link_token, read_link_token
from callbacks.models import ACTIVE_STATUSES, Callback, CallbackStatus
from callbacks.rendering import django_language, format_local, format_when, who_calls
from callbacks.selectors import workable_callbacks
from callbacks.states import InvalidCallbackTransition
from console.views import console_view, safe_next, user_of, visible_ticket_or_404
from teams.models import AgentProfile

HTTP_BAD_REQUEST = 400
HTTP_NOT_FOUND = 404
HTTP_GONE = 410
SHOPPER_SLOT_DAYS = 7
# A shopper link works while the callback is planned, and after a missed one (to book again).
LINK_ENDS_WITH = (CallbackStatus.CANCELLED, CallbackStatus.COMPLETED)


def error_text(exc: Exception) -> str:
    """One readable line from a service's refusal."""
    if isinstance(exc, ValidationError):
        return " ".join(str(message) for message in exc.messages)
    if isinstance(exc, InvalidCallbackTransition):
        return _("not possible while the callback is %(status)s.") % {"status": exc.current.replace("_", " ")}
    return str(exc)


def agent_time_zone(user: User) -> str:
    profile = AgentProfile.objects.filter(user=user).only("time_zone").first()
    return profile.time_zone if profile else "UTC"


# --- The shopper's page (signed link) -----------------------------------------------------------


def _shopper_callback(request: HttpRequest, token: str) -> Callback | HttpResponse:
    """The callback the link names, or the page that explains why the link cannot be used."""
    try:
        callback_id = read_link_token(token)
    except LinkExpired:
        return render(request, "callbacks/link_problem.html", {"problem": "expired"}, status=HTTP_GONE)
    except LinkInvalid:
        return render(request, "callbacks/link_problem.html", {"problem": "invalid"}, status=HTTP_BAD_REQUEST)
    callback = (
        Callback.objects.select_related("ticket__shopper", "queue", "owner__agent_profile")
        .filter(pk=callback_id)
        .first()
    )
    if callback is None:
        return render(request, "callbacks/link_problem.html", {"problem": "gone"}, status=HTTP_NOT_FOUND)
    if callback.status in LINK_ENDS_WITH:
        # The link dies with the callback: whoever holds an old copy can no longer see the phone
        # number or book in the shopper's name. The shopper's messages point to their inquiry.
        with translation.override(django_language(callback.ticket.shopper.language)):
            context = {"problem": "closed", "closed_status": callback.status}
            return render(request, "callbacks/link_problem.html", context, status=HTTP_GONE)
    return callback


def _shopper_slots(callback: Callback) -> list[dict[str, Any]]:
    shopper = callback.ticket.shopper
    slots = services.available_slots(
        queue=callback.queue, now=timezone.now(), days=SHOPPER_SLOT_DAYS, exclude_callback_id=callback.pk
    )
    return [
        {
            "value": slot.start.isoformat(),
            "label": f"{format_local(slot.start, shopper.time_zone, shopper.language)}–"
            f"{format_local(slot.end, shopper.time_zone, shopper.language)[-5:]}",
            "remaining": slot.remaining,
        }
        for slot in slots
        # The shopper's current time is not "another time".
        if not (callback.is_active and slot.start == callback.scheduled_at)
    ]


@require_GET
def shopper_page(request: HttpRequest, token: str) -> HttpResponse:
    found = _shopper_callback(request, token)
    if isinstance(found, HttpResponse):
        return found
    callback = found
    shopper = callback.ticket.shopper
    with translation.override(django_language(shopper.language)):
        context = {
            "callback": callback,
            "token": token,
            "when": format_when(callback, shopper.time_zone, shopper.language),
            "who": who_calls(callback),
            "is_active": callback.status in ACTIVE_STATUSES,
            # Not while an agent is on the call (the service refuses it too).
            "can_move": callback.status in (CallbackStatus.SCHEDULED, CallbackStatus.DUE),
            "slots": _shopper_slots(callback),
            "shopper_language": django_language(shopper.language),
        }
        return render(request, "callbacks/shopper_page.html", context)


def _shopper_action(request: HttpRequest, token: str, action: str) -> HttpResponse:
    found = _shopper_callback(request, token)
    if isinstance(found, HttpResponse):
        return found
    callback = found
    target = reverse("callbacks:shopper_page", args=[token])
    with translation.override(django_language(callback.ticket.shopper.language)):
        try:
            if action == "confirm":
                services.confirm_callback(callback_id=callback.pk)
                messages.success(request, _("Thank you: your callback is confirmed."))
            elif action == "cancel":
                services.cancel_callback(callback_id=callback.pk)
                messages.success(request, _("Your callback is cancelled."))
            else:
                form = SlotChoiceForm(request.POST)
                if not form.is_valid():
                    messages.error(request, _("Pick one of the offered times."))
                    return HttpResponseRedirect(target)
                slot = form.cleaned_data["slot"]
                window_end = _slot_end(callback, slot)
                if action == "reschedule":
                    services.reschedule_callback(callback_id=callback.pk, scheduled_at=slot, window_end=window_end)
                    messages.success(request, _("Your callback has moved to the new time."))
                elif callback.status in ACTIVE_STATUSES:
                    messages.error(request, _("This callback is still planned: move it instead."))
                else:  # book again after a missed, cancelled or completed callback
                    new = services.book_callback(
                        ticket=callback.ticket, scheduled_at=slot, window_end=window_end, phone=callback.phone
                    )
                    messages.success(request, _("Your new callback is booked."))
                    target = reverse("callbacks:shopper_page", args=[make_link_token(new.pk)])
        except (ValidationError, services.CallbackError, InvalidCallbackTransition) as exc:
            messages.error(request, _("That did not work: %(reason)s") % {"reason": error_text(exc)})
    return HttpResponseRedirect(target)


def _slot_end(callback: Callback, start: datetime) -> datetime | None:
    """A shopper books a whole slot: the window is the slot (None: not a slot start, and the
    service then refuses the time or books it exactly)."""
    for slot in services.available_slots(
        queue=callback.queue, now=timezone.now(), days=SHOPPER_SLOT_DAYS + 7, include_full=True
    ):
        if slot.start == start:
            return slot.end
    return None


@require_POST
def shopper_confirm(request: HttpRequest, token: str) -> HttpResponse:
    return _shopper_action(request, token, "confirm")


@require_POST
def shopper_cancel(request: HttpRequest, token: str) -> HttpResponse:
    return _shopper_action(request, token, "cancel")


@require_POST
def shopper_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    return _shopper_action(request, token, "reschedule")


@require_POST
def shopper_book_again(request: HttpRequest, token: str) -> HttpResponse:
    return _shopper_action(request, token, "book")


# --- Console actions ------------------------------------------------------------------------------


@require_POST
@console_view
def book_for_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = user_of(request)
    ticket = visible_ticket_or_404(request, ticket_id)
    target = safe_next(request, reverse("console:ticket", args=[ticket.id]))
    form = BookCallbackForm(request.POST, time_zone=agent_time_zone(user))
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[name].label}: {' '.join(str(error) for error in errors)}"
            for name, errors in form.errors.items()
        )
        messages.error(request, _("The callback was not booked: %(reason)s") % {"reason": problems})
        return HttpResponseRedirect(target)
    try:
        callback = services.book_callback(
            ticket=ticket,
            scheduled_at=form.cleaned_data["scheduled_at"],
            window_end=form.window_end(),
            phone=form.cleaned_data["phone"],
            owner=user if form.cleaned_data["owner"] == "me" else None,
            note=form.cleaned_data["note"],
            booked_by=user,
        )
    except (ValidationError, services.CallbackError) as exc:
        messages.error(request, _("The callback was not booked: %(reason)s") % {"reason": error_text(exc)})
    else:
        messages.success(
            request,
            _("Callback booked for %(when)s; the shopper is notified.")
            % {"when": format_when(callback, agent_time_zone(user), "en" if not _is_zh() else "zh")},
        )
    return HttpResponseRedirect(target)


def _is_zh() -> bool:
    return (translation.get_language() or "en").startswith("zh")


def _workable_or_none(request: HttpRequest, callback_id: int) -> Callback | None:
    return workable_callbacks(user_of(request)).filter(pk=callback_id).first()


def _callback_action(request: HttpRequest, callback_id: int, action: str) -> HttpResponse:
    user = user_of(request)
    callback = _workable_or_none(request, callback_id)
    fallback = reverse("console:inbox")
    if callback is None:
        messages.error(request, _("No callback of yours has this id."))
        return HttpResponseRedirect(safe_next(request, fallback))
    target = safe_next(request, fallback)
    try:
        if action == "start":
            services.start_callback(callback_id=callback.pk, by=user)
            messages.success(request, _("Call %(phone)s now.") % {"phone": callback.phone})
        elif action == "cancel":
            services.cancel_callback(callback_id=callback.pk, by=user)
            messages.success(request, _("Callback cancelled; the shopper is told."))
        else:
            form = OutcomeForm(request.POST, time_zone=agent_time_zone(user))
            if not form.is_valid():
                problems = " ".join(" ".join(str(error) for error in errors) for errors in form.errors.values())
                messages.error(request, _("The outcome was not saved: %(reason)s") % {"reason": problems})
                return HttpResponseRedirect(target)
            updated = services.record_callback_outcome(
                callback_id=callback.pk,
                outcome=form.cleaned_data["outcome"],
                reschedule_to=form.cleaned_data.get("reschedule_to"),
                by=user,
            )
            messages.success(
                request,
                _("Outcome saved: the callback is now %(status)s.") % {"status": updated.get_status_display()},
            )
    except (ValidationError, services.CallbackError, InvalidCallbackTransition) as exc:
        messages.error(request, _("This could not be done: %(reason)s") % {"reason": error_text(exc)})
    return HttpResponseRedirect(target)


@require_POST
@console_view
def start(request: HttpRequest, callback_id: int) -> HttpResponse:
    return _callback_action(request, callback_id, "start")


@require_POST
@console_view
def outcome(request: HttpRequest, callback_id: int) -> HttpResponse:
    return _callback_action(request, callback_id, "outcome")


@require_POST
@console_view
def cancel(request: HttpRequest, callback_id: int) -> HttpResponse:
    return _callback_action(request, callback_id, "cancel")
