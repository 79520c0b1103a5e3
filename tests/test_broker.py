"""Celery's Redis transport keeps one redis-py client per channel and pool (core.broker)."""

import pytest

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


def test_closing_a_channel_after_its_transport_raises_only_a_connection_error(redis_broker: str) -> None:
    """A worker that lost Redis closes its channel after kombu already closed the transport; the
    unacked-message restore must fail as a connection error (Celery reconnects), never as an
    AttributeError (Celery's "Unrecoverable error": the worker exits)."""
    with celery_app.connection_for_write() as connection:
        channel = connection.channel()
        queue = "cxconsole-broker-closed-test"
        channel.queue_declare(queue)
        try:
            channel.basic_publish(channel.prepare_message("x"), exchange="", routing_key=queue)
            assert channel.basic_get(queue, no_ack=False) is not None  # now unacked: close restores it
            connection.transport.client = None  # kombu's state once the transport closed first
            with pytest.raises(connection.connection_errors):
                channel.close()
            connection.maybe_close_channel(channel)  # what Celery calls: ignores connection errors only
        finally:
            with celery_app.connection_for_write() as cleanup:
                cleanup.default_channel.queue_delete(queue)
