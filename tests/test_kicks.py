"""Kicks coalesce: a burst of writers publishes one routing run, and no work waits for a run that
has already looked (core.kicks)."""

import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.utils import timezone

from core import kicks
from core.kicks import KICK_TTL_SECONDS, Kick, claim, kick, kick_all
from cxconsole.celery import app as celery_app
from routing.tasks import route_new_tickets
from tickets.services import ROUTE_KICK, ShopperDetails, open_ticket

ROUTE_TASK = route_new_tickets.name


class BrokerDown(Exception):
    pass


class CacheDown(Exception):
    pass


class UnreachableCache:
    """A cache whose server does not answer."""

    def add(self, *args: object, **kwargs: object) -> bool:
        raise CacheDown("cache unreachable")

    def delete(self, *args: object, **kwargs: object) -> bool:
        raise CacheDown("cache unreachable")


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list, str | None]]:
    """What reached the broker: (task name, args, Celery queue)."""
    sent: list[tuple[str, list, str | None]] = []

    def send_task(name: str, args: Iterable[Any] | None = None, kwargs: object = None, **options: Any) -> None:
        sent.append((name, list(args or []), options.get("queue")))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    return sent


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    refused: list[str] = []

    def refuse(name: str, *args: object, **kwargs: object) -> None:
        refused.append(name)
        raise BrokerDown("Redis is down")

    monkeypatch.setattr(celery_app, "send_task", refuse)
    return refused


@pytest.fixture
def local_cache(monkeypatch: pytest.MonkeyPatch) -> LocMemCache:
    """A private local-memory cache for the kick flags (its clock follows time-machine)."""
    local = LocMemCache("kicks-test", {})
    monkeypatch.setattr(kicks, "cache", local)
    return local


def test_a_burst_of_kicks_publishes_one_run(published: list) -> None:
    results = [kick(ROUTE_TASK, key=ROUTE_KICK) for _ in range(5)]

    assert results == [True] * 5  # the others are covered by the pending run
    assert published == [(ROUTE_TASK, [], None)]


def test_after_the_run_claims_its_key_the_next_kick_publishes_another(published: list) -> None:
    kick(ROUTE_TASK, key=ROUTE_KICK)
    claim(ROUTE_KICK)  # the run has started: it may already have read the work
    kick(ROUTE_TASK, key=ROUTE_KICK)
    kick(ROUTE_TASK, key=ROUTE_KICK)

    assert [name for name, _, _ in published] == [ROUTE_TASK, ROUTE_TASK]


def test_each_key_has_its_own_pending_run_with_its_args_and_queue(published: list) -> None:
    kick("routing.dispatch_queue", key="dispatch:1", args=[1], queue="assign.jewelry")
    kick("routing.dispatch_queue", key="dispatch:2", args=[2], queue="assign.triage")
    kick("routing.dispatch_queue", key="dispatch:1", args=[1], queue="assign.jewelry")

    assert published == [
        ("routing.dispatch_queue", [1], "assign.jewelry"),
        ("routing.dispatch_queue", [2], "assign.triage"),
    ]


def test_claiming_a_key_with_no_pending_run_is_harmless(published: list) -> None:
    claim("never-kicked")
    assert kick(ROUTE_TASK, key="never-kicked") is True
    assert len(published) == 1


def test_a_refused_publish_returns_false_and_does_not_block_the_next_kick(
    broker_down: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert kick(ROUTE_TASK, key=ROUTE_KICK) is False
    assert kick(ROUTE_TASK, key=ROUTE_KICK) is False  # not swallowed by a flag left behind
    assert broker_down == [ROUTE_TASK, ROUTE_TASK]

    sent: list[str] = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, *a, **k: sent.append(name))  # the broker is back
    assert kick(ROUTE_TASK, key=ROUTE_KICK) is True
    assert sent == [ROUTE_TASK]


