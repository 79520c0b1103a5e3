"""At its time a callback surfaces once, to its agent when online or else to the queue; the agent
calls, records the outcome; no answer retries up to the queue's limit, then the shopper is told."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from callbacks.models import Callback, CallbackStatus
from callbacks.services import (
    CallbackError,
    dispatch_due_callbacks,
    dispatch_until_done,
    policy_for,
    record_callback_outcome,
    start_callback,
)
from notifications.models import Notification
from routing.services import set_agent_status
from tests.factories import queue
from tests.helpers import at_shanghai, notification_keys
from tickets.events import ticket_changed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def hints() -> Iterator[list[dict]]:
    received: list[dict] = []

    def listen(sender: object, **kwargs: object) -> None:
        received.append(kwargs)

    ticket_changed.connect(listen, dispatch_uid="test-callback-hints")
    yield received
    ticket_changed.disconnect(dispatch_uid="test-callback-hints")


def test_nothing_surfaces_before_its_time_and_then_it_surfaces_exactly_once(
    booked, ana, hints, django_capture_on_commit_callbacks
) -> None:
    callback = booked(at_shanghai(23, 14))
    assert dispatch_due_callbacks(now=at_shanghai(23, 13, 59)).surfaced == 0

    with django_capture_on_commit_callbacks(execute=True):
        first = dispatch_due_callbacks(now=at_shanghai(23, 14))
    second = dispatch_due_callbacks(now=at_shanghai(23, 14, 1))

    assert (first.surfaced, second.surfaced) == (1, 0)
    callback.refresh_from_db()
    assert (callback.status, callback.surfaced_to_id) == (CallbackStatus.DUE, ana.user_id)
    assert [h["kind"] for h in hints if h["kind"] == "callback_due"] == ["callback_due"]
    due_hint = next(h for h in hints if h["kind"] == "callback_due")
    assert due_hint["agent_ids"] == [ana.user_id] and due_hint["queue_id"] == queue("jewelry").id


def test_when_the_owner_is_not_online_it_surfaces_to_the_queue(booked, ana) -> None:
    callback = booked(at_shanghai(23, 14))
    set_agent_status(agent=ana, status="away")
    dispatch_due_callbacks(now=at_shanghai(23, 14))
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DUE and callback.surfaced_to_id is None


def test_due_work_of_an_agent_who_goes_offline_moves_to_the_queue(booked, ana) -> None:
    callback = booked(at_shanghai(23, 14))
    dispatch_due_callbacks(now=at_shanghai(23, 14))
    set_agent_status(agent=ana, status="offline")
    assert dispatch_due_callbacks(now=at_shanghai(23, 14, 1)).requeued == 1
    callback.refresh_from_db()
    assert callback.surfaced_to_id is None


def test_the_reminder_goes_out_at_its_lead_time_once(booked) -> None:
    callback = booked(at_shanghai(23, 14))
    assert dispatch_due_callbacks(now=at_shanghai(23, 12, 59)).reminders == 0
    assert dispatch_due_callbacks(now=at_shanghai(23, 13)).reminders == 1
    assert dispatch_due_callbacks(now=at_shanghai(23, 13, 1)).reminders == 0
    reminder_keys = [k for k in notification_keys() if ":reminder:" in k]
    assert reminder_keys == [
        f"callback:{callback.pk}:reminder:20261123T060000Z:email",
        f"callback:{callback.pk}:reminder:20261123T060000Z:sms",
    ]


def test_a_burst_is_dispatched_in_bounded_batches_until_done(booked, ana) -> None:
    policy = policy_for(queue("jewelry"))
    policy.callbacks_per_slot = 50
    policy.save()
    for minute in range(0, 25):
        booked(at_shanghai(23, 14, minute))
    with time_machine.travel(at_shanghai(23, 14, 30), tick=False):
        run = dispatch_until_done(batch_size=10)
    assert (run.surfaced, run.batches) == (25, 3)
    assert Callback.objects.filter(status=CallbackStatus.DUE).count() == 25


def test_reached_completes_the_callback_and_thanks_the_shopper(booked, ana) -> None:
    callback = booked(at_shanghai(23, 14))
    dispatch_due_callbacks(now=at_shanghai(23, 14))
    start_callback(callback_id=callback.pk, by=ana.user)
    done = record_callback_outcome(callback_id=callback.pk, outcome="reached", by=ana.user)
    assert (done.status, done.attempts, done.outcome) == (CallbackStatus.COMPLETED, 1, "reached")
    assert f"callback:{callback.pk}:completed:a1:sms" in notification_keys()


def test_no_answer_retries_after_the_interval_then_becomes_missed_and_the_shopper_is_told(booked, ana) -> None:
    policy = policy_for(queue("jewelry"))
    policy.max_attempts = 2
    policy.retry_interval_minutes = 30
    policy.save()
    callback = booked(at_shanghai(23, 14))

    with time_machine.travel(at_shanghai(23, 14, 2), tick=False):
        start_callback(callback_id=callback.pk, by=ana.user)
        retry = record_callback_outcome(callback_id=callback.pk, outcome="no_answer", by=ana.user)
    assert (retry.status, retry.scheduled_at, retry.attempts) == (
        CallbackStatus.SCHEDULED,
        at_shanghai(23, 14, 32),
        1,
    )
    assert not [k for k in notification_keys() if ":missed:" in k]

    dispatch_due_callbacks(now=at_shanghai(23, 14, 32))
    with time_machine.travel(at_shanghai(23, 14, 35), tick=False):
        start_callback(callback_id=callback.pk, by=ana.user)
        missed = record_callback_outcome(callback_id=callback.pk, outcome="no_answer", by=ana.user)
    assert (missed.status, missed.attempts, missed.missed_at) == (CallbackStatus.MISSED, 2, at_shanghai(23, 14, 35))
    body = Notification.objects.get(idempotency_key=f"callback:{callback.pk}:missed:a2:sms").body
    assert "/callbacks/" in body  # the link to book again


def test_a_retry_that_would_fall_after_closing_moves_to_the_next_opening(booked, ana) -> None:
    callback = booked(at_shanghai(23, 17, 45))
    with time_machine.travel(at_shanghai(23, 17, 50), tick=False):
        start_callback(callback_id=callback.pk, by=ana.user)
        retry = record_callback_outcome(callback_id=callback.pk, outcome="no_answer", by=ana.user)
    assert retry.scheduled_at == at_shanghai(24, 9)  # Tuesday's opening, not 18:20


def test_a_wrong_number_is_missed_and_told_by_email_only(booked, ana) -> None:
    callback = booked(at_shanghai(23, 14))
    with time_machine.travel(at_shanghai(23, 14, 1), tick=False):
        start_callback(callback_id=callback.pk, by=ana.user)
        record_callback_outcome(callback_id=callback.pk, outcome="wrong_number", by=ana.user)
    missed = Notification.objects.filter(kind="missed")
    assert [n.channel for n in missed] == ["email"]
    assert "seems to be wrong" in missed[0].body or "号码" in missed[0].body


def test_the_shopper_asked_to_reschedule_moves_it_within_the_rules(booked, ana) -> None:
    callback = booked(at_shanghai(23, 14))
    with time_machine.travel(at_shanghai(23, 14, 1), tick=False):
        start_callback(callback_id=callback.pk, by=ana.user)
        with pytest.raises(ValidationError):
            record_callback_outcome(
                callback_id=callback.pk, outcome="reschedule", by=ana.user, reschedule_to=at_shanghai(23, 22)
            )
        moved = record_callback_outcome(
            callback_id=callback.pk, outcome="reschedule", by=ana.user, reschedule_to=at_shanghai(24, 10)
        )
    assert (moved.status, moved.version, moved.outcome) == (CallbackStatus.SCHEDULED, 2, "reschedule")
    assert f"callback:{callback.pk}:rescheduled:v2:sms" in notification_keys()


def test_two_agents_cannot_call_the_same_shopper_and_outcomes_need_a_started_call(booked, ana, bo) -> None:
    callback = booked(at_shanghai(23, 14), owner=None)
    with pytest.raises(CallbackError):
        record_callback_outcome(callback_id=callback.pk, outcome="reached", by=bo.user)
    start_callback(callback_id=callback.pk, by=bo.user)
    assert start_callback(callback_id=callback.pk, by=bo.user).attempts == 1  # idempotent for Bo
    with pytest.raises(CallbackError):
        start_callback(callback_id=callback.pk, by=ana.user)
    with pytest.raises(CallbackError):
        record_callback_outcome(callback_id=callback.pk, outcome="reached", by=ana.user)
    with pytest.raises(ValidationError):
        record_callback_outcome(callback_id=callback.pk, outcome="maybe", by=bo.user)


def test_due_callbacks_are_listed_at_the_top_of_the_inbox_work(booked, ana, bo) -> None:
    from callbacks.selectors import callback_work_for

    mine = booked(at_shanghai(23, 14))
    queue_owned = booked(at_shanghai(23, 14, 5), owner=None)
    later = booked(at_shanghai(23, 17))
    dispatch_due_callbacks(now=at_shanghai(23, 14, 10))

    ana_work = callback_work_for(ana.user, now=at_shanghai(23, 14, 10))
    bo_work = callback_work_for(bo.user, now=at_shanghai(23, 14, 10))
    assert [c.pk for c in ana_work.due] == [mine.pk, queue_owned.pk]
    assert [c.pk for c in ana_work.upcoming] == [later.pk]
    assert [c.pk for c in bo_work.due] == [queue_owned.pk]
    assert timedelta(0) <= later.scheduled_at - at_shanghai(23, 14, 10)
