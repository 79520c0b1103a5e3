"""The console's websocket: it carries hints ("ticket 12 changed"), never state.

An agent's socket joins the group of the agent and of each of their queues; a supervisor's also
joins the supervisors' group. On a hint the page re-reads its HTML from the server.
"""

import asyncio
import logging
import time
from contextlib import suppress
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from console.selectors import live_groups_for
from routing.services import record_consoles_seen

logger = logging.getLogger(__name__)

# Application close codes (4000-4999): the page stops reconnecting and follows its next fetch
# (which sends a signed-out user to the login page).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_LAYER_DOWN = 1011


# A socket writes its agent's presence at most this often, however often the page sends.
PRESENCE_WRITE_SECONDS = 10.0
# Heartbeats are gathered per process and written together this often (a connect is written at
# once: an agent coming back is Online at once). The page beats every 20 s and the sweep waits at
# least PRESENCE_AWAY_SECONDS (30 or more), so a beat written this much later still keeps them.
PRESENCE_FLUSH_SECONDS = 5.0
# Channels closes stale database connections before every message a consumer handles: a hop to
# the thread that runs the views, per hint and per socket. These handlers touch no database (a
# heartbeat's write goes through database_sync_to_async, which closes them itself).
DATABASE_FREE_MESSAGES = frozenset({"ticket.changed", "agent.changed", "websocket.receive"})


class _Heartbeats:
    """The users whose consoles beat since the last write, per process and event loop, written
    in one statement every PRESENCE_FLUSH_SECONDS. A write that fails keeps them for the next."""

    def __init__(self) -> None:
        self.pending: set[int] = set()
        self.task: asyncio.Task[None] | None = None

    async def beat(self, user_id: int, *, at_once: bool = False) -> None:
        """Note a console of this user spoke; at_once: write now (a connect), with any others
        gathered so far."""
        self.pending.add(user_id)
        if at_once:
            await self.write()
        if not self.pending:
            return
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self._write_every())

    async def _write_every(self) -> None:
        while self.pending:
            await asyncio.sleep(PRESENCE_FLUSH_SECONDS)
            await self.write()

    async def write(self) -> None:
        users, self.pending = self.pending, set()
        try:
            await database_sync_to_async(record_consoles_seen)(user_ids=users)
        except Exception:
            # Presence is best effort: a socket must keep carrying hints while the database blinks.
            logger.warning("Presence of %d consoles not recorded; kept for the next write.", len(users), exc_info=True)
            self.pending |= users


HEARTBEATS = _Heartbeats()


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    live_groups: list[str]
    # The agents' console keeps their presence (routing.services.presence); other pages reusing
    # this socket (the shopper page) do not.
    tracks_presence = True
    _presence_written_at: float = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve the socket; when the channel layer fails (Redis down or restarting), close it
        quietly: the page keeps polling and reconnects with backoff."""
        try:
            await super().__call__(scope, receive, send)
        except Exception as exc:
            logger.warning("Console socket closed, the channel layer failed: %r. Pages poll and reconnect.", exc)
            with suppress(Exception):
                await send({"type": "websocket.close", "code": CLOSE_LAYER_DOWN})

    async def connect(self) -> None:
        self.live_groups = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        groups = await database_sync_to_async(live_groups_for)(user)
        if groups is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)  # fails with the layer: see __call__
        self.live_groups = groups
        await self.accept()
        await self._seen(at_once=True)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Handle a hint or a page's message without Channels' stale-connection check (see
        DATABASE_FREE_MESSAGES); anything else as Channels does."""
        if message.get("type") in DATABASE_FREE_MESSAGES:
            await getattr(self, get_handler_name(message))(message)
            return
        await super().dispatch(message)

    async def _seen(self, *, at_once: bool = False) -> None:
        if not self.tracks_presence:
            return
        now = time.monotonic()
        if now - self._presence_written_at < PRESENCE_WRITE_SECONDS:
            return
        self._presence_written_at = now
        await HEARTBEATS.beat(self.scope["user"].pk, at_once=at_once)

    async def disconnect(self, code: int) -> None:
        for group in self.live_groups:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                logger.info("Could not leave group %s (the layer expires it).", group, exc_info=True)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The page sends only heartbeats (presence); anything else is ignored."""
        if isinstance(content, dict) and content.get("type") == "heartbeat":
            await self._seen()

    async def ticket_changed(self, event: dict[str, Any]) -> None:
        keys = ("type", "ticket_id", "status", "queue_id", "kind", "scope", "queued", "left", "reread")
        await self.send_json({key: event[key] for key in keys if key in event})

    async def agent_changed(self, event: dict[str, Any]) -> None:
        """The agent's own status changed (another tab, a supervisor, the presence sweep)."""
        await self.send_json({"type": event.get("type"), "status": event.get("status"), "scope": "own"})
