"""Writes on callbacks: booking, working, dispatching (their notifications go to the outbox in
notifications.services).

Every function here is typed and keyword-only; every state change is atomic; the Callback
status moves only as callbacks.states allows.
"""

from callbacks.services.booking import (
    CallbackError,
    book_callback,
    cancel_callback,
    check_bookable,
    confirm_callback,
    normalize_phone,
    reschedule_callback,
)
from callbacks.services.dispatch import DispatchResult, DispatchRun, dispatch_due_callbacks, dispatch_until_done
from callbacks.services.hours import Slot, available_slots, next_open_moment, policy_for
from callbacks.services.work import record_callback_outcome, start_callback

__all__ = [
    "CallbackError",
    "DispatchResult",
    "DispatchRun",
    "Slot",
    "available_slots",
    "book_callback",
    "cancel_callback",
    "check_bookable",
    "confirm_callback",
    "dispatch_due_callbacks",
    "dispatch_until_done",
    "next_open_moment",
    "normalize_phone",
    "policy_for",
    "record_callback_outcome",
    "reschedule_callback",
    "start_callback",
]
