"""Working a callback in the console: start the call, record how it went."""

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from callbacks.models import Callback, CallbackStatus, NotificationKind, Outcome
from callbacks.services.booking import CallbackError, _locked_policy, _move, _reload, validate_time
from callbacks.services.hours import next_open_moment, policy_for
from callbacks.services.outbox import build_notifications, enqueue_notifications
from callbacks.states import check_transition
from tickets.events import notify_ticket_changed


def start_callback(*, callback_id: int, by: User, now: datetime | None = None) -> Callback:
    """An agent starts calling: the callback is theirs and counts one attempt. Atomic; calling
    start again by the same agent changes nothing; CallbackError when another agent is already
    on it (two agents must not dial the same shopper)."""
    now = now or timezone.now()
    with transaction.atomic():
        callback = _reload(callback_id, lock=True)
        if callback.status == CallbackStatus.IN_PROGRESS:
            if callback.started_by_id == by.pk:
                return callback
            raise CallbackError(_("Another agent is already calling this shopper."))
        check_transition(callback.status, CallbackStatus.IN_PROGRESS)
        callback.status = CallbackStatus.IN_PROGRESS
        callback.started_at = now
        callback.started_by = by
        callback.attempts += 1
        callback.reminder_due_at = None
        if callback.surfaced_at is None:  # started early, before the dispatcher surfaced it
            callback.surfaced_at = now
            callback.surfaced_to = by
        callback.save()
        notify_ticket_changed(callback.ticket, kind="callback_started")
    return callback


def record_callback_outcome(
    *,
    callback_id: int,
    outcome: str,
    by: User,
    reschedule_to: datetime | None = None,
    reschedule_window_end: datetime | None = None,
    now: datetime | None = None,
) -> Callback:
    """Record how a started call went. Atomic; the shopper's notification commits with it.

    reached → completed (shopper thanked). no answer → scheduled again after the queue's retry
    interval (moved to the next opening when that falls outside business hours) while attempts
    are left, else missed (shopper told, with a link to book again). wrong number → missed (told by
    email only). reschedule → moved to `reschedule_to` (required; business hours and slot room
    apply), shopper told the new time.
    """
    now = now or timezone.now()
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": [_("Choose one of the offered outcomes.")]})
    if outcome == Outcome.RESCHEDULE and reschedule_to is None:
        raise ValidationError({"reschedule_to": [_("Give the new time the shopper asked for.")]})
    with transaction.atomic():
        callback = _reload(callback_id, lock=True)
        if callback.status != CallbackStatus.IN_PROGRESS:
            raise CallbackError(
                _("Start the call first: this callback is %(status)s.") % {"status": callback.get_status_display()}
            )
        if callback.started_by_id not in (None, by.pk) and not by.has_perm("teams.supervise_queues"):
            raise CallbackError(_("Only the agent on this call can record its outcome."))
        policy = policy_for(callback.queue)
        callback.outcome = outcome
        kind: str | None
        if outcome == Outcome.REACHED:
            check_transition(callback.status, CallbackStatus.COMPLETED)
            callback.status = CallbackStatus.COMPLETED
            callback.completed_at = now
            callback.save()
            kind = NotificationKind.COMPLETED
        elif outcome == Outcome.WRONG_NUMBER:
            kind = _miss(callback, now=now)
        elif outcome == Outcome.NO_ANSWER:
            retry_at = next_open_moment(policy, now + timedelta(minutes=policy.retry_interval_minutes))
            if callback.attempts >= policy.max_attempts or retry_at is None:
                kind = _miss(callback, now=now)
            else:
                check_transition(callback.status, CallbackStatus.SCHEDULED)
                # A retry is the same promise at a later time: no new version, no new message.
                callback.status = CallbackStatus.SCHEDULED
                callback.scheduled_at = retry_at
                callback.window_end = None
                callback.surfaced_at = None
                callback.surfaced_to = None
                callback.started_at = None
                callback.started_by = None
                callback.save()
                kind = None
        else:
            assert reschedule_to is not None  # noqa: S101  # narrows the type: a reschedule outcome carries its time (validated above)
            locked = _locked_policy(policy)
            validate_time(
                policy=locked,
                scheduled_at=reschedule_to,
                window_end=reschedule_window_end,
                now=now,
                by_shopper=False,
                exclude_callback_id=callback.pk,
            )
            _move(callback, policy=locked, scheduled_at=reschedule_to, window_end=reschedule_window_end, now=now)
            callback.outcome = outcome
            callback.save(update_fields=["outcome"])
            kind = NotificationKind.RESCHEDULED
        if kind is not None:
            enqueue_notifications(build_notifications(callback, kind, now=now))
        notify_ticket_changed(callback.ticket, kind="callback_outcome")
    return callback


def _miss(callback: Callback, *, now: datetime) -> str:
    check_transition(callback.status, CallbackStatus.MISSED)
    callback.status = CallbackStatus.MISSED
    callback.missed_at = now
    callback.save()
    return NotificationKind.MISSED
