#!/usr/bin/env python
"""CPU per automatic after-sales claim, web side and worker side, with a cProfile (CPU time) of each.

    .venv/bin/python bench/profile_aftersales.py --requests 300

Same data as bench_aftersales.py (fresh-food orders from the reference order service over HTTP,
one inquiry with a photo per claim) in a scratch database <name>_aftersales_profile. In one
process it then (1) posts every claim through the whole Django stack (middleware, DRF, the
order lookup over HTTP, the answer) with Django's test client, and (2) pays them with the
execution service, as the worker does. It prints the median and mean CPU ms of this process per
claim for each side (the order service's CPU is its own process, not counted) and the top
functions by cumulative time. Bind: 127.0.0.1 only.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_aftersales import SEED
from bench_routing import PY, ROOT, prepare_database, run


def measure(count_top: int) -> None:
    """Runs inside the prepared environment (DJANGO settings from the environment)."""
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxconsole.settings")
    django.setup()
    from django.test import Client

    from aftersales import services
    from aftersales.models import AfterSalesRequest

    claims = [line.split(",") for line in sys.stdin.read().split()]
    client = Client(SERVER_NAME="127.0.0.1")
    warm, measured = claims[:20], claims[20:]

    def post(ticket_id: str, token: str, photo: str) -> None:
        response = client.post(
            f"/api/v1/inquiries/{ticket_id}/aftersales/?token={token}",
            {"kind": "fresh_guarantee", "items": [{"item_id": "1", "quantity": 1}], "amount": "134.00",
             "fresh_problem": "rotten", "reason": "一半都烂了", "photo_ids": [int(photo)]},
            content_type="application/json",
        )  # fmt: skip
        if response.status_code != 201 or not response.json().get("automatic"):
            raise SystemExit(f"claim not automatic: {response.status_code} {response.content[:300]!r}")

    for claim in warm:
        post(*claim)
    # CPU per claim timed without the profiler (it costs more than the code it watches); the
    # profile comes from the last third.
    timed, profiled = measured[: len(measured) * 2 // 3], measured[len(measured) * 2 // 3 :]
    web: list[float] = []
    for claim in timed:
        started = time.process_time()
        post(*claim)
        web.append(time.process_time() - started)
    profile = cProfile.Profile(time.process_time)
    for claim in profiled:
        profile.enable()
        post(*claim)
        profile.disable()
    report("web: one claim through the API", web, profile, count_top)

    services.execute_due_requests(batch=20)  # warm
    # As many requests as the profiled claims stay for the profiled part.
    keep = len(profiled)
    worker: list[float] = []
    while AfterSalesRequest.objects.filter(status="auto_approved").count() > keep:
        started = time.process_time()
        statuses = services.execute_due_requests()
        worker.extend([(time.process_time() - started) / len(statuses)] * len(statuses))
    profile = cProfile.Profile(time.process_time)
    while True:
        profile.enable()
        statuses = services.execute_due_requests()
        profile.disable()
        if not statuses:
            break
    report(f"worker: execution in batches of {services.EXECUTION_BATCH}", worker, profile, count_top)
    left = AfterSalesRequest.objects.exclude(status="done").count()
    print(f"requests not done: {left}")


def report(title: str, seconds: list[float], profile: cProfile.Profile, count_top: int) -> None:
    load = Path("/proc/loadavg").read_text().strip()
    print(f"\n== {title}: {len(seconds)} claims timed, CPU per claim median {statistics.median(seconds) * 1000:.2f} ms, "
          f"mean {statistics.fmean(seconds) * 1000:.2f} ms  (load average {load})")  # fmt: skip
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(count_top)
    stats.sort_stats("tottime").print_stats(count_top // 2)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--orders-port", type=int, default=8166)
    parser.add_argument("--top", type=int, default=45, help="functions listed per profile")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        measure(args.top)
        return
    _db, _redis, env, _token = prepare_database("aftersales_profile")
    env = {**env, "ORDER_API_URL": f"http://127.0.0.1:{args.orders_port}", "ORDER_API_CACHE_SECONDS": "0",
           "ATTACHMENT_THUMBNAIL_SIZE": "64", "SHOPPER_THROTTLE_RATE": "1000000/second"}  # fmt: skip
    seeded = run([PY, "manage.py", "shell", "-v", "0", "-c", SEED.format(count=args.requests)], env)
    orders = subprocess.Popen(
        [PY, "manage.py", "serve_orders", "--port", str(args.orders_port), "--bench-orders", str(args.requests)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{args.orders_port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        subprocess.run(
            [PY, __file__, "--inner", "--top", str(args.top)], cwd=ROOT, env=env, input=seeded, text=True, check=True
        )
    finally:
        orders.terminate()
        orders.wait(timeout=15)


if __name__ == "__main__":
    main()
