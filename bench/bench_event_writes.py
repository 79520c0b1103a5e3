#!/usr/bin/env python
"""What an event row costs the writer's PostgreSQL backend: a micro-benchmark that runs in seconds.

    .venv/bin/python bench/bench_event_writes.py --transactions 2000 --runs 5

In a scratch database <name>_evbench (migrated afresh, five endpoints subscribed to every type)
it runs --transactions routing-like transactions that each record --events events through
webhooks.outbox.record_events (the subscriber's own path; the after-commit kick is left out, no
Redis needed), and as many that record none, alternating the two in blocks. The figure is the
CPU the backend spent (its /proc/<pid>/schedstat, nanoseconds; the connection is this process's
own, so other work on the machine does not count) per transaction with events minus per
transaction without, divided by the events: the write cost of one event row. Then it fans the
events out (webhooks.fanout.fan_out_batch) and prints the backend CPU per event of that too.
Median of --runs runs, with the table growing between them (--preload rows first for a table
that is not tiny; --drop-index NAME to see what an index costs). Needs PostgreSQL on the same host
(it reads /proc).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 50  # transactions per block; blocks with and without events alternate


def scratch_database() -> str:
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cxconsole")
    parsed = urlparse(base_db)
    name = (parsed.path.lstrip("/") or "cxconsole") + "_evbench"
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = parsed._replace(path=f"/{name}").geturl()
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, stdout=-3)
    return url


def backend_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=2000, help="with events, per run (as many without)")
    parser.add_argument("--events", type=int, default=5, help="events per transaction")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--preload", type=int, default=0, help="events written (and fanned out) before measuring")
    parser.add_argument(
        "--drop-index", action="append", default=[], help="measure without this index of the event table (its price)"
    )
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = scratch_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxconsole.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from core.events import Event
    from webhooks import outbox
    from webhooks.fanout import fan_out_batch
    from webhooks.models import WebhookEvent
    from webhooks.services import create_endpoint

    outbox.kick_after_write = lambda: None  # no Redis: the kick is not the database's work
    client = User.objects.create(username="bench-storefront")
    for n in range(5):
        create_endpoint(client=client, url=f"http://127.0.0.1:9/{n}", event_types=["*"])
    outbox.forget_subscriptions()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE evbench_change (n bigint NOT NULL)")
        cursor.execute("INSERT INTO evbench_change VALUES (0)")
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        for index in args.drop_index:
            cursor.execute(f'DROP INDEX "{index}"')

    def batch(ticket: int) -> list[Event]:
        return [
            Event("ticket.assigned", {"ticket_id": ticket, "status": "assigned", "agent_id": 7, "step": i}, ticket)
            for i in range(args.events)
        ]

    def write(n: int, *, events: bool, start: int) -> None:
        for t in range(start, start + n):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # The transaction's own change (routing's, in real life): both kinds commit a write.
                    cursor.execute("UPDATE evbench_change SET n = n + 1")
                if events:
                    outbox.record_events(batch(t))

    def fan_out_all() -> int:
        total = 0
        while (done := fan_out_batch()) and done.events:
            total += done.events
        return total

    ticket = 1
    if args.preload:
        write(args.preload // args.events, events=True, start=ticket)
        ticket += args.preload // args.events
        fan_out_all()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE webhooks_webhookevent")
    write_ns, fan_ns = [], []
    for run in range(args.runs):
        spent = {True: 0, False: 0}
        for _ in range(args.transactions // BLOCK):
            for events in (False, True):
                before = backend_ns(pid)
                write(BLOCK, events=events, start=ticket)
                spent[events] += backend_ns(pid) - before
                ticket += BLOCK
        per_event = (spent[True] - spent[False]) / args.transactions / args.events
        before = backend_ns(pid)
        fanned = fan_out_all()
        fan_per_event = (backend_ns(pid) - before) / max(fanned, 1)
        write_ns.append(per_event)
        fan_ns.append(fan_per_event)
        print(
            f"run {run + 1}: {per_event / 1000:.1f} µs backend CPU per event written, "
            f"{fan_per_event / 1000:.1f} µs per event fanned out ({fanned} events, 5 endpoints); "
            f"table {WebhookEvent.objects.count()} rows",
            flush=True,
        )
        time.sleep(0.2)
    print(
        f"median of {args.runs}: {statistics.median(write_ns) / 1000:.1f} µs per event written "
        f"({statistics.median(write_ns) * args.events / 1000:.1f} µs per transaction of {args.events}), "
        f"{statistics.median(fan_ns) / 1000:.1f} µs per event fanned out"
    )


if __name__ == "__main__":
    main()
