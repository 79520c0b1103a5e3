#!/usr/bin/env python
"""What each private-API override in core/ saves, against the stock class it replaces.

    .venv/bin/python bench/bench_overrides.py [--count 2000] [--rounds 5]

- cache: Django's Redis cache (a redis-py client built per call) against core.caching.RedisCache
  (one client per process); django-redis too when importable (`pip install --target DIR
  django-redis` and PYTHONPATH=DIR to include it). A GET of a missing key on one cache object,
  and a "request" (a fresh cache object, as Django makes per thread / ASGI request, and 3 GETs).
- broker: kombu's Redis channel (a client per publish) against core.broker's, publishing a small
  message to a scratch queue (purged afterwards).
- database: the per-request health check (CONN_HEALTH_CHECKS) of Django's PostgreSQL backend
  (SELECT 1) against core.postgresql's (a poll of the socket), client and server CPU.

Prints medians over --rounds of --count operations: client CPU (and server CPU where there is a
server round trip) in microseconds per operation, and the stock/override ratio. Uses DATABASE_URL
and REDIS_URL (touches no table; Redis keys under "bench-overrides").
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    step: Callable[[], object], count: int, rounds: int, server_pid: int | None = None
) -> tuple[float, float | None]:
    """Median microseconds of client CPU (and server CPU) per call of `step`."""
    clients, servers = [], []
    for _ in range(rounds):
        before_server = server_cpu(server_pid) if server_pid else 0.0
        before = time.process_time()
        for _ in range(count):
            step()
        clients.append((time.process_time() - before) / count * 1e6)
        if server_pid:
            servers.append((server_cpu(server_pid) - before_server) / count * 1e6)
    return statistics.median(clients), (statistics.median(servers) if servers else None)


def report(name: str, stock: tuple[float, float | None], ours: tuple[float, float | None], stock_label: str) -> None:
    def fmt(figure: tuple[float, float | None]) -> str:
        client, server = figure
        return f"{client:8.1f}" + (f"{server:8.1f}" if server is not None else f"{'':>8}")

    ratio = stock[0] / ours[0] if ours[0] else float("nan")
    print(f"{name:<34}{fmt(stock)}   {fmt(ours)}   x{ratio:.2f}   (stock = {stock_label})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxconsole.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache.backends.base import BaseCache
    from django.core.cache.backends.redis import RedisCache as StockRedisCache
    from django.db import connections
    from django.db.utils import load_backend
    from kombu import Connection, Exchange, Producer, Queue

    from core import broker
    from core.caching import RedisCache

    url, n, r = settings.REDIS_URL, args.count, args.rounds
    print(f"{'':<34}{'stock client/server µs':>22}   {'override client/server µs':>22}   ratio")

    # Cache: one object, a GET per call; then a fresh object per "request" with 3 GETs.
    backends: dict[str, Callable[[], BaseCache]] = {
        "stock": lambda: StockRedisCache(url, {}),
        "ours": lambda: RedisCache(url, {}),
    }
    try:
        from django_redis.cache import RedisCache as DjangoRedis

        backends["django-redis"] = lambda: DjangoRedis(url, {})
    except ImportError:
        pass
    per_call = {name: make() for name, make in backends.items()}
    for cache in per_call.values():
        cache.get("bench-overrides:missing")  # connect

    def request(make: Callable[[], BaseCache]) -> Callable[[], None]:
        def step() -> None:
            cache = make()
            for _ in range(3):
                cache.get("bench-overrides:missing")

        return step

    calls = {name: measure(partial(c.get, "bench-overrides:missing"), n, r) for name, c in per_call.items()}
    requests = {name: measure(request(make), n // 4, r) for name, make in backends.items()}
    report("cache GET", calls["stock"], calls["ours"], "Django's RedisCache")
    report("cache request (new object, 3 GETs)", requests["stock"], requests["ours"], "Django's RedisCache")
    if "django-redis" in calls:
        report("cache GET", calls["django-redis"], calls["ours"], "django-redis 7")
        report("cache request (new object, 3 GETs)", requests["django-redis"], requests["ours"], "django-redis 7")

    # Broker: publish a small message to a scratch queue through each transport.
    queue = Queue("bench-overrides", Exchange("bench-overrides"), routing_key="bench-overrides")
    published = {}
    payload = {"task": "bench", "args": [1]}
    for name, transport in (("stock", "redis"), ("ours", broker.Transport)):
        with Connection(url, transport=transport) as conn:
            producer = Producer(conn.default_channel, exchange=queue.exchange, routing_key="bench-overrides")
            queue(conn.default_channel).declare()
            published[name] = measure(partial(producer.publish, payload, serializer="json"), n, r)
            queue(conn.default_channel).purge()
    report("broker publish", published["stock"], published["ours"], "kombu's redis transport")

    # Database: the health check Django runs before each request's (and task's) first query.
    checks = {}
    for name, engine in (("stock", "django.db.backends.postgresql"), ("ours", "core.postgresql")):
        wrapper = load_backend(engine).DatabaseWrapper(
            {**connections["default"].settings_dict, "CONN_HEALTH_CHECKS": True, "CONN_MAX_AGE": 600}, f"bench-{name}"
        )
        wrapper.ensure_connection()
        wrapper.health_check_enabled = True
        pid = wrapper.connection.info.backend_pid

        def check(w: object = wrapper) -> None:
            w.health_check_done = False  # type: ignore[attr-defined]  # as at every request's start
            w.close_if_health_check_failed()  # type: ignore[attr-defined]

        checks[name] = measure(check, n, r, server_pid=pid)
        wrapper.close()
    report("database health check", checks["stock"], checks["ours"], "Django's postgresql backend")


if __name__ == "__main__":
    main()
