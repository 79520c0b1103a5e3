"""The notification outbox: rows written with the change they report, sent by workers.

Exactly one row per idempotency key (a unique constraint; inserts ignore conflicts, so racing
writers, an event told twice or two beats end with one row). Sending claims small groups of rows
with SELECT … FOR UPDATE SKIP LOCKED, so two workers never send the same row at once; a failure is
retried with exponential backoff until NOTIFICATION_MAX_ATTEMPTS, then the row is "failed" for
supervisors to see (admin, "send again").

A row marked skip_if_seen is not sent when the shopper's page showed what it carries before its
time came (Ticket.shopper_seen_message_id / shopper_seen_at, kept by tickets.services.
record_shopper_seen): such rows are written due NOTIFICATION_SEEN_GRACE_SECONDS later, and the
decision is taken at send time, under the row lock.

Delivery is at least once towards the provider: a worker killed after the provider accepted a
message but before our commit sends it again (at most one group, SEND_GROUP rows); the
idempotency key travels with the message (HTTP header, email header) so the provider can drop
that duplicate.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app as celery_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications import providers
from notifications.models import Notification, NotificationChannel, NotificationStatus
from tickets.models import Ticket

logger = logging.getLogger(__name__)

SEND_TASK = "notifications.send_notifications"
# Notifications per send task: small enough to spread a burst over every worker process.
SEND_CHUNK = 50
# Rows claimed, sent and committed together: fewer round trips; at most this many can reach a
# provider twice when a worker dies mid-group.
SEND_GROUP = 10
# A send task stops delivering after this long (providers time out after SMS_HTTP_TIMEOUT each).
SEND_BUDGET_SECONDS = 20.0
RESULTS = ("sent", "retry", "failed", "suppressed", "skipped")


def enqueue_notifications(rows: list[Notification]) -> list[int]:
    """Insert outbox rows (a key that exists already is left alone) and, after commit, hand the
    pending ones to the send workers (at each row's next_attempt_at). Must run inside the
    transaction of the change reported. Returns the ids of the pending rows with these keys."""
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    keys = [row.idempotency_key for row in rows]
    pending = list(
        Notification.objects.filter(idempotency_key__in=keys, status=NotificationStatus.PENDING)
        .order_by("id")
        .values_list("id", "next_attempt_at")
    )
    now = timezone.now()
    # Rows due now go out at once; rows held back (the "seen on the page" wait, a retry's backoff)
    # are found in the database by the notifications.send_due_notifications sweep (every 5 s), never
    # held in the broker as ETA tasks, which Redis would redeliver after its visibility timeout.
    publish_send_tasks([pk for pk, due in pending if due <= now])
    return [pk for pk, _due in pending]


def publish_send_tasks(ids: list[int]) -> None:
    """After commit, one send task per chunk of ids that are due now. A lost publish (Redis down)
    is repaired by the periodic notifications.send_due_notifications sweep."""
    if not ids:
        return

    def publish() -> None:
        for start in range(0, len(ids), SEND_CHUNK):
            chunk = ids[start : start + SEND_CHUNK]
            try:
                celery_app.signature(SEND_TASK, args=[chunk]).apply_async()
            except Exception:
                logger.warning("Could not enqueue sending of notifications %s; the sweep will.", chunk, exc_info=True)

    transaction.on_commit(publish)


def backoff(attempts: int) -> timedelta:
    """Wait before attempt attempts+1: 30 s, 1 min, 2 min, … capped at an hour."""
    base = settings.NOTIFICATION_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def _deliver(notification: Notification) -> None:
    if notification.channel == NotificationChannel.SMS:
        providers.sms_provider().send(
            to=notification.recipient, body=notification.body, idempotency_key=notification.idempotency_key
        )
    else:
        providers.send_email(
            to=notification.recipient,
            subject=notification.subject,
            body=notification.body,
            ics=notification.ics,
            reply_to=notification.reply_to,
            idempotency_key=notification.idempotency_key,
        )


def _record(notification: Notification, error: Exception | None, *, now: datetime) -> str:
    """Count the attempt; on failure plan the next one (backoff) or give up (failed)."""
    notification.attempts += 1
    if error is None:
        notification.status = NotificationStatus.SENT
        notification.sent_at = timezone.now()
        return "sent"
    notification.last_error = str(error)[:500]
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        notification.status = NotificationStatus.FAILED
        logger.error("Notification %s failed for good: %s", notification.idempotency_key, error)
        return "failed"
    notification.next_attempt_at = now + backoff(notification.attempts)
    return "retry"


def _seen_on_the_page(claimed: list[Notification]) -> set[int]:
    """Ids of the rows whose content the shopper's page showed already (one query, only when a
    claimed row asks): a reply once the page showed its message, a status notice once the page
    was read after the change."""
    watched = [n for n in claimed if n.skip_if_seen]
    if not watched:
        return set()
    seen = {
        pk: (seen_at, seen_message_id)
        for pk, seen_at, seen_message_id in Ticket.objects.filter(pk__in={n.ticket_id for n in watched}).values_list(
            "pk", "shopper_seen_at", "shopper_seen_message_id"
        )
    }
    suppressed = set()
    for notification in watched:
        seen_at, seen_message_id = seen.get(notification.ticket_id, (None, None))
        if notification.message_id is not None:
            if seen_message_id is not None and seen_message_id >= notification.message_id:
                suppressed.add(notification.pk)
        elif seen_at is not None and seen_at >= notification.created_at:
            suppressed.add(notification.pk)
    return suppressed


def _send_group(ids: list[int], *, now: datetime, deadline: float) -> dict[str, int]:
    """Claim a small group of pending, due rows (SKIP LOCKED: rows another worker holds are left
    to it), deliver each, record every result, commit once. Rows not reached before the deadline
    stay pending, untouched, for the next run."""
    counts = dict.fromkeys(RESULTS, 0)
    with transaction.atomic():
        claimed = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, status=NotificationStatus.PENDING, next_attempt_at__lte=now)
            .order_by("id")
        )
        counts["skipped"] = len(ids) - len(claimed)
        seen = _seen_on_the_page(claimed)
        done = []
        for notification in claimed:
            if notification.pk in seen:
                notification.status = NotificationStatus.SUPPRESSED
                counts["suppressed"] += 1
                done.append(notification)
                continue
            if time.monotonic() >= deadline:
                counts["skipped"] += 1
                continue
            try:
                _deliver(notification)
            except providers.ProviderError as exc:
                counts[_record(notification, exc, now=now)] += 1
            except Exception as exc:  # a bug or an unexpected backend error: must not undo the group
                logger.exception("Sending notification %s raised", notification.idempotency_key)
                counts[_record(notification, exc, now=now)] += 1
            else:
                counts[_record(notification, None, now=now)] += 1
            done.append(notification)
        Notification.objects.bulk_update(
            done, ["attempts", "last_error", "status", "next_attempt_at", "sent_at"], batch_size=SEND_GROUP
        )
    return counts


def send_notification(*, notification_id: int, now: datetime | None = None) -> str:
    """Send one pending, due notification. Returns "sent", "retry", "failed", "suppressed" (the
    shopper saw it on the page) or "skipped" (already sent, given up, not yet due, or another
    worker holds it right now). Atomic; idempotent: a sent row is never sent again."""
    counts = _send_group([notification_id], now=now or timezone.now(), deadline=time.monotonic() + SEND_BUDGET_SECONDS)
    return next(result for result, n in counts.items() if n)


@dataclass(frozen=True)
class SendSummary:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    suppressed: int = 0
    skipped: int = 0


def send_notifications(*, notification_ids: Iterable[int], now: datetime | None = None) -> SendSummary:
    """Send each of these notifications that is pending and due, SEND_GROUP rows per transaction.

    The row locks are held across the provider calls, so no second worker sends the same row at
    once; a worker killed mid-group leaves the group uncommitted, so at most SEND_GROUP messages
    can reach a provider twice (with the same idempotency key). Stops after SEND_BUDGET_SECONDS
    (a provider timing out on every call must not run past the task time limit); what is left
    stays pending for the sweep."""
    now = now or timezone.now()
    deadline = time.monotonic() + SEND_BUDGET_SECONDS
    ids = list(notification_ids)
    totals = dict.fromkeys(RESULTS, 0)
    for start in range(0, len(ids), SEND_GROUP):
        for key, value in _send_group(ids[start : start + SEND_GROUP], now=now, deadline=deadline).items():
            totals[key] += value
    return SendSummary(**totals)


def send_due_notifications(*, now: datetime | None = None, limit: int = 200) -> SendSummary:
    """The sweep: send up to `limit` pending notifications whose time has come (retries after
    backoff, and rows whose send task was lost). Bounded; safe to run twice at once (each row is
    claimed with SKIP LOCKED)."""
    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return send_notifications(notification_ids=ids, now=now)


def retry_failed_notification(*, notification_id: int, now: datetime | None = None) -> bool:
    """A supervisor's "send again" on a failed notification: back to pending with a fresh count.
    False when it was not failed."""
    now = now or timezone.now()
    updated = Notification.objects.filter(pk=notification_id, status=NotificationStatus.FAILED).update(
        status=NotificationStatus.PENDING, attempts=0, next_attempt_at=now
    )
    if updated:
        publish_send_tasks([notification_id])
    return bool(updated)
