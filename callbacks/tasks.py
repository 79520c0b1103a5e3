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
