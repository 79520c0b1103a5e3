"""Ticket changes fanned out to the consoles that show them, as hints over the channel layer.

A hint says "ticket 12 changed, re-read"; the page then fetches its state from the server. So a
lost hint (Redis restarting, a closed tab) costs a few seconds until the page's next poll, and a
failure here must never reach the write that caused it: it is logged and swallowed.
"""

import asyncio
import logging
import os
import threading
from collections.abc import Iterable
from typing import Any

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

SUPERVISORS_GROUP = "supervisors"
HINT_TYPE = "ticket.changed"
# A write waits at most this long for its hint to be handed to the channel layer.
PUSH_TIMEOUT_SECONDS = 2.0


def agent_group(user_id: int) -> str:
    return f"agent.{user_id}"


def queue_group(queue_id: int) -> str:
    return f"queue.{queue_id}"


def groups_for_change(
    *, queue_id: int | None, agent_ids: Iterable[int], previous_queue_id: int | None = None
) -> list[str]:
    """Who shows this ticket: the agents who had or have it, the agents of the queue it is in and
    of the queue it left, supervisors."""
    groups = [agent_group(agent_id) for agent_id in sorted(set(agent_ids))]
    for queue in (queue_id, previous_queue_id):
        if queue is not None:
            groups.append(queue_group(queue))
    groups.append(SUPERVISORS_GROUP)
    return groups


def push_ticket_change(
    sender: object,
    *,
    ticket_id: int,
    status: str,
    queue_id: int | None,
    agent_ids: Iterable[int],
    kind: str,
    previous_queue_id: int | None = None,
    **extra: Any,
) -> None:
    """Receiver of tickets.events.ticket_changed (sent after commit). Never raises."""
    hint = {"type": HINT_TYPE, "ticket_id": ticket_id, "status": status, "queue_id": queue_id, "kind": kind}
    groups = groups_for_change(queue_id=queue_id, agent_ids=agent_ids, previous_queue_id=previous_queue_id)
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        future = asyncio.run_coroutine_threadsafe(_send_to_groups(layer, groups, hint), _hint_loop())
        future.result(timeout=PUSH_TIMEOUT_SECONDS + 0.5)
    except Exception:
        logger.warning("Could not push the change of ticket %s to %s; pages poll.", ticket_id, groups, exc_info=True)


_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def _hint_loop() -> asyncio.AbstractEventLoop:
    """One long-lived event loop per process for sending hints. async_to_sync would make a new
    loop per call, and the Redis layer's connection pool lives per loop: a new connection for
    every ticket change. Re-made after a fork (Celery's prefork children)."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="console-hints", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


async def _send_to_groups(layer: Any, groups: list[str], hint: dict[str, Any]) -> None:
    async def send_all() -> None:
        for group in groups:
            await layer.group_send(group, hint)

    await asyncio.wait_for(send_all(), timeout=PUSH_TIMEOUT_SECONDS)
