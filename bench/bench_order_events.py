#!/usr/bin/env python
"""Order events ingested per second through POST /api/v1/order-events/ (batches of 500), on
PostgreSQL behind the production server (gunicorn), like the other benchmarks.

    .venv/bin/python bench/bench_order_events.py --batches 400 --concurrency 4

Needs PostgreSQL (DATABASE_URL); it creates a scratch database <name>_order_events (migrated, a
storefront client) and starts gunicorn (2 sync workers) on loopback. Then:
  1. floor: the same batches (same bytes) POSTed to /bench/bare, a view that does no work: the
     server, HTTP and client cost of moving 500-event bodies;
  2. ingestion: --batches batches of --batch-size events; each batch carries placed, paid, shipped
     and a scan for batch-size/4 new orders (so every event creates or updates an order row);
  3. replay: the first 50 batches again (every event a duplicate by id).
It prints a table and writes bench/results/order_events.json.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_routing import PY, ROOT, cpu_seconds, percentile, prepare_database

CATEGORIES = ["apparel", "beauty", "electronics", "home", "fresh_food", "maternal_baby", "books", "jewelry", "flowers"]


def batch_body(k: int, size: int) -> bytes:
    """Batch k: placed, paid, shipped and one scan for size/4 orders of their own."""
    now = datetime.now(UTC)
    events = []
    for j in range(size // 4):
        n = k * (size // 4) + j
        number = f"BENCH{n:09d}"
        shopper = {"external_id": f"bench-shopper-{n % 50000}", "phone": "+8613800138000", "language": "zh"}
        at = now - timedelta(hours=5)
        events += [
            {"id": f"e{n}-1", "type": "order.placed", "order_number": number, "occurred_at": at.isoformat(),
             "shopper": shopper, "category": CATEGORIES[n % len(CATEGORIES)], "product_title": "商品",
             "amount": "99.00", "currency": "CNY", "shipping_fee": "8.00"},
            {"id": f"e{n}-2", "type": "order.paid", "order_number": number,
             "occurred_at": (at + timedelta(minutes=1)).isoformat()},
            {"id": f"e{n}-3", "type": "order.shipped", "order_number": number,
             "occurred_at": (at + timedelta(hours=1)).isoformat(), "shopper": shopper, "carrier": "SF Express",
             "tracking_number": f"SF{n:012d}", "promised_delivery_at": (now + timedelta(days=2)).isoformat()},
            {"id": f"e{n}-4", "type": "logistics.scan", "order_number": number,
             "occurred_at": (at + timedelta(hours=3)).isoformat(), "place": "上海转运中心", "status": "sorted"},
        ]  # fmt: skip
    return json.dumps({"events": events}, ensure_ascii=False).encode()


def load(
    base: str, path: str, bodies: list[bytes], concurrency: int, token: str
) -> tuple[float, list[tuple[float, int, dict]]]:
    """POST every body with `concurrency` kept-alive clients. Returns elapsed seconds and
    (latency, status, answer) per body."""
    results: list[tuple[float, int, dict]] = []
    cursor = iter(range(len(bodies)))
    lock = threading.Lock()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
            while True:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return
                started = time.perf_counter()
                response = client.post(path, content=bodies[index])
                latency = time.perf_counter() - started
                try:
                    answer = response.json()
                except ValueError:
                    answer = {}
                with lock:
                    results.append((latency, response.status_code, answer))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (batches in flight)")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "order_events.json"))
    args = parser.parse_args()

    _bench_db, _redis_url, env, token = prepare_database("order_events")
    env = {**env, "ORDER_EVENTS_THROTTLE_RATE": "1000000/second"}
    print(f"Building {args.batches} batches of {args.batch_size} events ...", flush=True)
    bodies = [batch_body(k, args.batch_size) for k in range(args.batches)]
    logs = Path(tempfile.mkdtemp(prefix="bench-order-events-"))
    web = subprocess.Popen(
        [PY, "-m", "gunicorn", "cxconsole.wsgi:application", "-w", str(args.web_workers), "-b",
         f"127.0.0.1:{args.port}", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=(logs / "web.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        # Warm up: each web worker imports and connects once.
        load(base, "/bench/bare", bodies[:8], args.concurrency, token)

        print("Floor: the same bodies to /bench/bare ...", flush=True)
        floor_elapsed, floor = load(base, "/bench/bare", bodies, args.concurrency, token)
        floor_events = sum(args.batch_size for _, status, _ in floor if status == 200) / floor_elapsed

        print(f"Ingestion: {args.batches} batches of {args.batch_size}, {args.concurrency} in flight ...", flush=True)
        before = cpu_seconds()
        elapsed, answers = load(base, "/api/v1/order-events/", bodies, args.concurrency, token)
        after = cpu_seconds()
        accepted = sum(a.get("accepted", 0) for _, status, a in answers if status == 200)
        refused = [(status, a) for _, status, a in answers if status != 200 or a.get("errors")]
        rate = accepted / elapsed
        latencies = [lat * 1000 for lat, _, _ in answers]

        replay_bodies = bodies[: min(50, len(bodies))]
        replay_elapsed, replayed = load(base, "/api/v1/order-events/", replay_bodies, args.concurrency, token)
        duplicates = sum(a.get("duplicates", 0) for _, status, a in replayed if status == 200)
    finally:
        web.terminate()
        web.wait(timeout=30)

    cpu = {role: after.get(role, 0.0) - before.get(role, 0.0) for role in after}
    load_average = os.getloadavg()
    figures = {
        "batches": args.batches,
        "batch_size": args.batch_size,
        "concurrency": args.concurrency,
        "events_accepted": accepted,
        "seconds": round(elapsed, 2),
        "events_per_second": round(rate),
        "batch_ms_p50": round(percentile(latencies, 0.5), 1),
        "batch_ms_p99": round(percentile(latencies, 0.99), 1),
        "floor_events_per_second": round(floor_events),
        "replay_events_per_second": round(duplicates / replay_elapsed),
        "cpu_seconds": {k: round(v, 1) for k, v in cpu.items()},
        "refused_batches": len(refused),
        "load_average": [round(x, 2) for x in load_average],
    }
    print()
    print("Order events through POST /api/v1/order-events/ (PostgreSQL, gunicorn)")
    print(f"  {'batches x size, in flight':36} {args.batches} x {args.batch_size}, {args.concurrency}")
    print(f"  {'events ingested per second':36} {rate:,.0f}   (target >= 5,000)")
    print(f"  {'batch latency p50 / p99':36} {figures['batch_ms_p50']} / {figures['batch_ms_p99']} ms")
    print(f"  {'floor: same bodies to a bare view':36} {floor_events:,.0f} events/s")
    print(f"  {'replayed batches (all duplicates)':36} {figures['replay_events_per_second']:,} events/s")
    print(f"  {'CPU seconds by role':36} " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items() if v >= 0.05))
    print(f"  {'refused or partly refused batches':36} {len(refused)}")
    print(f"  {'load average (1, 5, 15 min)':36} {', '.join(f'{x:.2f}' for x in load_average)}")
    if refused:
        print(f"  first refusal: {refused[0]}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
