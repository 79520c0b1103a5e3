"""The dispatcher: finds due callbacks and reminders in the database and acts on each once.

No Celery ETA/countdown tasks hold the timing (Redis redelivers those after its visibility
timeout, and a restart loses them): the database is the schedule, read every few seconds by a
beat task. Each batch claims rows with SELECT … FOR UPDATE SKIP LOCKED and changes them in the
same transaction, so two dispatchers (or two beats started by mistake) take disjoint rows and a
callback is surfaced once; the outbox's unique key is the backstop for the notifications.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from callbacks.models import Callback, CallbackStatus, NotificationKind
from callbacks.services.outbox import build_notifications, enqueue_notifications
from teams.models import AgentProfile, AgentStatus
from tickets.events import ticket_changed
from tickets.models import Ticket

BATCH_SIZE = 500


@dataclass
class DispatchResult:
    surfaced: int = 0
    reminders: int = 0
    requeued: int = 0  # due callbacks moved from an agent who went offline to their queue
    notification_ids: list[int] = field(default_factory=list)
    more: bool = False  # a batch was full: more rows may be due right now


def _online(user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        AgentProfile.objects.filter(user_id__in=user_ids, status=AgentStatus.ONLINE).values_list("user_id", flat=True)
    )


def _hint_after_commit(callbacks: list[Callback]) -> None:
    """One "callback_due" hint per agent/queue pair after commit (the console re-reads its whole
    page on any hint, so one per screen is enough, and 10,000 due callbacks cost a few hints,
    not 10,000)."""
    targets: dict[tuple[int | None, int], tuple[int, str]] = {}
    for callback in callbacks:
        targets.setdefault((callback.surfaced_to_id, callback.queue_id), (callback.ticket_id, callback.status))

    def send() -> None:
        for (agent_id, queue_id), (ticket_id, status) in targets.items():
            ticket_changed.send(
                sender=Ticket,
                ticket_id=ticket_id,
                status=status,
                queue_id=queue_id,
                previous_queue_id=None,
                agent_ids=[agent_id] if agent_id else [],
                kind="callback_due",
            )

    if targets:
        transaction.on_commit(send, robust=True)


def dispatch_due_callbacks(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> DispatchResult:
    """One bounded batch: surface up to batch_size due callbacks as top-priority work (to their
    owner when online, else to their queue), put up to batch_size due reminders in the outbox, and
    hand due callbacks of agents who went offline to their queue. Atomic per batch; safe to run
    concurrently (SKIP LOCKED: racing dispatchers take different rows). Called by the
    callbacks.dispatch_due task in a loop."""
    now = now or timezone.now()
    result = DispatchResult()
    with transaction.atomic():
        # Reminders first: with a lead of 0 the reminder goes out as the call comes due.
        reminders = list(
            Callback.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("ticket__shopper", "queue", "owner__agent_profile")
            .filter(
                reminder_due_at__isnull=False,
                reminder_due_at__lte=now,
                status__in=[CallbackStatus.SCHEDULED, CallbackStatus.DUE],
            )
            .order_by("reminder_due_at", "id")[:batch_size]
        )
        rows = []
        for callback in reminders:
            callback.reminder_due_at = None
            rows.extend(build_notifications(callback, NotificationKind.REMINDER, now=now))
        Callback.objects.filter(pk__in=[c.pk for c in reminders]).update(reminder_due_at=None)
        result.reminders = len(reminders)
        result.notification_ids = enqueue_notifications(rows)

        due = list(
            Callback.objects.select_for_update(skip_locked=True)
            .filter(status=CallbackStatus.SCHEDULED, scheduled_at__lte=now)
            .order_by("scheduled_at", "id")[:batch_size]
        )
        online = _online({c.owner_id for c in due if c.owner_id})
        for callback in due:
            callback.status = CallbackStatus.DUE
            callback.surfaced_at = now
            callback.surfaced_to_id = callback.owner_id if callback.owner_id in online else None
        # Two plain UPDATEs (owner online: to the owner; else to the queue) on the locked rows.
        to_owner = [c.pk for c in due if c.surfaced_to_id]
        to_queue = [c.pk for c in due if not c.surfaced_to_id]
        Callback.objects.filter(pk__in=to_owner).update(
            status=CallbackStatus.DUE, surfaced_at=now, surfaced_to_id=F("owner_id")
        )
        Callback.objects.filter(pk__in=to_queue).update(status=CallbackStatus.DUE, surfaced_at=now, surfaced_to=None)
        result.surfaced = len(due)

        # Due work must not sit with an agent who went away: it goes to the queue's agents.
        stranded = list(
            Callback.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=CallbackStatus.DUE, surfaced_to__isnull=False)
            .exclude(surfaced_to__agent_profile__status=AgentStatus.ONLINE)[:batch_size]
        )
        for callback in stranded:
            callback.surfaced_to_id = None
        Callback.objects.filter(pk__in=[c.pk for c in stranded]).update(surfaced_to=None)
        result.requeued = len(stranded)

        _hint_after_commit(due + stranded)
        result.more = len(due) == batch_size or len(reminders) == batch_size
    return result


@dataclass
class DispatchRun:
    batches: int = 0
    surfaced: int = 0
    reminders: int = 0
    requeued: int = 0
    notifications: int = 0
    unfinished: bool = False  # the time budget ran out with work left: run again at once


def dispatch_until_done(*, budget_seconds: float = 20.0, batch_size: int = BATCH_SIZE) -> DispatchRun:
    """Dispatch batches until nothing is due or the time budget is spent (then `unfinished`,
    and the caller re-enqueues itself rather than hold a worker past the task time limit)."""
    deadline = time.monotonic() + budget_seconds
    run = DispatchRun()
    while True:
        batch = dispatch_due_callbacks(now=timezone.now(), batch_size=batch_size)
        run.batches += 1
        run.surfaced += batch.surfaced
        run.reminders += batch.reminders
        run.requeued += batch.requeued
        run.notifications += len(batch.notification_ids)
        if not batch.more:
            return run
        if time.monotonic() >= deadline:
            run.unfinished = True
            return run
