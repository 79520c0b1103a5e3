"""Caching helpers for the hot paths.

- ttl_cache: a tiny per-process time-to-live cache for hot, rarely changing reads (category
  slugs, a client's permission), so the intake path does not pay a query for them per request.
- RedisCache: Django's Redis cache backend without its per-call client construction, one
  client per process. It overrides Django's private `_cache`, `_client`,
  `_get_connection_pool_index` and `_serializer`: tests/test_private_overrides.py fails when
  they change, STOCK_CACHE_BACKEND=1 selects Django's own class, and bench/bench_overrides.py
  measures what it saves.
- count_in_window: a fixed-window counter (rate limits) in one Redis round trip.
- add_many: cache.add for many keys, in one Redis round trip.
"""

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from functools import wraps
from typing import Any, TypeVar

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.utils.functional import cached_property

F = TypeVar("F", bound=Callable[..., Any])


def ttl_cache(seconds: float) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        values: dict[Hashable, tuple[float, Any]] = {}
        lock = threading.Lock()

        @wraps(func)
        def wrapper(*args: Hashable) -> Any:
            now = time.monotonic()
            hit = values.get(args)
            if hit is not None and hit[0] > now:
                return hit[1]
            value = func(*args)
            with lock:
                values[args] = (now + seconds, value)
            return value

        wrapper.cache_clear = values.clear  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


_COUNT_IN_WINDOW = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class _ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client builds a new redis.Redis object (a parser, a response-callback
    table) for every cache call; one per connection pool is enough (it is thread-safe, and the
    pool re-opens its connections after a fork)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._scripts: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        base: Any = self  # Django's private helpers have no stubs
        index = base._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = base._client(connection_pool=base._get_connection_pool(write))
        return client

    def count_in_window(self, key: str, seconds: int, amount: int = 1) -> int:
        """INCRBY a counter that lives `seconds`, in one round trip (one script call: cheaper in
        redis-py than a two-command pipeline)."""
        client = self.get_client(key, write=True)
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts[id(client)] = client.register_script(_COUNT_IN_WINDOW)
        return int(script(keys=[key], args=[seconds, amount]))

    def add_many(self, keys: list[str], value: Any, timeout: int) -> list[bool]:
        """SET NX EX for each key, pipelined: which were added."""
        client = self.get_client(keys[0], write=True)
        pipe = client.pipeline(transaction=False)
        stored = self._serializer.dumps(value)  # type: ignore[attr-defined]
        for key in keys:
            pipe.set(key, stored, nx=True, ex=timeout)
        return [bool(added) for added in pipe.execute()]


_shared_clients: dict[tuple[tuple[str, ...], str], _ReusedClientRedisCacheClient] = {}
_shared_clients_lock = threading.Lock()


class RedisCache(DjangoRedisCache):
    """Django's Redis cache with one client per pool, plus a one-round-trip window counter.

    The client, and so its connection pool, is shared by every thread of the process. Django
    makes a cache object per thread, and under ASGI each request runs on a thread of its own:
    with a client per cache object, every request would open a new Redis connection.
    """

    @cached_property
    def _cache(self) -> _ReusedClientRedisCacheClient:
        servers: Any = self._servers  # type: ignore[attr-defined]  # Django's, without stubs
        options: dict[str, Any] = self._options  # type: ignore[attr-defined]
        key = (tuple(servers), repr(sorted(options.items())))
        with _shared_clients_lock:
            client = _shared_clients.get(key)
            if client is None:
                client = _shared_clients[key] = _ReusedClientRedisCacheClient(servers, **options)
        return client


def count_in_window(cache: BaseCache, key: str, seconds: int, amount: int = 1) -> int:
    """Count `amount` more for `key` in the current window of `seconds`; returns the window's
    total so far, these included.

    One round trip on Redis; add + incr on other backends (the local-memory cache of embedded mode).
    """
    backend = getattr(cache, "_cache", None)
    if isinstance(backend, _ReusedClientRedisCacheClient):
        return backend.count_in_window(cache.make_and_validate_key(key), seconds, amount)
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key, amount)
    except ValueError:  # expired between the two calls: a fresh window
        cache.add(key, amount, seconds)
        return amount


def add_many(cache: BaseCache, keys: Sequence[str], value: Any, timeout: int) -> set[str]:
    """cache.add() for each key (its value, its timeout in seconds); returns the keys added.

    One round trip on Redis; one add per key on other backends (and on any cache object without
    the Redis client, such as a test's stand-in)."""
    backend = getattr(cache, "_cache", None)
    if isinstance(backend, _ReusedClientRedisCacheClient) and keys:
        made = [cache.make_and_validate_key(key) for key in keys]
        return {key for key, added in zip(keys, backend.add_many(made, value, timeout), strict=True) if added}
    return {key for key in keys if cache.add(key, value, timeout)}
