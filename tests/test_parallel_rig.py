"""The test rig's own rules: each xdist worker's Redis database, and the TTL clock that query
counts hold still (it patches core.caching's `time`: this fails if that name goes away)."""

import time

from core.caching import ttl_cache
from tests.helpers import worker_redis_url


def test_each_worker_gets_a_redis_database_of_its_own() -> None:
    urls = [worker_redis_url("redis://127.0.0.1:6379/4", i) for i in range(4)]
    assert urls == [
        "redis://127.0.0.1:6379/4",
        "redis://127.0.0.1:6379/15",
        "redis://127.0.0.1:6379/14",
        "redis://127.0.0.1:6379/13",
    ]
    # CI's own db 15 is never handed out twice.
    assert [worker_redis_url("redis://127.0.0.1:6379/15", i)[-3:] for i in range(3)] == ["/15", "/14", "/13"]
    assert worker_redis_url("redis://:pw@cache:6380", 1) == "redis://:pw@cache:6380/15"


def test_a_held_ttl_clock_keeps_cached_reads_cached(held_ttl_clock: None) -> None:
    calls: list[int] = []

    @ttl_cache(seconds=0.01)
    def read() -> int:
        calls.append(1)
        return len(calls)

    assert read() == 1
    time.sleep(0.05)
    assert read() == 1 and len(calls) == 1


def test_without_the_held_clock_the_cache_expires() -> None:
    calls: list[int] = []

    @ttl_cache(seconds=0.01)
    def read() -> int:
        calls.append(1)
        return len(calls)

    read()
    time.sleep(0.05)
    assert read() == 2