def test_when_the_cache_is_unreachable_kicks_leave_the_work_to_the_sweeps_without_publishing(
    published: list, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Cache and broker are the same Redis: a publish now would block on the broker's retries.
    monkeypatch.setattr(kicks, "cache", UnreachableCache())

    assert kick(ROUTE_TASK, key=ROUTE_KICK) is False
    assert kick_all([Kick(ROUTE_TASK, "a"), Kick(ROUTE_TASK, "b")]) is False
    claim(ROUTE_KICK)  # must not raise: the task goes on to drain its work

    assert published == []
    assert "leaving route to the sweeps" in caplog.text


def test_a_run_lost_with_its_message_delays_work_by_at_most_the_flag_lifetime(
    published: list, local_cache: LocMemCache
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        kick(ROUTE_TASK, key=ROUTE_KICK)  # published, then lost: nobody ever claims it
    with time_machine.travel(start + timedelta(seconds=KICK_TTL_SECONDS - 1), tick=False):
        kick(ROUTE_TASK, key=ROUTE_KICK)
    assert len(published) == 1  # still taken for pending

    with time_machine.travel(start + timedelta(seconds=KICK_TTL_SECONDS + 1), tick=False):
        kick(ROUTE_TASK, key=ROUTE_KICK)
    assert len(published) == 2


@pytest.mark.django_db
def test_inquiries_before_the_routing_run_starts_share_one_run_and_later_ones_kick_another(
    published: list, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            open_ticket(shopper=ShopperDetails(external_id=f"u-{n}"), channel="chat", body="戒指尺寸偏大")
    assert [name for name, _, _ in published] == [ROUTE_TASK]

    claim(ROUTE_KICK)  # what routing.route_new_tickets does first
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(shopper=ShopperDetails(external_id="u-late"), channel="chat", body="戒指尺寸偏大")
    assert [name for name, _, _ in published] == [ROUTE_TASK, ROUTE_TASK]


def test_on_redis_the_flag_lives_at_most_the_ttl(redis_broker: str, published: list) -> None:
    import redis

    kick(ROUTE_TASK, key="ttl-check")

    client = redis.Redis.from_url(redis_broker)
    (flag,) = client.keys("*kick:ttl-check")
    assert 0 < client.ttl(flag) <= KICK_TTL_SECONDS
    claim("ttl-check")
    assert client.keys("*kick:ttl-check") == []


def test_on_redis_racing_writers_publish_one_run(redis_broker: str, published: list) -> None:
    racers = 8
    barrier = threading.Barrier(racers)

    def race() -> None:
        barrier.wait()
        kick(ROUTE_TASK, key="race")

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert published == [(ROUTE_TASK, [], None)]
    assert cache.get("kick:race") is not None


def dispatch_kicks(*queue_ids: int) -> list[Kick]:
    return [Kick("routing.dispatch_queue", f"dispatch:{i}", (i,), f"assign.q{i}") for i in queue_ids]


def test_kicking_several_keys_at_once_publishes_one_run_per_key_not_already_pending(published: list) -> None:
    kick("routing.dispatch_queue", key="dispatch:2", args=[2], queue="assign.q2")  # already pending

    assert kick_all(dispatch_kicks(1, 2, 3)) is True

    assert published == [
        ("routing.dispatch_queue", [2], "assign.q2"),
        ("routing.dispatch_queue", [1], "assign.q1"),
        ("routing.dispatch_queue", [3], "assign.q3"),
    ]
    assert kick_all(dispatch_kicks(1, 2, 3)) is True  # all pending now
    assert len(published) == 3


def test_a_key_named_twice_in_one_batch_publishes_one_run(published: list) -> None:
    assert kick_all(dispatch_kicks(5, 5)) is True
    assert published == [("routing.dispatch_queue", [5], "assign.q5")]


def test_a_refused_batch_clears_every_flag_it_set(broker_down: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert kick_all(dispatch_kicks(1, 2)) is False
    assert cache.get("kick:dispatch:1") is None and cache.get("kick:dispatch:2") is None

    sent: list[str] = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, *a, **k: sent.append(name))  # the broker is back
    assert kick_all(dispatch_kicks(1, 2)) is True
    assert len(sent) == 2


def test_on_redis_several_kicks_take_one_round_trip_for_their_flags(
    redis_broker: str, published: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    calls: list[str] = []
    original = redis.client.Pipeline.execute

    def counted(self: redis.client.Pipeline, *args: Any, **kwargs: Any) -> object:
        calls.append("pipeline")
        return original(self, *args, **kwargs)

    single = redis.Redis.execute_command

    def one_command(self: redis.Redis, *args: object, **options: object) -> object:
        calls.append(str(args[0]))
        return single(self, *args, **options)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counted)
    monkeypatch.setattr(redis.Redis, "execute_command", one_command)  # a pipeline buffers its own

    kick_all(dispatch_kicks(11, 12, 13, 14))

    assert calls == ["pipeline"]
    assert len(published) == 4
    client = redis.Redis.from_url(redis_broker)
    for i in (11, 12, 13, 14):
        (flag,) = client.keys(f"*kick:dispatch:{i}")
        assert 0 < client.ttl(flag) <= KICK_TTL_SECONDS
        claim(f"dispatch:{i}")
