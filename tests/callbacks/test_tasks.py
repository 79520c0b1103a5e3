"""The tasks are thin: the dispatcher re-enqueues itself while a burst lasts; sending takes ids."""

import pytest

from callbacks import tasks
from callbacks.services import DispatchRun
from notifications import tasks as notification_tasks
from notifications.models import Notification, NotificationStatus
from tests.helpers import at_shanghai

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def test_the_dispatcher_re_enqueues_itself_only_when_its_time_budget_ran_out(monkeypatch) -> None:
    enqueued: list[object] = []
    monkeypatch.setattr(tasks.dispatch_due, "apply_async", lambda *a, **k: enqueued.append(1))
    monkeypatch.setattr(tasks.services, "dispatch_until_done", lambda: DispatchRun(surfaced=500, unfinished=True))
    assert tasks.dispatch_due() == 500
    monkeypatch.setattr(tasks.services, "dispatch_until_done", lambda: DispatchRun(surfaced=3))
    assert tasks.dispatch_due() == 3
    assert enqueued == [1]


def test_with_eager_celery_a_booking_sends_its_confirmation_right_after_commit(
    booked, eager_celery, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        callback = booked(at_shanghai(23, 14))
    statuses = set(Notification.objects.filter(callback=callback).values_list("status", flat=True))
    assert statuses == {NotificationStatus.SENT}


def test_the_send_task_takes_ids_and_skips_what_is_already_sent(booked) -> None:
    callback = booked(at_shanghai(23, 14))
    ids = list(Notification.objects.filter(callback=callback).values_list("id", flat=True))
    assert notification_tasks.send_notifications(ids) == 2
    assert notification_tasks.send_notifications(ids) == 0
    assert notification_tasks.send_due_notifications() == 0
