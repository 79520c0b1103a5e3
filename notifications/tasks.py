"""Outbox tasks: thin, named, idempotent; each calls one service."""

from celery import shared_task

from notifications.services import outbox


@shared_task(name="notifications.send_notifications")
def send_notifications(notification_ids: list[int]) -> int:
    """Send these outbox rows (each one claimed with SKIP LOCKED; sent rows are skipped)."""
    return outbox.send_notifications(notification_ids=notification_ids).sent


@shared_task(name="notifications.send_due_notifications")
def send_due_notifications() -> int:
    """Beat, every 5 s: rows whose time has come (after the "seen" wait or a retry's backoff)
    and rows whose send task was lost."""
    return outbox.send_due_notifications().sent
