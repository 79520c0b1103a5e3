"""Ticket changes fanned out to the consoles that show them, as hints over the channel layer.

A hint says "ticket 12 changed, re-read" and whose change it is (hint_scope); the page then
fetches its state from the server. So a lost hint costs at most the page's safety poll (30 - 60 s
while its socket is open; a page whose socket dropped polls every 5 s and re-reads on reconnect),
and a failure here must never reach the write that caused it: it is logged and swallowed.
"""

import asyncio
import logging
import os
import threading
import time
from collections.abc import Iterable
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from console import live

logger = logging.getLogger(__name__)

SUPERVISORS_GROUP = "supervisors"
HINT_TYPE = "ticket.changed"
AGENT_HINT_TYPE = "agent.changed"
# A hint not handed to the channel layer within this long is dropped (pages poll).
PUSH_TIMEOUT_SECONDS = 2.0
# Per process and group, hints closer together than this are merged into the latest one.
# A page re-reads at most once a second whatever it is sent, so a hint per group every half
# second loses nothing a screen shows and cuts a busy queue's hints (Redis round trips in the
# writers' processes) up to five-fold against 0.1 s.
HINT_INTERVAL_SECONDS = 0.5
# A queue's or the supervisors' group reaches every socket of its agents or supervisors, and their
# pages re-read for such hints at most once per CONSOLE_QUEUE_HINT_SECONDS (x1-1.5), or once per
# period of the dashboard's cached figures: hints to them are merged over longer intervals
# (hint_interval), or a busy queue would send hundreds of sockets a message every half second.
SUPERVISORS_HINT_INTERVAL_SECONDS = 1.0
# However long the pages wait between re-reads for a queue, a change is hinted within this long.
QUEUE_HINT_INTERVAL_MAX_SECONDS = 5.0
# Sends in flight per process. Each holds one connection of the layer's pool, which refuses a
# 101st (redis-py's asyncio pool raises MaxConnectionsError instead of waiting): a burst of
# hints to many groups waits its turn here instead of being dropped.
MAX_SENDS_IN_FLIGHT = 32


def agent_group(user_id: int) -> str:
    return f"agent.{user_id}"


def queue_group(queue_id: int) -> str:
    return f"queue.{queue_id}"


def hint_scope(group: str) -> str:
    """Whose change a hint to this group is, for the page to decide how soon to re-read: "own"
    (the agent's own work: at once), "queue" or "supervisors" (shared by many pages: console.js
    re-reads for these at most once per its data-shared-hint-ms, so a busy queue does not send
    every agent of it to re-read at the same moment)."""
    if group.startswith("queue."):
        return "queue"
    if group == SUPERVISORS_GROUP:
        return "supervisors"
    return "own"


# Changes whose whole effect on a queue's waiting line is where their tickets now stand (queued
# or not). Any other kind (a callback falling due: the inbox's panels) always re-reads the line.
LINE_KINDS = frozenset({"status", "message", "category", "attachment", "proactive"})
# A queue hint names at most this many tickets; beyond it, it only says "re-read".
LINE_TICKETS_MAX = 200


# A ticket hinted as waiting is shown only once it has waited this long past the hint interval
# (console.js holds its re-read for it): routing usually assigns within it, and the assignment's
# hint ("left") then cancels the read. A ticket that really waits still shows, this much later.
LINE_GRACE_SECONDS = 2.0


def line_state(line: dict[int, tuple[str, int]] | None) -> dict[str, Any]:
    """What a queue hint tells its pages about the waiting line: the tickets of the merged changes
    still waiting ("queued") and those that left it or never were in it ("left"), each as [id,
    when its change was pushed, in epoch ms: pages order hints from several processes by it];
    "reread" when that cannot be told (another kind of change, too many tickets). A page whose
    line shows none of them skips its re-read for tickets that left, and holds it for those that
    wait until line_grace_seconds() after it heard of them (console.js)."""
    if line is None or len(line) > LINE_TICKETS_MAX:
        return {"reread": True}
    return {
        "queued": [[ticket, at] for ticket, (status, at) in line.items() if status == "queued"],
        "left": [[ticket, at] for ticket, (status, at) in line.items() if status != "queued"],
    }


