"""The fence around the library internals core/ overrides: Django's Redis cache client
(`_client`, `_get_connection_pool_index`, `_get_connection_pool`, `_serializer`, the backend's
`_cache`, `_servers`, `_options`), kombu's Redis channel (`_create_client`) and Django's PostgreSQL
`is_usable`. An upgrade that renames or reshapes any of them fails here, loudly and without
services, before it can break a deployment; and each override can be switched off by a setting.

Nothing here connects: redis-py clients and pools are built lazily, and the PostgreSQL check is
given a socket pair in place of a server connection.
"""

import inspect
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql import base as django_postgresql
from django.utils.functional import cached_property
from kombu.transport import redis as kombu_redis

from core import broker, caching
from core.postgresql import base as core_postgresql

NOWHERE = "redis://127.0.0.1:9/0"  # the discard port: never dialled by these tests
ROOT = Path(__file__).resolve().parent.parent


def parameters(function: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


P, K = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
EMPTY = inspect.Parameter.empty


# --- Django's Redis cache (core.caching) ------------------------------------------------------


def test_django_s_redis_client_still_has_the_private_names_the_cache_overrides() -> None:
    assert parameters(RedisCacheClient.get_client) == [("self", P, EMPTY), ("key", P, None), ("write", K, False)]
    assert parameters(RedisCacheClient._get_connection_pool_index) == [("self", P, EMPTY), ("write", P, EMPTY)]
    assert parameters(RedisCacheClient._get_connection_pool) == [("self", P, EMPTY), ("write", P, EMPTY)]
    stock = RedisCacheClient([NOWHERE])
    assert stock._client is redis.Redis  # the client class, called with connection_pool=
    assert callable(stock._serializer.dumps) and callable(stock._serializer.loads)


def test_django_s_redis_backend_still_builds_its_client_in_a_cached_property() -> None:
    assert isinstance(inspect.getattr_static(DjangoRedisCache, "_cache"), cached_property)
    stock = DjangoRedisCache(NOWHERE, {"OPTIONS": {"socket_timeout": 1}})
    assert stock._servers == [NOWHERE]
    assert stock._options == {"socket_timeout": 1}
    assert type(stock._cache) is RedisCacheClient


def test_the_cache_keeps_one_client_per_pool_built_by_django_s_own_helpers() -> None:
    cache = caching.RedisCache(NOWHERE, {})
    client = cache._cache.get_client("k")

    assert isinstance(client, redis.Redis)
    assert client is cache._cache.get_client("other", write=True)  # one server: one pool, one client
    assert client.connection_pool is cache._cache._get_connection_pool(True)
    assert caching.RedisCache(NOWHERE, {})._cache is cache._cache  # shared by every cache object


def test_the_cache_serializes_a_batch_as_django_serializes_one_value() -> None:
    client = caching.RedisCache(NOWHERE, {})._cache
    stored = client._serializer.dumps({"a": 1})
    assert client._serializer.loads(stored) == {"a": 1}
    assert client._serializer.dumps(7) == 7  # integers stay plain, so INCR works on them


# --- kombu's Redis channel (core.broker) ------------------------------------------------------


def detached_channel() -> broker.Channel:
    """A channel as kombu sets one up, minus the connection its __init__ would open and ping."""
    channel = broker.Channel.__new__(broker.Channel)
    channel._pool = redis.ConnectionPool.from_url(NOWHERE)  # type: ignore[assignment]  # kombu declares `_pool = None`
    channel._async_pool = None
    channel.Client = redis.Redis
    return channel


def test_kombu_s_channel_still_creates_clients_through_the_overridden_method() -> None:
    assert parameters(kombu_redis.Channel._create_client) == [("self", P, EMPTY), ("asynchronous", P, False)]
    assert isinstance(inspect.getattr_static(kombu_redis.Channel, "pool"), property)
    assert "_create_client()" in inspect.getsource(kombu_redis.Channel.conn_or_acquire)
    assert issubclass(broker.Transport, kombu_redis.Transport) and broker.Transport.Channel is broker.Channel


def test_the_channel_reuses_its_client_until_the_pool_is_replaced() -> None:
    channel = detached_channel()
    with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
        assert first is second
        assert first.connection_pool is channel.pool

    channel._pool = redis.ConnectionPool.from_url(NOWHERE)  # type: ignore[assignment]  # what kombu does on a reconnect
    with channel.conn_or_acquire() as after:
        assert after is not first and after.connection_pool is channel._pool


# --- Django's PostgreSQL backend (core.postgresql) --------------------------------------------


class SocketConnection:
    """Stands in for psycopg's Connection: the attributes the check reads, over a socket pair."""

    def __init__(self) -> None:
        self.ours, self.server = socket.socketpair()
        self.closed = False
        self.broken = False

    def fileno(self) -> int:
        return self.ours.fileno()

    def cursor(self) -> Any:
        raise psycopg.OperationalError("the server closed the connection")


@pytest.fixture
def wrapper() -> Any:
    settings: dict[str, Any] = {"NAME": "unused", "USER": "", "PASSWORD": "", "HOST": "", "PORT": "", "OPTIONS": {}}
    settings |= {"CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": True, "AUTOCOMMIT": True, "TIME_ZONE": None}
    settings |= {"ATOMIC_REQUESTS": False, "TEST": {}}
    db = core_postgresql.DatabaseWrapper(settings)
    db.connection = SocketConnection()
    db.health_check_enabled = True  # connect() would set it from CONN_HEALTH_CHECKS
    yield db
    db.connection.ours.close()
    db.connection.server.close()
    db.connection = None


def test_psycopg_and_django_still_offer_what_the_health_check_reads() -> None:
    assert {"closed", "broken", "fileno"} <= set(dir(psycopg.Connection))
    assert parameters(django_postgresql.DatabaseWrapper.is_usable) == [("self", P, EMPTY)]
    assert "self.is_usable()" in inspect.getsource(BaseDatabaseWrapper.close_if_health_check_failed)


def test_a_quiet_connection_passes_without_django_s_select_1(wrapper: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", lambda self: pytest.fail("SELECT 1 sent"))
    assert wrapper.is_usable() is True


def test_a_connection_with_something_to_read_gets_django_s_check(wrapper: Any) -> None:
    wrapper.connection.server.sendall(b"E")  # the server speaks unprompted only to say goodbye
    assert wrapper.is_usable() is False  # Django's SELECT 1 failed


def test_a_connection_psycopg_knows_is_broken_fails_at_once(wrapper: Any) -> None:
    wrapper.connection.broken = True
    assert wrapper.is_usable() is False


def test_django_s_health_check_goes_through_the_override(wrapper: Any) -> None:
    wrapper.connection.server.sendall(b"E")
    wrapper.health_check_done = False
    closed: list[bool] = []
    wrapper.close = lambda: closed.append(True)

    wrapper.close_if_health_check_failed()

    assert closed == [True] and wrapper.health_check_done


# --- The settings that fall back to the stock classes -----------------------------------------


def configured(**env: str) -> dict[str, Any]:
    """The backends settings.py picks for this environment (a fresh interpreter: settings are
    read once per process)."""
    program = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.DATABASES['default']['ENGINE'], settings.CACHES['default']['BACKEND'],"
        " getattr(settings, 'CELERY_BROKER_TRANSPORT', None)]))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("STOCK_")}
    base |= {"DJANGO_SETTINGS_MODULE": "cxconsole.settings", "DJANGO_DEBUG": "1"}
    base |= {"DATABASE_URL": "postgres://postgres@127.0.0.1:9/unused", "REDIS_URL": NOWHERE}
    done = subprocess.run(
        [sys.executable, "-c", program], env=base | env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    engine, cache, transport = json.loads(done.stdout.splitlines()[-1])
    return {"engine": engine, "cache": cache, "transport": transport}


def test_by_default_the_overrides_are_used() -> None:
    assert configured() == {
        "engine": "core.postgresql",
        "cache": "core.caching.RedisCache",
        "transport": "core.broker:Transport",
    }


def test_each_override_falls_back_to_the_stock_class_by_its_own_setting() -> None:
    assert configured(STOCK_DB_BACKEND="1")["engine"] == "django.db.backends.postgresql"
    assert configured(STOCK_CACHE_BACKEND="1")["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert configured(STOCK_BROKER_TRANSPORT="1")["transport"] is None  # kombu's redis transport, by URL


def test_a_misspelt_fallback_setting_stops_the_process() -> None:
    with pytest.raises(subprocess.CalledProcessError) as failed:
        configured(STOCK_CACHE_BACKEND="maybe")
    assert "STOCK_CACHE_BACKEND='maybe' is not a boolean" in failed.value.stderr
