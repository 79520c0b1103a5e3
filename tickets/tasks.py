"""Ticket tasks: thin, named, idempotent; each calls one service."""

from celery import shared_task

from tickets import attachments


@shared_task(name="tickets.make_thumbnails")
def make_thumbnails(attachment_ids: list[int]) -> int:
    """Thumbnails for freshly stored photos (published after the commit that stored them)."""
    return attachments.make_thumbnails(attachment_ids=attachment_ids)


@shared_task(name="tickets.sweep_missing_thumbnails")
def sweep_missing_thumbnails() -> int:
    """Beat, every 10 s: photos whose thumbnail task was lost. Bounded; safe to run twice (the
    thumbnail is written only where none is yet)."""
    return attachments.make_thumbnails(attachment_ids=attachments.missing_thumbnail_ids())
