#!/usr/bin/env python
"""Routing benchmark: HTTP intake (gunicorn) -> Celery workers -> assigned, on PostgreSQL and Redis.

    .venv/bin/python bench/bench_routing.py --rate 300 --duration 20

Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaults to the local ones) and wrk.
It creates a scratch database <name>_bench, migrates it, seeds 50 online agents over every
category, starts gunicorn (2 sync workers) and Celery workers, then:
  1. floors: wrk (32 connections) on a bare JSON view and on a view committing one row;
  2. intake capacity: wrk posting inquiries as fast as the server takes them;
  3. end to end: inquiries at a fixed rate; every ticket's created_at -> first_assigned_at;
     a share of them ask for a person (handoff_requested_at -> handoff_assigned_at).
With --webhook-endpoints N, N endpoints subscribe to every event (the outbox is written on the
hot path); with --webhook-worker as well, one webhook worker (queue "webhooks", under nice -n 10,
as production runs them: latency-tolerant, never in routing's way) fans the events out and
delivers them to a local receiver, and the table adds what was delivered and how late.
It prints a table and writes bench/results/routing.json. Every server binds to 127.0.0.1.
"""

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

TEXTS = [
    ("zh", "jewelry", "戒指尺寸偏大，想换小一号"),
    ("zh", "maternal_baby", "宝宝用了纸尿裤屁股红了，能退吗"),
    ("zh", "fresh_food", "车厘子收到一半都烂了"),
    ("zh", "flowers", "送女朋友的玫瑰花束蔫了"),
    ("zh", "beauty", "这款精华液敏感肌能用吗"),
    ("zh", "apparel", "羽绒服尺码偏大，想换小一码"),
    ("zh", "electronics", "新买的手机屏幕一直闪"),
    ("zh", "books", "这本小说缺了二十页"),
    ("zh", "home", "不粘锅用了一周就掉涂层"),
    ("zh", "other", "瑜伽垫味道很大"),
    ("en", "jewelry", "The diamond earrings came without the GIA certificate"),
    ("en", "maternal_baby", "The stroller wheel snapped off on our first walk"),
    ("en", "fresh_food", "half the strawberries were moldy when the box arrived"),
    ("en", "home", "The nonstick skillet handle came loose after a week"),
    ("en", "electronics", "My new laptop won't charge past 80 percent"),
]
HANDOFF_PHRASES = {"zh": "转人工！", "en": "I want to talk to a real person. "}


WORKER_CLASS = {
    "sync": lambda args: [],
    "gthread": lambda args: ["-k", "gthread", "--threads", str(args.web_threads)],
    "asgi": lambda args: ["-k", "uvicorn.workers.UvicornWorker"],
}


def one_row(cursor: psycopg.Cursor[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The row of a query that always returns one (an aggregate)."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the query returned no row")
    return row


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def run(cmd: list[str], env: dict[str, str], **kw: Any) -> str:
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, text=True, **kw).stdout


def wrk(url: str, seconds: int, connections: int, script: str | None = None) -> float:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"   ! {errors.group(1)} non-2xx responses from {url}")
    return float(match.group(1)) if match else 0.0


def prepare_database(suffix: str) -> tuple[str, str, dict[str, str], str]:
    """A fresh scratch database <name>_<suffix>, migrated, with 50 online agents (capacity 5000,
    so agents are always free) and a storefront client. Returns its URL, the Redis URL, the
    environment for child processes and the client's token."""
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cxconsole")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    parsed = urlparse(base_db)
    bench_name = (parsed.path.lstrip("/") or "cxconsole") + f"_{suffix}"
    bench_db = parsed._replace(path=f"/{bench_name}").geturl()
    admin_db = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_db, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{bench_name}"')
    env = {
        **os.environ,
        "DATABASE_URL": bench_db,
        "REDIS_URL": redis_url,
        "INTAKE_THROTTLE_RATE": "1000000/second",
        "BENCH_ENDPOINTS": "1",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Served over plain HTTP on loopback, with a key of this run's own.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
    }
    print(f"Preparing {bench_name} ...", flush=True)
    run([PY, "manage.py", "migrate", "--noinput"], env)
    run([PY, "manage.py", "seed_agents", "--count", "50", "--capacity", "5000", "--prefix", "bench"], env)
    token = run([PY, "manage.py", "create_api_client", "bench-storefront"], env).strip().splitlines()[-1]
    return bench_db, redis_url, env, token


def cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) used so far by this machine's processes, by role."""
    roles = {
        "gunicorn": "web (gunicorn)",
        "celery": "Celery workers",
        "postgres": "PostgreSQL",
        "redis-server": "Redis",
    }
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        role = next((name for key, name in roles.items() if key in cmdline), None)
        if int(pid) == os.getpid():
            role = "load generator"
        if role:
            used[role] = used.get(role, 0.0) + seconds
    return used


