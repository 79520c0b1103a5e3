"""The in-memory channel layer for the embedded mode, safe to send to from any thread.

Channels' InMemoryChannelLayer keeps asyncio queues that belong to the web server's event loop.
In the embedded mode, tickets are assigned by the Celery worker *thread*, whose hints arrive
through async_to_sync on an event loop of their own: putting into another loop's queue from there
is not thread-safe and does not wake the server's loop, so the hint would sit unseen until some
other event. This layer runs every send on the loop its consumers receive on.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._home_loop: asyncio.AbstractEventLoop | None = None

    async def receive(self, channel: str) -> Any:
        self._home_loop = asyncio.get_running_loop()
        return await super().receive(channel)

    async def _on_home_loop(self, call: Callable[[], Awaitable[Any]]) -> Any:
        home = self._home_loop
        if home is None or home.is_closed() or not home.is_running() or home is asyncio.get_running_loop():
            return await call()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_awaited(call), home))

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await self._on_home_loop(lambda: super(ThreadSafeInMemoryChannelLayer, self).send(channel, message))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self._on_home_loop(lambda: super(ThreadSafeInMemoryChannelLayer, self).group_send(group, message))


async def _awaited(call: Callable[[], Awaitable[Any]]) -> Any:
    return await call()
