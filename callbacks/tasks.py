"""Callback tasks: thin, named, idempotent; each calls one service."""

from celery import shared_task

from callbacks import services


@shared_task(name="callbacks.dispatch_due")
def dispatch_due() -> int:
    """Beat, every 10 s: surface due callbacks and queue due reminders. With more due than fits
    the time budget it re-enqueues itself at once instead of waiting for the next beat."""
    run = services.dispatch_until_done()
    if run.unfinished:
        dispatch_due.apply_async()
    return run.surfaced


@shared_task(name="callbacks.send_notifications")
def send_notifications(notification_ids: list[int]) -> int:
    """Send these outbox rows (each one claimed with SKIP LOCKED; sent rows are skipped)."""
    return services.send_notifications(notification_ids=notification_ids).sent


@shared_task(name="callbacks.send_due_notifications")
def send_due_notifications() -> int:
    """Beat, every 15 s: retries whose backoff is over and rows whose send task was lost."""
    return services.send_due_notifications().sent