def inquiry_payload(i: int, handoff: bool) -> bytes:
    language, category, text = TEXTS[i % len(TEXTS)]
    body = (HANDOFF_PHRASES[language] if handoff else "") + text + f" #{i}"
    payload = {"shopper": {"external_id": f"bench-{i % 5000}"}, "channel": "chat", "body": body, "language": language}
    if i % 2 == 0:
        payload["order"] = {"number": f"B{i}", "product_category": category, "amount": "99.00"}
    return json.dumps(payload, ensure_ascii=False).encode()


async def post(host: str, port: int, path: str, body: bytes, token: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        return await _post(host, port, path, body, token, started)
    except OSError:
        return 0, (time.perf_counter() - started) * 1000


async def _post(host: str, port: int, path: str, body: bytes, token: str, started: float) -> tuple[int, float]:
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Authorization: Token {token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    writer.write(head + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data.split(b" ", 2)[1]) if data else 0
    return status, (time.perf_counter() - started) * 1000


async def fixed_rate(
    host: str, port: int, token: str, rate: float, duration: float, handoff_share: float
) -> dict[str, object]:
    total = int(rate * duration)
    rng = random.Random(20261125)
    start = time.perf_counter()
    tasks = []
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(
            asyncio.create_task(
                post(host, port, "/api/v1/inquiries/", inquiry_payload(i, rng.random() < handoff_share), token)
            )
        )
    results = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    ok = [ms for status, ms in results if status == 201]
    return {
        "offered": total,
        "accepted": len(ok),
        "send_seconds": round(elapsed, 2),
        "http_p50_ms": round(percentile(ok, 0.5), 1),
        "http_p99_ms": round(percentile(ok, 0.99), 1),
        "errors": total - len(ok),
    }


# N endpoints subscribed to every event type (called only when a webhook worker is started).
SUBSCRIBE_ENDPOINTS = """
from django.contrib.auth.models import User
from webhooks.services import create_endpoint
client = User.objects.get(username="bench-storefront")
for n in range({count}):
    create_endpoint(client=client, url=f"{base}/hooks/{{n}}", event_types=["*"])
"""

# What the webhook worker did for the end-to-end phase's tickets.
WEBHOOK_FIGURES = """
SELECT count(*) FILTER (WHERE d.status = 'delivered'), count(*),
    (SELECT count(*) FROM webhooks_webhookevent WHERE fanned_out_at IS NULL AND ticket_id > %(mark)s),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.delivered_at - e.created_at) * 1000),
    percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM d.delivered_at - e.created_at) * 1000)
FROM webhooks_webhookdelivery AS d JOIN webhooks_webhookevent AS e ON e.seq = d.event_id
WHERE d.ticket_id > %(mark)s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=300, help="inquiries per second, end to end phase")
    parser.add_argument("--duration", type=float, default=20, help="seconds of the end-to-end phase")
    parser.add_argument("--floor-seconds", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--server",
        default="sync",
        choices=["sync", "gthread", "asgi"],
        help="gunicorn worker class: sync (WSGI), gthread (WSGI, --web-threads threads per worker) or"
        " asgi (uvicorn workers, the ASGI entry point the console's websockets need)",
    )
    parser.add_argument("--web-threads", type=int, default=4, help="threads per worker with --server gthread")
    parser.add_argument("--celery-workers", type=int, default=2, help="worker processes (prefork pool size)")
    parser.add_argument(
        "--pool",
        default="prefork",
        choices=["prefork", "threads", "solo"],
        help="Celery pool; solo starts --celery-workers separate single-process workers",
    )
    parser.add_argument("--handoff-share", type=float, default=0.1)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "routing.json"))
    parser.add_argument(
        "--webhook-endpoints",
        type=int,
        default=0,
        help="subscribe this many webhook endpoints to every event: the outbox is written on routing's "
        "hot path; delivery (queue 'webhooks') is left to webhook workers (see --webhook-worker)",
    )
    parser.add_argument(
        "--webhook-worker",
        action="store_true",
        help="with --webhook-endpoints: start one webhook worker (nice -n 10) and a local receiver",
    )
    parser.add_argument("--webhook-pool", type=int, default=2, help="prefork pool size of that webhook worker")
    parser.add_argument("--receiver-port", type=int, default=0, help="the receiver's port (default: --port + 1)")
    args = parser.parse_args()
    if args.webhook_worker and not args.webhook_endpoints:
        parser.error("--webhook-worker needs --webhook-endpoints")
    receiver_port = args.receiver_port or args.port + 1

    bench_db, redis_url, env, token = prepare_database("bench")
    if args.webhook_endpoints:
        base = f"http://127.0.0.1:{receiver_port}" if args.webhook_worker else "http://127.0.0.1:9"
        setup = SUBSCRIBE_ENDPOINTS.format(count=args.webhook_endpoints, base=base)
        run([PY, "manage.py", "shell", "-v", "0", "-c", setup], env)
    queues = run(
        [
            PY,
            "manage.py",
            "shell",
            "-v",
            "0",
            "-c",
            "from routing.selectors import celery_queue_names; print(','.join(celery_queue_names()))",
        ],
        env,
    ).strip()
    queues = ",".join(q for q in queues.split(",") if q != "webhooks")  # routing's workers only
    with psycopg.connect(bench_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_floor_row (id bigserial primary key, created timestamptz)")
    subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=True, capture_output=True)

    logs = Path(tempfile.mkdtemp(prefix="bench-routing-"))
    procs = [
        subprocess.Popen(
            [
                PY,
                "-m",
                "gunicorn",
                "cxconsole.asgi:application" if args.server == "asgi" else "cxconsole.wsgi:application",
                "-w",
                str(args.web_workers),
                *WORKER_CLASS[args.server](args),
                "-b",
                f"127.0.0.1:{args.port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=(logs / "web.log").open("w"),
            stderr=subprocess.STDOUT,
        ),
    ]

    if args.webhook_worker:
        procs.append(
            subprocess.Popen(
                [PY, str(ROOT / "bench" / "bench_webhooks.py"), "--serve-receiver", str(logs / "receiver.json"),
                 "--port", str(receiver_port)],
                cwd=ROOT, env=env, stdout=(logs / "receiver.log").open("w"), stderr=subprocess.STDOUT,
            )
        )  # fmt: skip

    def start_workers() -> None:
        if args.webhook_worker:
            procs.append(
                subprocess.Popen(
                    ["nice", "-n", "10", PY, "-m", "celery", "-A", "cxconsole", "worker", "-Q", "webhooks",
                     "-c", str(args.webhook_pool), "-P", "prefork", "--without-gossip", "--without-mingle",
                     "-l", "WARNING", "-n", "benchwebhooks@%h"],
                    cwd=ROOT, env=env, stdout=(logs / "webhooks.log").open("w"), stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        # prefork/threads: one worker with a pool of N; solo: N workers of one process each (no
        # parent-child hand-off per task).
        solo = args.pool == "solo"
        for n in range(args.celery_workers if solo else 1):
            procs.append(
                subprocess.Popen(
                    [
                        PY,
                        "-m",
                        "celery",
                        "-A",
                        "cxconsole",
                        "worker",
                        "-Q",
                        queues,
                        "-c",
                        "1" if solo else str(args.celery_workers),
                        "-P",
                        args.pool,
                        "--without-gossip",
                        "--without-mingle",
                        "-l",
                        "WARNING",
                        "-n",
                        f"bench{n}@%h",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=(logs / f"worker{n}.log").open("w"),
                    stderr=subprocess.STDOUT,
                )
            )

    try:
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(100):
            try:
                subprocess.run(["curl", "-sf", f"{base}/healthz"], check=True, capture_output=True)
                break
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        print("Measuring floors and intake capacity with wrk (32 connections, workers not yet started) ...", flush=True)
        bare = wrk(f"{base}/bench/bare", args.floor_seconds, 32)
        row = wrk(f"{base}/bench/row", args.floor_seconds, 32)
        script = logs / "intake.lua"
        # Varied inquiries (200 shoppers, every text, half with an order), as a storefront sends them:
        # one body every time would make each request update the same shopper row.
        bodies = ",\n".join(f"[==[{inquiry_payload(i, False).decode()}]==]" for i in range(200))
        script.write_text(
            f"local bodies = {{\n{bodies}\n}}\nlocal n = 0\n"
            f'local headers = {{["Content-Type"] = "application/json", ["Authorization"] = "Token {token}"}}\n'
            "request = function()\n  n = n + 1\n"
            '  return wrk.format("POST", nil, headers, bodies[(n % #bodies) + 1])\nend\n'
        )
        intake = wrk(f"{base}/api/v1/inquiries/", args.floor_seconds, 32, str(script))
        start_workers()
        # Let the workers drain what the capacity run queued before the timed phase.
        with psycopg.connect(bench_db, autocommit=True) as conn:
            for _ in range(600):
                (left,) = one_row(conn.execute("SELECT count(*) FROM tickets_ticket WHERE first_assigned_at IS NULL"))
                if left == 0:
                    break
                time.sleep(0.5)
            (mark,) = one_row(conn.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket"))

        print(f"End to end: {args.rate:g} inquiries/s for {args.duration:g} s ...", flush=True)
        cpu_before, cpu_started = cpu_seconds(), time.monotonic()
        sent = asyncio.run(fixed_rate("127.0.0.1", args.port, token, args.rate, args.duration, args.handoff_share))
        with psycopg.connect(bench_db, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                (left,) = one_row(
                    conn.execute(
                        "SELECT count(*) FROM tickets_ticket WHERE id > %s AND first_assigned_at IS NULL", [mark]
                    )
                )
                if left == 0:
                    break
                time.sleep(0.25)
            cpu_after, cpu_elapsed = cpu_seconds(), time.monotonic() - cpu_started
            rows = conn.execute(
                "SELECT extract(epoch FROM first_assigned_at - created_at) * 1000, created_at, first_assigned_at,"
                " extract(epoch FROM handoff_assigned_at - handoff_requested_at) * 1000"
                " FROM tickets_ticket WHERE id > %s",
                [mark],
            ).fetchall()
            webhook_row = one_row(conn.execute(WEBHOOK_FIGURES, {"mark": mark})) if args.webhook_worker else None
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    assigned = [r for r in rows if r[0] is not None]
    latencies = [float(r[0]) for r in assigned]
    handoffs = [float(r[3]) for r in rows if r[3] is not None]
    window = (max(r[2] for r in assigned) - min(r[1] for r in assigned)).total_seconds() if assigned else 0
    figures = {
        "web_workers": args.web_workers,
        "webhook_endpoints": args.webhook_endpoints,
        "web_server": args.server + (f" x {args.web_threads} threads" if args.server == "gthread" else ""),
        "celery_pool": f"{args.pool} x {args.celery_workers}",
        "agents_online": 50,
        "floor_bare_rps": round(bare),
        "floor_one_row_rps": round(row),
        "intake_rps": round(intake),
        "intake_vs_bare": round(intake / bare, 2) if bare else None,
        "intake_vs_one_row": round(intake / row, 2) if row else None,
        "offered_rate": args.rate,
        **sent,
        "tickets": len(rows),
        "assigned": len(assigned),
        "end_to_end_per_second": round(len(assigned) / window, 1) if window else None,
        "intake_to_assigned_p50_ms": round(percentile(latencies, 0.5), 1),
        "intake_to_assigned_p95_ms": round(percentile(latencies, 0.95), 1),
        "intake_to_assigned_p99_ms": round(percentile(latencies, 0.99), 1),
        "handoffs": len(handoffs),
        "handoff_to_assigned_p50_ms": round(percentile(handoffs, 0.5), 1),
        "handoff_to_assigned_p95_ms": round(percentile(handoffs, 0.95), 1),
        "handoff_to_assigned_p99_ms": round(percentile(handoffs, 0.99), 1),
    }
    if webhook_row is not None:
        delivered, made, unfanned, lag_p50, lag_p95 = webhook_row
        figures["webhook_worker"] = f"1 x prefork {args.webhook_pool}, nice 10"
        figures["webhook_deliveries_made"] = made
        figures["webhook_delivered_by_the_end"] = delivered
        figures["webhook_events_not_fanned_out_at_the_end"] = unfanned
        counts = logs / "receiver.json"  # written by the receiver as it stops
        for _ in range(50):
            if counts.exists():
                break
            time.sleep(0.1)
        figures["webhook_receiver_requests_in_the_run"] = (
            json.loads(counts.read_text())["requests"] if counts.exists() else None
        )
        figures["webhook_event_to_delivered_p50_ms"] = round(lag_p50, 1) if lag_p50 is not None else None
        figures["webhook_event_to_delivered_p95_ms"] = round(lag_p95, 1) if lag_p95 is not None else None
    figures["load_average_at_the_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    # CPU per assigned ticket, by role, over the end-to-end phase (sending + draining).
    for role in ("web (gunicorn)", "Celery workers", "PostgreSQL", "Redis", "load generator"):
        spent = cpu_after.get(role, 0.0) - cpu_before.get(role, 0.0)
        key = "cpu_ms_per_ticket_" + role.split()[0].lower()
        figures[key] = round(spent * 1000 / len(assigned), 2) if assigned else None
    figures["cpu_cores_busy"] = round(
        sum(cpu_after.get(r, 0.0) - cpu_before.get(r, 0.0) for r in cpu_after) / cpu_elapsed, 2
    )
    width = max(map(len, figures))
    print()
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(figures, indent=2))
    print(f"\nWritten to {args.json}; server logs in {logs}")


if __name__ == "__main__":
    main()
