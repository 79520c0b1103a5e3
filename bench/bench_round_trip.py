#!/usr/bin/env python
"""What one round trip to PostgreSQL and to Redis costs this machine in CPU, client and server.

    .venv/bin/python bench/bench_round_trip.py

On a virtual machine every wake-up of another process is costly, and an inquiry's way from
intake to an agent is made of round trips (HTTP, statements, Redis calls, Celery hand-offs):
this puts a price on each. `SELECT 1` on a persistent connection and Redis `GET` on a missing
key, N times in a row; medians of several rounds. Uses DATABASE_URL / REDIS_URL (default: the
local servers); touches no table and no key.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

import psycopg
import redis


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    database = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    pg = psycopg.connect(database, autocommit=True)
    cursor = pg.cursor()
    cache = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    cache.ping()
    figures: dict[str, list[float]] = {
        k: [] for k in ("pg_client", "pg_server", "pg_wall", "redis_client", "redis_wall")
    }
    for _ in range(args.rounds):
        server, cpu, wall = server_cpu(pg.info.backend_pid), time.process_time(), time.perf_counter()
        for _ in range(args.count):
            cursor.execute("SELECT 1")
            cursor.fetchone()
        figures["pg_client"].append((time.process_time() - cpu) / args.count)
        figures["pg_wall"].append((time.perf_counter() - wall) / args.count)
        figures["pg_server"].append((server_cpu(pg.info.backend_pid) - server) / args.count)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.count):
            cache.get("bench-round-trip-missing-key")
        figures["redis_client"].append((time.process_time() - cpu) / args.count)
        figures["redis_wall"].append((time.perf_counter() - wall) / args.count)
    print(f"{'per round trip (median of rounds)':<36}{'µs':>8}")
    labels = {
        "pg_client": "PostgreSQL SELECT 1, client CPU",
        "pg_server": "PostgreSQL SELECT 1, server CPU",
        "pg_wall": "PostgreSQL SELECT 1, wall",
        "redis_client": "Redis GET, client CPU",
        "redis_wall": "Redis GET, wall",
    }
    for key, label in labels.items():
        print(f"{label:<36}{statistics.median(figures[key]) * 1e6:>8.0f}")


if __name__ == "__main__":
    main()
