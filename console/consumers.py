"""The console's websocket: it carries hints ("ticket 12 changed"), never state.

An agent's socket joins the group of the agent and of each of their queues; a supervisor's also
joins the supervisors' group. On a hint the page re-reads its HTML from the server.
"""

import logging
from contextlib import suppress
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from console.selectors import live_groups_for

logger = logging.getLogger(__name__)

# Application close codes (4000-4999): the page stops reconnecting and follows its next fetch
# (which sends a signed-out user to the login page).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_LAYER_DOWN = 1011


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    live_groups: list[str]

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

    async def disconnect(self, code: int) -> None:
        for group in self.live_groups:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                logger.info("Could not leave group %s (the layer expires it).", group, exc_info=True)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The page only listens; anything it sends is ignored."""

    async def ticket_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({key: event.get(key) for key in ("type", "ticket_id", "status", "queue_id", "kind")})
