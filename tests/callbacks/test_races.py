"""On PostgreSQL with real processes: racing dispatchers (threads, two "beat" processes started
by mistake, real Celery workers) surface every callback once and write one notification per key;
a worker killed mid-dispatch loses nothing."""

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from callbacks.models import Callback, CallbackStatus
from callbacks.services import dispatch_due_callbacks, policy_for
from cxconsole.celery import app as celery_app
from notifications.models import Notification, NotificationStatus
from notifications.services.outbox import SEND_GROUP
from tests.factories import ShopperFactory, TicketFactory, queue
from tests.helpers import wait_for, worker_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def make_due_callbacks(n: int, *, with_email: bool = False) -> list[int]:
    """n callbacks on n tickets, all due now, each with its reminder due too (lead 0: the
    reminder goes out as the call comes due). Written in bulk: booking one by one would only add
    n confirmations to the outbox."""
    jewelry = queue("jewelry")
    policy = policy_for(jewelry)
    policy.reminder_lead_minutes = 0
    policy.save()
    now = timezone.now()
    shoppers = ShopperFactory.create_batch(n, phone="+8613800138000", email="s@example.cn" if with_email else "")
    tickets = [TicketFactory.build(shopper=s, queue=jewelry, status="queued") for s in shoppers]
    from tickets.models import Ticket

    Ticket.objects.bulk_create(tickets)
    due_at = now - timedelta(seconds=5)
    callbacks = Callback.objects.bulk_create(
        [
            Callback(
                ticket=t,
                queue=jewelry,
                booked_by="shopper",
                phone="+8613800138000",
                scheduled_at=due_at,
                reminder_due_at=due_at,
            )
            for t in tickets
        ]
    )
    return [c.pk for c in callbacks]


def assert_one_notification_per_callback(n: int) -> None:
    keys = list(Notification.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys)) == n
    assert Notification.objects.values("source_id").distinct().count() == n


def test_two_dispatchers_racing_in_threads_surface_each_callback_once(postgres) -> None:
    n = 400
    make_due_callbacks(n)
    totals: list[int] = []
    reminders: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            while True:
                batch = dispatch_due_callbacks(batch_size=25)
                totals.append(batch.surfaced)
                reminders.append(batch.reminders)
                if not batch.surfaced and not batch.reminders:
                    return
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(totals) == n and sum(reminders) == n  # no callback surfaced or reminded twice
    assert Callback.objects.filter(status=CallbackStatus.DUE).count() == n
    assert_one_notification_per_callback(n)


def test_the_same_key_inserted_by_two_transactions_at_once_makes_one_row(postgres) -> None:
    [callback_id] = make_due_callbacks(1)
    callback = Callback.objects.get(pk=callback_id)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def insert() -> None:
        try:
            with transaction.atomic():
                start.wait()
                created = Notification.objects.bulk_create(
                    [
                        Notification(
                            idempotency_key=f"callback:{callback_id}:reminder:race:sms",
                            ticket_id=callback.ticket_id,
                            source=callback,
                            kind="reminder",
                            channel="sms",
                            recipient="+8613800138000",
                            language="zh",
                            body="提醒",
                        )
                    ],
                    ignore_conflicts=True,
                )
                outcomes.append("inserted" if created else "none")
        finally:
            connection.close()

    threads = [threading.Thread(target=insert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 2
    assert Notification.objects.filter(idempotency_key__endswith=":race:sms").count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            idempotency_key=f"callback:{callback_id}:reminder:race:sms",
            ticket_id=callback.ticket_id,
            source=callback,
            kind="reminder",
            channel="sms",
            recipient="x",
            language="zh",
            body="again",
        )


DISPATCH_SCRIPT = """
import django
django.setup()
from callbacks.services import dispatch_until_done
run = dispatch_until_done(batch_size=40, budget_seconds=120)
print(run.surfaced, run.reminders)
"""


def test_two_beat_processes_started_by_mistake_still_surface_and_remind_once(postgres) -> None:
    n = 600
    make_due_callbacks(n)
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "DJANGO_SETTINGS_MODULE": "cxconsole.settings",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", DISPATCH_SCRIPT], cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [tuple(map(int, p.communicate(timeout=120)[0].split()[-2:])) for p in processes]
    assert all(p.returncode == 0 for p in processes)
    assert sum(r[0] for r in results) == n and sum(r[1] for r in results) == n
    assert all(r[0] > 0 for r in results), f"both processes should have taken a share: {results}"
    assert Callback.objects.filter(status=CallbackStatus.DUE).count() == n
    assert_one_notification_per_callback(n)


def test_real_workers_dispatch_and_send_and_one_killed_mid_dispatch_loses_nothing(
    start_worker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 3000
    sms_log = tmp_path / "sms.log"
    monkeypatch.setenv("SMS_FILE_PATH", str(sms_log))
    make_due_callbacks(n)
    first = start_worker(queues=["callbacks", "notifications"], concurrency=1)
    second = start_worker(queues=["callbacks", "notifications"], concurrency=1)

    for _ in range(2):  # two beats fired
        celery_app.signature("callbacks.dispatch_due").apply_async()
    # Kill one worker (SIGKILL, pool and main process) while the burst is being worked: its open
    # transaction (a dispatch batch or a group of sends) rolls back, its queued tasks are gone.
    wait_for(
        lambda: Notification.objects.filter(status=NotificationStatus.SENT).count() >= 100, timeout=60, interval=0.01
    )
    first.kill()
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() < n  # it really was mid-way

    celery_app.signature("callbacks.dispatch_due").apply_async()  # the next beat
    wait_for(lambda: Callback.objects.filter(status=CallbackStatus.DUE).count() == n, timeout=120)

    # Send tasks lost with the killed worker are picked up by the outbox sweep (a beat job too).
    def swept_and_all_sent() -> bool:
        celery_app.signature("notifications.send_due_notifications").apply_async()
        return not Notification.objects.exclude(status=NotificationStatus.SENT).exists()

    wait_for(swept_and_all_sent, timeout=120, interval=1.0)
    assert_one_notification_per_callback(n)
    sent_keys = [line.split('"idempotency_key": "')[1].split('"')[0] for line in sms_log.read_text().splitlines()]
    assert set(sent_keys) == set(Notification.objects.values_list("idempotency_key", flat=True))
    # At most the one group in flight when the worker died can have gone to the provider twice.
    assert len(sent_keys) - len(set(sent_keys)) <= SEND_GROUP
    assert second.process.poll() is None


def test_two_shoppers_racing_for_the_last_place_of_a_slot_one_gets_it(postgres) -> None:
    from django.core.exceptions import ValidationError

    from callbacks.services import available_slots, book_callback
    from tickets.models import Ticket

    jewelry = queue("jewelry")
    policy = policy_for(jewelry)
    policy.callbacks_per_slot = 1
    policy.save()
    slot = available_slots(queue=jewelry, now=timezone.now(), days=7)[0]
    tickets = [TicketFactory(queue=jewelry, status="queued") for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def book(ticket: Ticket) -> None:
        try:
            start.wait()
            book_callback(ticket=ticket, scheduled_at=slot.start, window_end=slot.end, phone="+8613800138000")
            outcomes.append("booked")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(t,)) for t in tickets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["This slot is full; pick another time.", "booked"]
    assert Callback.objects.filter(scheduled_at=slot.start).count() == 1
