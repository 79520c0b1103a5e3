"""Rate limits in fixed windows: the limit holds within a window, a refused client is told when to
come back, and a cache outage never turns into refused inquiries (core.throttling)."""

import threading
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from core import throttling
from core.caching import RedisCache, count_in_window
from core.throttling import LEASE_DIVISOR, AnonWindowRateThrottle, ScopedWindowRateThrottle
from tests.helpers import INTAKE_URL, VALID_INQUIRY

# The start of a one-minute window (an exact multiple of 60 s since the epoch).
WINDOW_START = 1_900_000_000 // 60 * 60


def at(seconds_into_window: float) -> datetime:
    return datetime.fromtimestamp(WINDOW_START + seconds_into_window, UTC)


class ScopedView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedWindowRateThrottle]
    throttle_scope = "orders"

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class UnscopedView(ScopedView):
    throttle_scope = None  # type: ignore[assignment]  # DRF declares str; a view without a scope is the case under test


class AnonView(ScopedView):
    throttle_classes = [AnonWindowRateThrottle]


class CacheDown(Exception):
    pass


class UnreachableCache(LocMemCache):
    def __init__(self) -> None:
        super().__init__("unreachable", {})

    def add(self, *args: object, **kwargs: object) -> bool:
        raise CacheDown("cache unreachable")

    def incr(self, *args: object, **kwargs: object) -> int:
        raise CacheDown("cache unreachable")


factory = APIRequestFactory()


def call(view: type[APIView], *, address: str = "10.0.0.1", user: User | None = None) -> Response:
    request = factory.get("/", REMOTE_ADDR=address)
    if user is not None:
        force_authenticate(request, user=user)
    return view.as_view()(request)


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> LocMemCache:
    """3 a minute for the "orders" scope, 2 a minute per anonymous address; counted in a private
    local-memory cache."""
    counters = LocMemCache(f"throttle-{uuid.uuid4()}", {})
    for throttle in (ScopedWindowRateThrottle, AnonWindowRateThrottle):
        monkeypatch.setattr(throttle, "THROTTLE_RATES", {"orders": "3/minute", "anon": "2/minute"})
        monkeypatch.setattr(throttle, "cache", counters)
    return counters