def line_grace_seconds() -> float:
    """How long a page holds its re-read for a ticket hinted as waiting (see LINE_GRACE_SECONDS)."""
    return hint_interval(queue_group(0)) + LINE_GRACE_SECONDS


def hint_interval(group: str) -> float:
    """Per process, the shortest time between two hints to this group (see HINT_INTERVAL_SECONDS):
    for a queue a quarter of its pages' own interval (at most QUEUE_HINT_INTERVAL_MAX_SECONDS), so a
    change still reaches them well within it."""
    scope = hint_scope(group)
    if scope == "queue":
        return min(max(HINT_INTERVAL_SECONDS, settings.CONSOLE_QUEUE_HINT_SECONDS / 4), QUEUE_HINT_INTERVAL_MAX_SECONDS)
    if scope == "supervisors":
        return SUPERVISORS_HINT_INTERVAL_SECONDS
    return HINT_INTERVAL_SECONDS


def groups_for_change(
    *, queue_id: int | None, agent_ids: Iterable[int], previous_queue_id: int | None = None
) -> list[str]:
    """Who shows this ticket: the agents who had or have it, the agents of the queue it is in and
    of the queue it left, supervisors."""
    groups = [agent_group(agent_id) for agent_id in sorted(set(agent_ids))]
    groups.extend(queue_group(queue) for queue in (queue_id, previous_queue_id) if queue is not None)
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
    """Receiver of tickets.events.ticket_changed (sent after commit). Never raises, never waits:
    the hint is handed to this process's hint thread, which sends it (see _Coalescer)."""
    pushed_at = int(time.time() * 1000)
    ticket_ids = extra.get("ticket_ids") or [ticket_id]
    statuses = extra.get("ticket_statuses") or [status] * len(ticket_ids)
    hint = {
        "type": HINT_TYPE,
        "ticket_id": ticket_id,
        "status": status,
        "queue_id": queue_id,
        "kind": kind,
        # Where each ticket now stands, for the waiting lines (see line_state).
        "line": {ticket: (each, pushed_at) for ticket, each in zip(ticket_ids, statuses, strict=True)}
        if kind in LINE_KINDS
        else None,
    }
    groups = groups_for_change(queue_id=queue_id, agent_ids=agent_ids, previous_queue_id=previous_queue_id)
    # New versions first, then the hint: a page woken by it can never be told "unchanged".
    live.bump([*groups, *(live.ticket_group(changed) for changed in ticket_ids)])
    send_hint(groups, hint)


def push_agent_status_change(sender: object, *, agent_user_id: int, status: str, **extra: Any) -> None:
    """Receiver of teams.events.agent_status_changed (sent after commit): every page of the agent
    shows their status, so another tab (or the dashboard's own panel) re-reads at once instead of
    at the end of its re-render window. Never raises, never waits."""
    group = agent_group(agent_user_id)
    live.bump([group])  # before the hint, as for tickets
    send_hint([group], {"type": AGENT_HINT_TYPE, "agent_user_id": agent_user_id, "status": status})


def send_hint(groups: list[str], hint: dict[str, Any]) -> None:
    """Hand a hint for these groups to this process's hint thread (merged per group, see
    _Coalescer). Never raises, never waits; higher apps (the shopper page) use it for groups of
    their own."""
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        loop = _hint_loop()
        loop.call_soon_threadsafe(_coalescer(loop).submit, layer, groups, hint)
    except Exception:
        logger.warning(
            "Could not push the change of ticket %s to %s; pages poll.", hint.get("ticket_id"), groups, exc_info=True
        )


