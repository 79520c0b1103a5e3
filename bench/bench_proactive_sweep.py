#!/usr/bin/env python
"""One rules sweep over many in-flight orders (PostgreSQL): its time and peak memory.

    .venv/bin/python bench/bench_proactive_sweep.py --orders 1000000 --anomalies 1000

Needs PostgreSQL (DATABASE_URL); it creates a scratch database <name>_sweep (migrated), seeds
--orders in-flight orders with `manage.py seed_orders` (--anomalies of them due: stalled, late,
failed, cold chain, a quarter each), then runs `manage.py proactive_sweep` in a fresh process:
  1. the sweep: every rule over every order, opening a proactive ticket (and the shopper's message,
     and for late ones a compensation) per anomaly;
  2. the same sweep again: nothing left to open, so this is the cost of evaluating the rules alone;
  3. floor: one full scan of the orders table (SELECT count(*)), what a rule without its index costs.
It prints a table and writes bench/results/proactive_sweep.json.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_routing import PY, ROOT, one_row, prepare_database, run


def sweep(env: dict[str, str]) -> dict:
    started = time.perf_counter()
    out = run([PY, "manage.py", "proactive_sweep"], env).strip().splitlines()[-1]
    figures = json.loads(out)
    figures["wall_seconds"] = round(time.perf_counter() - started, 2)  # with the process start
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--anomalies", type=int, default=1000)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "proactive_sweep.json"))
    args = parser.parse_args()

    bench_db, _redis, env, _token = prepare_database("sweep")
    print(f"Seeding {args.orders:,} orders ({args.anomalies:,} anomalies) ...", flush=True)
    started = time.perf_counter()
    run([PY, "manage.py", "seed_orders", "--orders", str(args.orders), "--anomalies", str(args.anomalies)], env)
    seed_seconds = time.perf_counter() - started

    print("Sweep ...", flush=True)
    first = sweep(env)
    print("Sweep again (nothing left to open) ...", flush=True)
    second = sweep(env)
    with psycopg.connect(bench_db, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("SELECT count(*) FROM proactive_trackedorder").fetchone()
        scan = time.perf_counter() - started
        tickets = one_row(conn.execute("SELECT count(*) FROM tickets_ticket WHERE channel = 'proactive'"))[0]
    load_average = os.getloadavg()
    figures = {
        "orders": args.orders,
        "anomalies": args.anomalies,
        "seed_seconds": round(seed_seconds, 1),
        "sweep": first,
        "sweep_again": second,
        "full_scan_seconds": round(scan, 2),
        "proactive_tickets": tickets,
        "load_average": [round(x, 2) for x in load_average],
    }
    print()
    print(f"Rules sweep over {args.orders:,} in-flight orders (PostgreSQL)")
    print(f"  {'seeding (seed_orders)':44} {seed_seconds:.1f} s")
    print(
        f"  {'sweep: cases opened':44} {first['total']:,} {first['opened']} (+{first['compensations']} compensations)"
    )
    print(
        f"  {'sweep: time in the sweep / with process':44} {first['seconds']} s / {first['wall_seconds']} s   (target <= 30 s)"
    )
    print(f"  {'sweep: peak RSS of the process':44} {first['peak_rss_mb']} MB")
    print(f"  {'sweep again (nothing to open): time':44} {second['seconds']} s (peak RSS {second['peak_rss_mb']} MB)")
    print(f"  {'floor: one full scan of the orders table':44} {scan:.2f} s")
    print(f"  {'proactive tickets in the database':44} {tickets:,}")
    print(f"  {'load average (1, 5, 15 min)':44} {', '.join(f'{x:.2f}' for x in load_average)}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
