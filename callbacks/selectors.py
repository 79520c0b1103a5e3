"""Reads for callbacks: dashboard counts, the console's lists, the outbox failures.

Every queryset here has its select_related set for what its screens touch, so no N+1.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet

from callbacks.models import ACTIVE_STATUSES, Callback, CallbackStatus
from notifications.models import Notification, NotificationStatus
from routing.selectors import agent_queue_ids, is_supervisor, tickets_visible_to


@dataclass(frozen=True)
class CallbackCounts:
    due_next_hour: int = 0  # scheduled in [now, now + 1 h), not yet surfaced
    overdue: int = 0  # scheduled before now, not yet started (nor completed, missed, cancelled)
    missed_today: int = 0  # became missed at or after day_start


def callback_counts_by_queue(*, now: datetime, day_start: datetime) -> dict[int, CallbackCounts]:
    """Callback figures per SpecialistQueue id for the supervisors' dashboard. Queues with no such
    callbacks are absent (callers default to zeros).

    One SQL query: the WHERE clause is an OR of two partial-index ranges (active callbacks by
    scheduled_at below now + 1 h, missed callbacks by missed_at since day_start), so it reads only
    the rows it counts however many finished callbacks pile up.
    """
    next_hour = now + timedelta(hours=1)
    waiting = Q(status__in=[CallbackStatus.SCHEDULED, CallbackStatus.DUE])
    rows = (
        Callback.objects.filter(
            Q(status__in=ACTIVE_STATUSES, scheduled_at__lt=next_hour)
            | Q(missed_at__isnull=False, missed_at__gte=day_start)
        )
        .values("queue_id")
        .annotate(
            due_next_hour=Count(
                "id", filter=Q(status=CallbackStatus.SCHEDULED, scheduled_at__gte=now, scheduled_at__lt=next_hour)
            ),
            overdue=Count("id", filter=waiting & Q(scheduled_at__lt=now)),
            missed_today=Count("id", filter=Q(status=CallbackStatus.MISSED, missed_at__gte=day_start)),
        )
        .order_by()
    )
    return {
        row["queue_id"]: CallbackCounts(
            due_next_hour=row["due_next_hour"], overdue=row["overdue"], missed_today=row["missed_today"]
        )
        for row in rows
        if row["due_next_hour"] or row["overdue"] or row["missed_today"]
    }


def _with_relations(callbacks: QuerySet[Callback]) -> QuerySet[Callback]:
    return callbacks.select_related(
        "ticket__shopper", "queue", "owner__agent_profile", "surfaced_to", "started_by", "booked_by_user"
    )


def callbacks_of_ticket(ticket_id: int) -> QuerySet[Callback]:
    """A ticket's callbacks, the latest first (an inquiry has at most one open callback)."""
    return _with_relations(Callback.objects.filter(ticket_id=ticket_id)).order_by("-scheduled_at", "-id")


def workable_callbacks(user: User) -> QuerySet[Callback]:
    """The callbacks this user may start and record: supervisors all; an agent those they own or
    that surfaced to them, those of their queues that no online owner holds, and those on tickets
    they can see."""
    callbacks = _with_relations(Callback.objects.all())
    if is_supervisor(user):
        return callbacks
    queue_ids = agent_queue_ids(user)
    visible_tickets = tickets_visible_to(user).values("id")
    return callbacks.filter(
        Q(owner=user)
        | Q(surfaced_to=user)
        | Q(queue_id__in=queue_ids, owner__isnull=True)
        | Q(queue_id__in=queue_ids, status=CallbackStatus.DUE, surfaced_to__isnull=True)
        | Q(ticket_id__in=visible_tickets)
    )


@dataclass(frozen=True)
class CallbackWork:
    """The callbacks at the top of an agent's inbox."""

    due: list[Callback]  # surfaced to me, or to my queues, and being worked or waiting to be
    upcoming: list[Callback]  # mine, still scheduled, in the next 24 hours


INBOX_LIMIT = 50


def callback_work_for(user: User, *, now: datetime) -> CallbackWork:
    """Due and in-progress callbacks for this agent (theirs first), and their upcoming ones.
    One query, whatever the number of callbacks (the inbox re-reads it on every hint; the
    agent's queues are kept across requests)."""
    if is_supervisor(user):
        due_filter = Q()
    else:
        due_filter = Q(surfaced_to=user) | Q(surfaced_to__isnull=True, queue_id__in=agent_queue_ids(user))
    working = [CallbackStatus.DUE, CallbackStatus.IN_PROGRESS]
    rows = list(
        _with_relations(Callback.objects.all())
        .filter(
            (due_filter & Q(status__in=working))
            | Q(owner=user, status=CallbackStatus.SCHEDULED, scheduled_at__lt=now + timedelta(hours=24))
        )
        .order_by("scheduled_at", "id")[: 2 * INBOX_LIMIT]
    )
    due = [c for c in rows if c.status in working][:INBOX_LIMIT]
    due.sort(key=lambda c: (c.surfaced_to_id != user.pk and c.started_by_id != user.pk, c.scheduled_at, c.id))
    upcoming = [c for c in rows if c.status == CallbackStatus.SCHEDULED][:INBOX_LIMIT]
    return CallbackWork(due=due, upcoming=upcoming)


def failed_notifications(*, queue_id: int | None = None, limit: int = 100) -> list[Notification]:
    """Callback notifications the outbox gave up on, newest first, for supervisors to follow up
    by hand (notifications.selectors.failed_notifications has every kind)."""
    rows = Notification.objects.filter(status=NotificationStatus.FAILED, callback__isnull=False).select_related(
        "ticket__shopper"
    )
    if queue_id is not None:
        rows = rows.filter(callback__queue_id=queue_id)
    return list(rows.order_by("-created_at", "-id")[:limit])


def notification_failures_by_queue() -> dict[int, int]:
    """Failed callback notifications per callback queue id (queues without failures are absent)."""
    rows = (
        Notification.objects.filter(status=NotificationStatus.FAILED)
        .values("callback__queue_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["callback__queue_id"]: row["n"] for row in rows}