@pytest.mark.parametrize(("seconds_into_window", "retry_after"), [(0, "60"), (15, "45"), (59.5, "1")])
def test_past_the_limit_a_client_is_refused_and_told_when_the_window_ends(
    limits: LocMemCache, seconds_into_window: float, retry_after: str
) -> None:
    with time_machine.travel(at(seconds_into_window), tick=False):
        responses = [call(ScopedView) for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[-1]["Retry-After"] == retry_after


def test_a_new_window_lets_the_client_in_again(limits: LocMemCache) -> None:
    with time_machine.travel(at(10), tick=False):
        assert [call(ScopedView).status_code for _ in range(4)] == [200, 200, 200, 429]
    with time_machine.travel(at(59), tick=False):
        assert call(ScopedView).status_code == 429  # same window: still refused
    with time_machine.travel(at(60), tick=False):
        assert [call(ScopedView).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_each_client_has_its_own_count(limits: LocMemCache) -> None:
    ana, bo = User(pk=1, username="ana"), User(pk=2, username="bo")
    with time_machine.travel(at(5), tick=False):
        assert [call(ScopedView, user=ana).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert call(ScopedView, user=bo).status_code == 200
        assert call(ScopedView, address="10.0.0.9").status_code == 200


def test_a_view_without_a_scope_is_not_limited(limits: LocMemCache) -> None:
    with time_machine.travel(at(5), tick=False):
        assert {call(UnscopedView).status_code for _ in range(10)} == {200}


def test_anonymous_callers_are_limited_per_address(limits: LocMemCache) -> None:
    with time_machine.travel(at(30), tick=False):
        first = [call(AnonView, address="10.0.0.1").status_code for _ in range(3)]
        other = call(AnonView, address="10.0.0.2")
        refused = call(AnonView, address="10.0.0.1")

    assert first == [200, 200, 429]
    assert other.status_code == 200
    assert refused["Retry-After"] == "30"


def test_signed_in_callers_are_not_counted_by_the_anonymous_limit(limits: LocMemCache) -> None:
    sam = User(pk=7, username="sam")
    with time_machine.travel(at(30), tick=False):
        assert {call(AnonView, user=sam).status_code for _ in range(5)} == {200}


@pytest.mark.parametrize(
    "unreachable",
    [UnreachableCache, lambda: RedisCache("redis://127.0.0.1:1/0", {})],
    ids=["any-cache", "redis-refusing-connections"],
)
def test_when_the_cache_does_not_answer_requests_are_let_through(
    limits: LocMemCache, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, unreachable
) -> None:
    for throttle in (ScopedWindowRateThrottle, AnonWindowRateThrottle):
        monkeypatch.setattr(throttle, "cache", unreachable())

    assert {call(ScopedView).status_code for _ in range(5)} == {200}
    assert {call(AnonView).status_code for _ in range(5)} == {200}
    assert "Rate limit not checked" in caplog.text


def test_the_local_memory_counter_counts_per_window_and_starts_again_after_it() -> None:
    counters = LocMemCache(f"count-{uuid.uuid4()}", {})
    with time_machine.travel(at(0), tick=False):
        assert [count_in_window(counters, "k", 61) for _ in range(3)] == [1, 2, 3]
        assert count_in_window(counters, "other", 61) == 1
    with time_machine.travel(at(62), tick=False):
        assert count_in_window(counters, "k", 61) == 1


def test_a_counter_that_expires_between_add_and_incr_starts_a_fresh_window() -> None:
    class ExpiresAtOnce(LocMemCache):
        def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
            self.delete(key, version=version)  # the window ended right after the add
            return super().incr(key, delta, version)

    counters = ExpiresAtOnce(f"count-{uuid.uuid4()}", {})
    assert count_in_window(counters, "k", 61) == 1
    assert counters.get("k") == 1


# On Redis (the production cache).


@pytest.fixture
def redis_cache(redis_broker: str) -> RedisCache:
    backend = caches["default"]
    assert isinstance(backend, RedisCache)
    return backend


def test_on_redis_the_counter_counts_and_expires_with_its_window(redis_cache: RedisCache) -> None:
    import redis

    key = f"count-{uuid.uuid4()}"
    assert [count_in_window(redis_cache, key, 61) for _ in range(3)] == [1, 2, 3]

    stored = redis_cache.make_and_validate_key(key)
    client = redis.Redis.from_url(redis_cache._servers[0])  # type: ignore[attr-defined]  # private, not in the stubs
    count = client.get(stored)
    assert count is not None and int(count) == 3
    assert 0 < client.ttl(stored) <= 61  # set once, never pushed back by later counts


def test_on_redis_concurrent_requests_are_each_counted_once(redis_cache: RedisCache) -> None:
    key = f"count-{uuid.uuid4()}"
    seen: list[int] = []
    threads = [
        threading.Thread(target=lambda: seen.extend(count_in_window(redis_cache, key, 61) for _ in range(50)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(seen) == list(range(1, 401))


def test_the_redis_cache_still_does_every_ordinary_cache_operation(redis_cache: RedisCache) -> None:
    prefix = f"ops-{uuid.uuid4()}"
    redis_cache.set(f"{prefix}:a", {"queue": "jewelry"}, 30)
    assert redis_cache.get(f"{prefix}:a") == {"queue": "jewelry"}
    assert redis_cache.add(f"{prefix}:a", "other", 30) is False
    assert redis_cache.add(f"{prefix}:n", 1, 30) is True
    assert redis_cache.incr(f"{prefix}:n", 4) == 5
    redis_cache.set_many({f"{prefix}:x": 1, f"{prefix}:y": 2}, 30)
    assert redis_cache.get_many([f"{prefix}:x", f"{prefix}:y", f"{prefix}:z"]) == {f"{prefix}:x": 1, f"{prefix}:y": 2}
    redis_cache.delete_many([f"{prefix}:a", f"{prefix}:n", f"{prefix}:x", f"{prefix}:y"])
    assert redis_cache.get(f"{prefix}:a") is None


@pytest.fixture
def clean_intake_counters(redis_broker: str):
    import redis

    client = redis.Redis.from_url(redis_broker)

    def clean() -> None:
        keys = list(client.scan_iter(match="*throttle_intake_*"))
        if keys:
            client.delete(*keys)

    clean()
    yield
    clean()


@pytest.mark.django_db
def test_on_redis_the_storefront_is_told_when_to_retry(
    clean_intake_counters: None, storefront_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ScopedWindowRateThrottle, "THROTTLE_RATES", {"intake": "2/minute"})
    with time_machine.travel(at(20), tick=False):
        codes = [storefront_client.post(INTAKE_URL, VALID_INQUIRY, format="json") for _ in range(3)]

    assert [r.status_code for r in codes] == [201, 201, 429]
    assert codes[-1]["Retry-After"] == "40"


@pytest.fixture
def large_limits(monkeypatch: pytest.MonkeyPatch) -> LocMemCache:
    """500 a minute for the "orders" scope: blocks of 10 (1/LEASE_DIVISOR of the limit)."""
    counters = LocMemCache(f"throttle-{uuid.uuid4()}", {})
    monkeypatch.setattr(ScopedWindowRateThrottle, "THROTTLE_RATES", {"orders": "500/minute"})
    monkeypatch.setattr(ScopedWindowRateThrottle, "cache", counters)
    return counters


def test_a_process_counts_a_block_at_a_time_and_spends_it_locally(large_limits: LocMemCache) -> None:
    assert 500 // LEASE_DIVISOR == 10
    with time_machine.travel(at(5), tick=False):
        assert all(call(ScopedView).status_code == 200 for _ in range(25))
    # 25 requests took three blocks of 10 from the shared counter: three round trips, not 25.
    (key,) = list(large_limits._cache)  # type: ignore[attr-defined]  # LocMemCache's private store
    assert large_limits.get(key.split(":", 2)[-1]) == 30


def test_processes_sharing_the_counter_never_admit_more_than_the_limit(
    large_limits: LocMemCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two web processes (each its own block memory, taking turns) against one counter: together
    they admit at most the limit, and a block that only partly fits is granted only that part."""
    processes = [throttling.ProcessLeases(), throttling.ProcessLeases()]
    admitted = 0
    with time_machine.travel(at(5), tick=False):
        for i in range(700):
            monkeypatch.setattr(throttling, "leases", processes[i % 2])
            admitted += call(ScopedView).status_code == 200
    assert admitted == 500


def test_a_new_window_takes_a_new_block(large_limits: LocMemCache) -> None:
    with time_machine.travel(at(59), tick=False):
        assert all(call(ScopedView).status_code == 200 for _ in range(500))
        assert call(ScopedView).status_code == 429
    with time_machine.travel(at(61), tick=False):
        assert call(ScopedView).status_code == 200


def test_every_thread_of_a_process_shares_one_redis_client(redis_cache: RedisCache) -> None:
    """Django makes a cache object per thread, and under ASGI each request has a thread of its
    own: the client (and its connection pool) must be the process's, not the thread's."""
    clients = []
    for _ in range(3):
        thread = threading.Thread(target=lambda: clients.append(caches["default"]._cache))  # type: ignore[attr-defined]  # RedisCache's private client
        thread.start()
        thread.join()
    assert len(clients) == 3
    assert all(client is redis_cache._cache for client in clients)
    other = RedisCache("redis://127.0.0.1:1/0", {})  # another server: another client (none connects here)
    assert isinstance(other._cache, type(redis_cache._cache))
    assert other._cache is not redis_cache._cache
