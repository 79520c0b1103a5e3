#!/usr/bin/env python
"""Order lookups through the adapter (orders.http), cached and uncached, against the reference
order service on loopback.

    .venv/bin/python bench/bench_order_lookups.py [--count 500] [--rounds 3]

The reference service runs in its own process (`manage.py serve_orders`), as a storefront would.
Figures per lookup, medians over the rounds of each round's median and p95:
- floor: `GET /healthz` on the adapter's own kept-alive client (one HTTP round trip, no work);
- get_order / recent_orders uncached (ORDER_API_CACHE_SECONDS=0): HTTP + JSON + parsing;
- the same without keep-alive (a new TCP connection per lookup), and with a new httpx client
  per lookup (what a client built per request would cost), to price the pooled client;
- cached: from Django's cache (Redis when REDIS_URL is set, else local memory) + parsing.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxconsole.settings")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402

from orders.http import HttpOrderSystem  # noqa: E402

ORDER, SHOPPER = "JD20261101007", "shopper-007"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(call: Callable[[], object], count: int) -> tuple[float, float]:
    for _ in range(min(50, count)):
        call()  # warm: connection open, cache filled
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def adapter(url: str, *, cache_seconds: int) -> HttpOrderSystem:
    return HttpOrderSystem(
        base_url=url, token="", timeout=5, action_timeout=5, cache_seconds=cache_seconds,
        breaker_failures=5, breaker_reset_seconds=30, max_connections=4,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "serve_orders", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

        uncached, cached = adapter(url, cache_seconds=0), adapter(url, cache_seconds=30)
        client = uncached._http()

        no_keepalive = adapter(url, cache_seconds=0)
        no_keepalive._client = httpx.Client(base_url=url, limits=httpx.Limits(max_keepalive_connections=0))
        no_keepalive._client_pid = os.getpid()

        def fresh_client_get_order() -> object:
            one_shot = adapter(url, cache_seconds=0)
            try:
                return one_shot.get_order(ORDER)
            finally:
                one_shot.close()

        cases: dict[str, Callable[[], object]] = {
            "floor: GET /healthz, kept alive": lambda: client.get("/healthz"),
            "get_order uncached, kept alive": lambda: uncached.get_order(ORDER),
            "get_order uncached, new connection each": lambda: no_keepalive.get_order(ORDER),
            "get_order uncached, new httpx client each": fresh_client_get_order,
            "recent_orders uncached, kept alive": lambda: uncached.recent_orders(SHOPPER),
            "get_order cached": lambda: cached.get_order(ORDER),
            "recent_orders cached": lambda: cached.recent_orders(SHOPPER),
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, call in cases.items():
                # A new client costs ~100 ms (its TLS context): fewer of those.
                count = max(10, args.count // 20) if "client each" in name else args.count
                results[name].append(measure(call, count))

        cache_kind = "Redis" if os.environ.get("REDIS_URL") else "local memory"
        print(f"order lookups, {args.count} per case × {args.rounds} rounds; cache: {cache_kind}")
        floor = statistics.median(p50 for p50, _ in results["floor: GET /healthz, kept alive"])
        print(f"{'case':44} {'p50 ms':>8} {'p95 ms':>8} {'× floor':>8}")
        for name, figures in results.items():
            p50 = statistics.median(f[0] for f in figures)
            p95 = statistics.median(f[1] for f in figures)
            print(f"{name:44} {p50:8.3f} {p95:8.3f} {p50 / floor:8.2f}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
