"""The configured Redis channel layer keeps an idle console socket open.

channels_redis waits for a socket's next message with a blocking pop of 5 s, again and again;
a Redis client whose socket timeout is not above that (redis-py 8's default is 5 s) raises
instead, and every idle console socket is torn down and reconnected (with a full re-read) every
few seconds.
"""

import asyncio

from channels.layers import get_channel_layer
from django.conf import settings

from tests.helpers import run_async as run


def test_a_socket_waiting_longer_than_the_blocking_pop_is_not_torn_down(redis_broker: str) -> None:
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    layer = get_channel_layer()
    assert layer is not None

    async def scenario() -> None:
        channel = await layer.new_channel()
        waiting = asyncio.ensure_future(layer.receive(channel))
        done, _ = await asyncio.wait({waiting}, timeout=layer.brpop_timeout + 2)
        assert not done, f"the layer gave up waiting: {waiting.exception()!r}"  # still waiting: no error

        await layer.send(channel, {"type": "ticket.changed", "ticket_id": 1})
        assert (await asyncio.wait_for(waiting, timeout=5))["ticket_id"] == 1

    run(scenario)
