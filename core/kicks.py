"""Coalesced task publishing ("kicks"): one pending run of a draining task per key.

Routing work lives in the database (tickets in "new", tickets waiting in a queue); Celery tasks
only say "go and look". A task per ticket made Celery's own hand-offs the largest cost of a
ticket, so a writer now kicks instead:

    kick("routing.route_new_tickets", key="route")          # after its commit

publishes the task only when no run for that key is pending (a cache ADD: SET NX on Redis).
A writer with several keys at once (a routing batch that filled several queues) kicks them all
with kick_all(): one round trip sets every flag and one publishes every run that was not
pending (a Redis pipeline, kombu's batched publish), instead of two round trips per key. The
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
from dataclasses import dataclass

from celery import current_app as celery_app
from django.core.cache import cache

from core.caching import add_many

logger = logging.getLogger(__name__)

KICK_TTL_SECONDS = 5


def _flag(key: str) -> str:
    return f"kick:{key}"


def _keys(kicks: Sequence["Kick"]) -> str:
    return ", ".join(k.key for k in kicks)


@dataclass(frozen=True)
class Kick:
    task_name: str
    key: str
    args: tuple[object, ...] = ()
    queue: str | None = None


def kick(task_name: str, *, key: str, args: Sequence[object] = (), queue: str | None = None) -> bool:
    """Publish task_name unless a run for key is already pending. False when the broker refused
    (the caller's work is committed; a sweep finds it)."""
    return kick_all([Kick(task_name, key, tuple(args), queue)])


def kick_all(kicks: Sequence[Kick]) -> bool:
    """kick() for each, in two round trips however many there are. False when the broker refused
    (their flags are cleared, so the next writer or sweep publishes again)."""
    kicks = list({k.key: k for k in kicks}.values())  # one run per key, however often it is named
    if not kicks:
        return True
    try:
        added = add_many(cache, [_flag(k.key) for k in kicks], 1, KICK_TTL_SECONDS)
    except Exception:
        # With Redis as cache and broker, an unreachable cache means the publish would block on
        # the broker's connection retries too (intake fell to ~3/s in a Redis outage). The work is
        # committed; the sweeps (routing.sweep_unrouted_tickets, sweep_waiting_tickets) publish it
        # seconds after Redis is back.
        logger.warning("Kick flags not set (cache unreachable); leaving %s to the sweeps.", _keys(kicks), exc_info=True)
        return False
    fresh = [k for k in kicks if _flag(k.key) in added]
    if not fresh:
        return True
    try:
        with celery_app.producer_or_acquire() as producer, producer.batch():
            for k in fresh:
                celery_app.signature(k.task_name, args=list(k.args), queue=k.queue).apply_async(producer=producer)
    except Exception:
        logger.warning("Could not publish %s; a sweep will pick the work up.", _keys(fresh), exc_info=True)
        with suppress(Exception):
            cache.delete_many([_flag(k.key) for k in fresh])
        return False
    return True


def claim(key: str) -> None:
    """The pending run for key has started: later work must kick a new one. Call before reading work."""
    try:
        cache.delete(_flag(key))
    except Exception:
        logger.warning("Kick flag %s not cleared (cache unreachable); it expires by itself.", key, exc_info=True)
