"""Celery's Redis transport, reusing its redis-py client.

kombu's Redis channel builds a new redis-py client object for every publish, acknowledgement and
poll (Channel.conn_or_acquire; redis-py fills its response-callback tables each time), several
times per task, in the worker's main process and in every process that publishes. The clients
all share the channel's connection pool, so one client per channel and pool does the same work.
Selected by settings.CELERY_BROKER_TRANSPORT when the broker is Redis.

It overrides kombu's private Channel._create_client: tests/test_private_overrides.py fails when
that changes, STOCK_BROKER_TRANSPORT=1 selects kombu's own transport, and
bench/bench_overrides.py measures what it saves.
"""

from typing import Any

import redis as redis_py
from kombu.transport import redis


class Channel(redis.Channel):
    _reused_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if self._pool is None and getattr(self.connection, "client", None) is None:
            # The transport closed before this channel (a worker recovering from a lost Redis
            # restores unacked messages while closing): kombu would raise AttributeError, which
            # Celery treats as unrecoverable and exits. A connection error lets it reconnect.
            raise redis_py.exceptions.ConnectionError("the broker connection is already closed")
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool = self.pool  # re-made after the channel drops it (a reconnect): never reuse across pools
        client = self._reused_client
        if client is None or client.connection_pool is not pool:
            client = self._reused_client = super()._create_client()
        return client


class Transport(redis.Transport):
    Channel = Channel
