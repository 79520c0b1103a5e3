"""Booking, rescheduling, confirming and cancelling callbacks (agents and shoppers alike)."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callbacks.domain_events import emit_callback_event
from callbacks.models import (
    ACTIVE_STATUSES,
    BookedBy,
    Callback,
    CallbackPolicy,
    CallbackStatus,
    NotificationKind,
)
from callbacks.rendering import format_local
from callbacks.services.hours import policy_for, range_containing, slot_containing
from callbacks.services.outbox import build_notifications, enqueue_notifications
from callbacks.states import check_transition
from teams.models import AgentProfile, SpecialistQueue
from tickets.events import notify_ticket_changed
from tickets.models import Ticket, TicketStatus

_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
NOTE_MAX_LENGTH = 500


class CallbackError(Exception):
    """A request that cannot be done in the callback's or ticket's present state (HTTP 409)."""


def normalize_phone(value: str) -> str:
    """E.164-ish: 6 to 15 digits, optionally with a leading +; spaces, dashes, dots, brackets dropped."""
    compact = _PHONE_SEPARATORS.sub("", value or "")
    if not _PHONE.match(compact):
        raise ValidationError(
            {"phone": [_("Enter a phone number of 6 to 15 digits, optionally starting with + (e.g. +8613800138000).")]}
        )
    return compact


def validate_time(
    *,
    policy: CallbackPolicy,
    scheduled_at: datetime,
    window_end: datetime | None,
    now: datetime,
    by_shopper: bool,
    exclude_callback_id: int | None = None,
) -> None:
    """Raise ValidationError (by field) unless the time is bookable: in the future (shoppers: past
    the minimum notice), within the horizon, inside a slot of the business hours on a day that is
    not a holiday, a window ending by closing time, and a slot with room left.

    The room check is only final under the policy row lock taken by the callers."""
    if scheduled_at.tzinfo is None:
        raise ValidationError({"scheduled_at": [_("Give the time with its time zone.")]})
    notice = timedelta(minutes=policy.min_notice_minutes if by_shopper else 0)
    if scheduled_at < now:
        raise ValidationError({"scheduled_at": [_("This time is in the past.")]})
    if scheduled_at < now + notice:
        raise ValidationError(
            {"scheduled_at": [_("Book at least %(minutes)s minutes ahead.") % {"minutes": policy.min_notice_minutes}]}
        )
    if scheduled_at > now + timedelta(days=policy.booking_horizon_days):
        raise ValidationError(
            {
                "scheduled_at": [
                    _("Callbacks can be booked up to %(days)s days ahead.") % {"days": policy.booking_horizon_days}
                ]
            }
        )
    slot = slot_containing(policy, scheduled_at)
    if slot is None:
        local_day = scheduled_at.astimezone(_zone(policy)).date()
        holiday = next((h for h in policy.holidays.all() if h.date == local_day), None)
        if holiday is not None:
            message = _("%(date)s is a holiday (%(name)s): no callbacks that day.") % {
                "date": local_day.isoformat(),
                "name": holiday.name or _("holiday"),
            }
        else:
            message = _("This time is outside the queue's business hours.")
        raise ValidationError({"scheduled_at": [message]})
    if window_end is not None:
        if window_end <= scheduled_at:
            raise ValidationError({"window_end": [_("The window must end after it starts.")]})
        opening = range_containing(policy, scheduled_at)
        if opening is None or window_end > opening.closes:
            raise ValidationError({"window_end": [_("The window must end by closing time.")]})
    taken = Callback.objects.filter(
        queue=policy.queue_id, status__in=ACTIVE_STATUSES, scheduled_at__gte=slot[0], scheduled_at__lt=slot[1]
    )
    if exclude_callback_id is not None:
        taken = taken.exclude(pk=exclude_callback_id)
    if taken.count() >= policy.callbacks_per_slot:
        raise ValidationError({"scheduled_at": [_("This slot is full; pick another time.")]})


def check_bookable(
    *,
    queue: SpecialistQueue,
    scheduled_at: datetime,
    now: datetime,
    by_shopper: bool,
    window_end: datetime | None = None,
) -> None:
    """validate_time for a queue, read-only (no lock): raises ValidationError when not bookable."""
    validate_time(
        policy=policy_for(queue), scheduled_at=scheduled_at, window_end=window_end, now=now, by_shopper=by_shopper
    )


def _zone(policy: CallbackPolicy) -> ZoneInfo:
    return ZoneInfo(policy.time_zone)


def _locked_policy(policy: CallbackPolicy) -> CallbackPolicy:
    """Lock the queue's policy row: bookings of one queue take turns, so two shoppers racing for
    the last place of a slot cannot both get it (count and insert happen under this lock)."""
    locked = CallbackPolicy.objects.select_for_update().prefetch_related("hours", "holidays").get(pk=policy.pk)
    return locked


def reminder_time(policy: CallbackPolicy, scheduled_at: datetime, now: datetime) -> datetime | None:
    """When to remind: lead minutes before the call; none when that moment has passed already
    (the confirmation just told them); with a lead of 0, as the call comes due."""
    at = scheduled_at - timedelta(minutes=policy.reminder_lead_minutes)
    if policy.reminder_lead_minutes and at <= now:
        return None
    return at


def book_callback(
    *,
    ticket: Ticket,
    scheduled_at: datetime,
    phone: str,
    window_end: datetime | None = None,
    owner: User | None = None,
    note: str = "",
    booked_by: User | None = None,
    now: datetime | None = None,
) -> Callback:
    """Book a callback on the ticket's queue and put its confirmation in the outbox.

    Atomic (callback and notifications commit together); raises ValidationError by field for a
    bad phone, time or window and for a full slot, CallbackError for a ticket that cannot take
    callbacks (closed or resolved, not yet in a queue, or with a callback still planned: one at a time per
    inquiry). booked_by None means the shopper booked it.
    """
    now = now or timezone.now()
    by_shopper = booked_by is None
    phone = normalize_phone(phone)
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": [_("Keep the note under %(n)s characters.") % {"n": NOTE_MAX_LENGTH}]})
    if ticket.status == TicketStatus.CLOSED:
        raise CallbackError(_("This inquiry is closed; it takes no callbacks."))
    if ticket.status == TicketStatus.RESOLVED:
        # Resolved is read-only until reopened (an agent's Reopen, or the shopper writing again).
        raise CallbackError(_("This inquiry is resolved; reopen it before booking a callback."))
    if ticket.queue_id is None or ticket.queue is None:
        raise CallbackError(_("This inquiry is not in a specialist queue yet; try again in a moment."))
    if owner is not None and not AgentProfile.objects.filter(user=owner).exists():
        raise ValidationError({"owner": [_("Only an agent can own a callback.")]})
    policy = policy_for(ticket.queue)
    with transaction.atomic():
        policy = _locked_policy(policy)
        # One planned callback per inquiry: a double submit (or a second booking) would have two
        # agents dial the same shopper. Checked under the queue's lock; the partial unique
        # constraint one_active_callback_per_ticket is the backstop.
        planned = Callback.objects.filter(ticket=ticket, status__in=ACTIVE_STATUSES).order_by("scheduled_at").first()
        if planned is not None:
            raise CallbackError(
                _("This inquiry already has a callback planned (%(when)s): move or cancel that one instead.")
                % {"when": _in_readers_zone(planned.scheduled_at, ticket=ticket, reader=booked_by)}
            )
        validate_time(policy=policy, scheduled_at=scheduled_at, window_end=window_end, now=now, by_shopper=by_shopper)
        callback = Callback.objects.create(
            ticket=ticket,
            queue_id=ticket.queue_id,
            owner=owner,
            booked_by=BookedBy.SHOPPER if by_shopper else BookedBy.AGENT,
            booked_by_user=booked_by,
            phone=phone,
            note=note,
            scheduled_at=scheduled_at,
            window_end=window_end,
            reminder_due_at=reminder_time(policy, scheduled_at, now),
            created_at=now,
        )
        callback = _reload(callback.pk)
        enqueue_notifications(build_notifications(callback, NotificationKind.CONFIRMATION, now=now))
        emit_callback_event("callback.booked", callback)
        notify_ticket_changed(callback.ticket, kind="callback_booked")
    return callback


def _in_readers_zone(at: datetime, *, ticket: Ticket, reader: User | None) -> str:
    """A time for a refusal message: in the agent's zone, or the shopper's (reader None)."""
    profile = AgentProfile.objects.filter(user=reader).only("time_zone").first() if reader else None
    tz_name = profile.time_zone if profile else ticket.shopper.time_zone
    return f"{format_local(at, tz_name, translation.get_language() or 'en')} ({tz_name})"


def _reload(callback_id: int, *, lock: bool = False) -> Callback:
    callbacks = Callback.objects.select_related("ticket__shopper", "queue", "owner__agent_profile")
    if lock:
        callbacks = callbacks.select_for_update(of=("self",))
    return callbacks.get(pk=callback_id)


def reschedule_callback(
    *,
    callback_id: int,
    scheduled_at: datetime,
    window_end: datetime | None = None,
    by: User | None = None,
    now: datetime | None = None,
) -> Callback:
    """Move a callback that has not been completed, missed or cancelled to another time; the
    shopper gets a "rescheduled" notice with the new time and a new calendar entry. Atomic.
    by None: the shopper (through their link), who must respect the minimum notice.
    CallbackError while an agent is on the call (the agent records "asked to reschedule")."""
    now = now or timezone.now()
    with transaction.atomic():
        callback = _reload(callback_id, lock=True)
        if callback.status == CallbackStatus.IN_PROGRESS:
            # Moving it now would pull the call from under the agent dialling (their outcome
            # would then be refused) and lose the attempt they started.
            raise CallbackError(_("We are calling you right now; this callback cannot be moved any more."))
        check_transition(callback.status, CallbackStatus.SCHEDULED)
        policy = _locked_policy(policy_for(callback.queue))
        validate_time(
            policy=policy,
            scheduled_at=scheduled_at,
            window_end=window_end,
            now=now,
            by_shopper=by is None,
            exclude_callback_id=callback.pk,
        )
        _move(callback, policy=policy, scheduled_at=scheduled_at, window_end=window_end, now=now)
        enqueue_notifications(build_notifications(callback, NotificationKind.RESCHEDULED, now=now))
        emit_callback_event("callback.rescheduled", callback)
        notify_ticket_changed(callback.ticket, kind="callback_rescheduled")
    return callback


def _move(
    callback: Callback, *, policy: CallbackPolicy, scheduled_at: datetime, window_end: datetime | None, now: datetime
) -> None:
    callback.scheduled_at = scheduled_at
    callback.window_end = window_end
    callback.status = CallbackStatus.SCHEDULED
    callback.version += 1
    callback.confirmed_at = None
    callback.surfaced_at = None
    callback.surfaced_to = None
    callback.started_at = None
    callback.started_by = None
    callback.reminder_due_at = reminder_time(policy, scheduled_at, now)
    callback.save()


def cancel_callback(*, callback_id: int, by: User | None = None, now: datetime | None = None) -> Callback:
    """Cancel a callback that is still to happen; the shopper is told (with a link to book again).
    Idempotent: cancelling a cancelled callback changes nothing and sends nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        callback = _reload(callback_id, lock=True)
        if callback.status == CallbackStatus.CANCELLED:
            return callback
        check_transition(callback.status, CallbackStatus.CANCELLED)
        callback.status = CallbackStatus.CANCELLED
        callback.cancelled_at = now
        callback.reminder_due_at = None
        callback.save()
        enqueue_notifications(build_notifications(callback, NotificationKind.CANCELLED, now=now))
        emit_callback_event("callback.cancelled", callback)
        notify_ticket_changed(callback.ticket, kind="callback_cancelled")
    return callback


def confirm_callback(*, callback_id: int, now: datetime | None = None) -> Callback:
    """The shopper confirms the time through their link. Idempotent (the first confirmation's
    time is kept); CallbackError when the callback is over or cancelled."""
    now = now or timezone.now()
    with transaction.atomic():
        callback = _reload(callback_id, lock=True)
        if callback.status not in ACTIVE_STATUSES:
            raise CallbackError(
                _("This callback is %(status)s; there is nothing to confirm.")
                % {"status": callback.get_status_display()}
            )
        if callback.confirmed_at is None:
            callback.confirmed_at = now
            callback.save(update_fields=["confirmed_at", "updated_at"])
            notify_ticket_changed(callback.ticket, kind="callback_confirmed")
    return callback