class _Coalescer:
    """Per process, at most one hint per group every hint_interval(group); the latest hint of a
    burst follows at the end of the interval (trailing edge), so none is lost, only merged.

    A page re-reads everything it shows on a hint (at once for its own work, later for a queue's),
    so a burst of assignments costs each screen one hint instead of one per batch or ticket. Lives on the hint
    loop's thread; the pending hints are bounded by the number of groups.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.last_sent: dict[tuple[int, str], float] = {}
        self.pending: dict[tuple[int, str], tuple[Any, dict[str, Any]]] = {}
        self.in_flight = asyncio.Semaphore(MAX_SENDS_IN_FLIGHT)

    def submit(self, layer: Any, groups: list[str], hint: dict[str, Any]) -> None:
        now = self.loop.time()
        for group in groups:
            key = (id(layer), group)
            if key in self.pending:
                # The latest wins; its send is scheduled. A queue's line merges every change's.
                self.pending[key] = (layer, {**hint, "line": _merged_line(self.pending[key][1], hint)})
                continue
            interval = hint_interval(group)
            due = self.last_sent.get(key, -interval) + interval
            if now >= due:
                self._send(key, layer, group, hint)
            else:
                self.pending[key] = (layer, hint)
                self.loop.call_at(due, self._flush, key, group)

    def _flush(self, key: tuple[int, str], group: str) -> None:
        entry = self.pending.pop(key, None)
        if entry is not None:  # None: forgotten (forget_sent_hints)
            self._send(key, entry[0], group, entry[1])

    def forget(self) -> None:
        self.last_sent.clear()
        self.pending.clear()

    def _send(self, key: tuple[int, str], layer: Any, group: str, hint: dict[str, Any]) -> None:
        self.last_sent[key] = self.loop.time()
        scope = hint_scope(group)
        message = {key: value for key, value in hint.items() if key != "line"}
        if scope == "queue":
            message.update(line_state(hint.get("line")))
        self.loop.create_task(_send_to_group(layer, group, {**message, "scope": scope}, self.in_flight))


def _merged_line(earlier: dict[str, Any], later: dict[str, Any]) -> dict[int, tuple[str, int]] | None:
    """Both hints' tickets, each where the later change left it; None once either cannot tell."""
    if earlier.get("line") is None or later.get("line") is None:
        return None
    merged = dict(earlier["line"])
    for ticket, status in later["line"].items():
        merged.pop(ticket, None)  # re-inserted: the order is the order of the changes
        merged[ticket] = status
    return merged


_coalescers: dict[int, _Coalescer] = {}


def forget_sent_hints() -> None:
    """Forget when this process last hinted each group, and the hints it holds back: the next
    hint to any group goes at once (for tests, whose queues keep their ids from one test to the
    next). Waits until the hint thread has forgotten."""
    loop = _loop
    if loop is None or loop.is_closed():
        return
    coalescer = _coalescers.get(id(loop))
    if coalescer is None or coalescer.loop is not loop:
        return
    done = threading.Event()

    def forget() -> None:
        coalescer.forget()
        done.set()

    loop.call_soon_threadsafe(forget)
    done.wait(timeout=2)


def _coalescer(loop: asyncio.AbstractEventLoop) -> _Coalescer:
    coalescer = _coalescers.get(id(loop))
    if coalescer is None or coalescer.loop is not loop:
        coalescer = _coalescers[id(loop)] = _Coalescer(loop)
    return coalescer


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


async def _send_to_group(layer: Any, group: str, hint: dict[str, Any], in_flight: asyncio.Semaphore) -> None:
    try:
        await asyncio.wait_for(_bounded_send(layer, group, hint, in_flight), timeout=PUSH_TIMEOUT_SECONDS)
    except Exception:
        logger.warning(
            "Could not push the change of ticket %s to %s; pages poll.", hint.get("ticket_id"), group, exc_info=True
        )


async def _bounded_send(layer: Any, group: str, hint: dict[str, Any], in_flight: asyncio.Semaphore) -> None:
    async with in_flight:
        await layer.group_send(group, hint)
