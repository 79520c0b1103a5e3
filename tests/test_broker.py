"""Celery's Redis transport keeps one redis-py client per channel and pool (core.broker)."""

from core.broker import Transport
from cxconsole.celery import app as celery_app


def test_the_redis_broker_uses_the_transport_that_reuses_its_client(redis_broker: str) -> None:
    with celery_app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)
        channel = connection.default_channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
        assert first.ping()


def test_a_new_pool_gets_a_new_client(redis_broker: str) -> None:
    with celery_app.connection_for_write() as connection:
        channel = connection.default_channel
        with channel.conn_or_acquire() as before:
            pass
        channel._pool = None  # what kombu does when it drops the channel's connections
        with channel.conn_or_acquire() as after:
            assert after is not before
            assert after.connection_pool is channel.pool


def test_a_message_published_through_it_is_received(redis_broker: str) -> None:
    with celery_app.connection_for_write() as connection:
        queue = connection.SimpleQueue("cxconsole-broker-test")
        try:
            queue.put({"hello": "world"})
            message = queue.get(timeout=5)
            assert message.payload == {"hello": "world"}
            message.ack()
        finally:
            queue.clear()
            queue.close()
