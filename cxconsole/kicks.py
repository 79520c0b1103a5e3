"""Coalesced task publishing ("kicks"): one pending run of a draining task per key.

Routing work lives in the database (tickets in "new", tickets waiting in a queue); Celery tasks
only say "go and look". A task per ticket made Celery's own hand-offs the largest cost of a
ticket, so a writer now kicks instead:

    kick("routing.route_new_tickets", key="route")          # after its commit

publishes the task only when no run for that key is pending (a cache ADD: SET NX on Redis). The
task calls claim(key) as it starts, before it reads any work, and drains everything it finds.
A ticket committed before the claim is seen by that run; a ticket committed after it finds the
flag gone and publishes the next run. So no work waits for a run that has already looked.

The flag expires after KICK_TTL_SECONDS, so a run lost with its message (a broker restart) delays
work by at most that long; the periodic sweeps back this up. A duplicate run is harmless: the
draining tasks claim rows with SKIP LOCKED.
"""

import logging
from collections.abc import Sequence
from contextlib import suppress

from django.core.cache import cache

from cxconsole.celery import app as celery_app

logger = logging.getLogger(__name__)

KICK_TTL_SECONDS = 5


def _flag(key: str) -> str:
    return f"kick:{key}"


def kick(task_name: str, *, key: str, args: Sequence[object] = (), queue: str | None = None) -> bool:
    """Publish task_name unless a run for key is already pending. False when the broker refused
    (the caller's work is committed; a sweep finds it)."""
    try:
        if not cache.add(_flag(key), 1, KICK_TTL_SECONDS):
            return True
    except Exception:
        logger.warning("Kick flag %s not set (cache unreachable); publishing anyway.", key, exc_info=True)
    try:
        celery_app.signature(task_name, args=list(args), queue=queue).apply_async()
    except Exception:
        logger.warning("Could not publish %s for %s; a sweep will pick the work up.", task_name, key, exc_info=True)
        with suppress(Exception):
            cache.delete(_flag(key))
        return False
    return True


def claim(key: str) -> None:
    """The pending run for key has started: later work must kick a new one. Call before reading work."""
    try:
        cache.delete(_flag(key))
    except Exception:
        logger.warning("Kick flag %s not cleared (cache unreachable); it expires by itself.", key, exc_info=True)
