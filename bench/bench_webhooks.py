#!/usr/bin/env python
"""Webhook delivery benchmark: outbox -> fan-out and delivery in `celery worker -Q webhooks` -> a local receiver.

    .venv/bin/python bench/bench_webhooks.py --events 6000 --routing-rate 40

Needs PostgreSQL, Redis (DATABASE_URL / REDIS_URL) and nothing else. In a scratch database
<name>_whbench it subscribes endpoints to every event, writes --events events through
core.events (the subscriber's own path; tickets spread over --tickets, so the per-ticket order
is in play), then starts the webhook workers and, alongside, a routing worker fed with inquiries
at --routing-rate per second (their events are delivered too). The receiver is a small asyncio
HTTP/1.1 server on 127.0.0.1 (keep-alive) that answers 200 and counts event ids. Prints
deliveries per second (from the first event's fan-out to the last delivery, from the database:
the fan-out that turns each event into its endpoints' rows is part of the work measured) and the
CPU spent per delivery by role (only this run's own processes and its database's PostgreSQL
backends: the machine may be shared). The clock starts at the first fan-out (workers boot slowly
on a loaded host). A
floor from the same run: bare signed-size POSTs to the same receiver from one process with the
same client and concurrency, no database. Every server binds to 127.0.0.1; everything stops by
itself.
"""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_routing import PY, ROOT, one_row, prepare_database, run


def _descendants(pids: list[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    seen: set[int] = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo.extend(children.get(pid, []))
    return seen


def _cpu(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu(roles: dict[str, list[int]], conn: "psycopg.Connection[tuple]", database: str) -> dict[str, float]:
    """CPU seconds so far of this run's processes by role (with their children), and of the
    PostgreSQL backends serving its database."""
    used = {role: sum(_cpu(pid) for pid in _descendants(pids)) for role, pids in roles.items()}
    backends = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]).fetchall()
    used["PostgreSQL (this database)"] = sum(_cpu(pid) for (pid,) in backends)
    return used


FLOOR = """
import concurrent.futures, time, httpx
body = b"x" * 300  # about an envelope's size; the receiver does not parse it
client = httpx.Client(limits=httpx.Limits(max_keepalive_connections=50))
def post(i):
    client.post("http://127.0.0.1:{port}/floor", content=body,
                headers={{"X-Floor": str(i), "Content-Type": "application/json"}})
n = {n}
with concurrent.futures.ThreadPoolExecutor({threads}) as pool:
    list(pool.map(post, range(50)))
    started = time.perf_counter()
    list(pool.map(post, range(n)))
print(round(n / (time.perf_counter() - started), 1))
"""

SETUP = """
import random
from django.contrib.auth.models import User
from core.events import Event, emit_many
from django.db import transaction
from webhooks.services import create_endpoint
client = User.objects.get(username="bench-storefront")
for n in range({endpoints}):
    create_endpoint(client=client, url="http://127.0.0.1:{port}/hooks/" + str(n), event_types=["*"])
from webhooks.outbox import forget_subscriptions
forget_subscriptions()
types = ["ticket.created", "ticket.classified", "ticket.queued", "ticket.assigned"]
for start in range(0, {events}, 100):
    with transaction.atomic():
        emit_many([
            Event(types[i % 4], {{"ticket_id": i % {tickets}, "status": "queued", "queue": "jewelry",
                  "agent_id": None, "priority": 0}}, ticket_id=i % {tickets})
            for i in range(start, min(start + 100, {events}))
        ])
"""

FEED = """
import time
from tickets.services import ShopperDetails, open_ticket
deadline = time.monotonic() + {seconds}
n = 0
while time.monotonic() < deadline:
    started = time.monotonic()
    open_ticket(shopper=ShopperDetails(external_id="feed-%d" % (n % 200)), channel="chat",
                body="戒指尺寸偏大，想换小一号", language="zh")
    n += 1
    time.sleep(max(0.0, 1.0 / {rate} - (time.monotonic() - started)))
print(n)
"""


async def _serve(port: int, out: Path) -> None:
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    lowered = name.strip().lower()
                    if lowered == b"content-length":
                        length = int(value)
                    elif lowered == b"x-cx-event-id":
                        seen.append(value.strip().decode())
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()
    out.write_text(json.dumps({"requests": len(seen), "unique": len(set(seen))}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=6000, help="events written before the workers start")
    parser.add_argument("--tickets", type=int, default=1500, help="tickets those events are spread over")
    parser.add_argument("--endpoints", type=int, default=1)
    parser.add_argument("--webhook-workers", type=int, default=2, help="prefork pool size of the webhook worker")
    parser.add_argument("--routing-rate", type=float, default=40, help="inquiries/s opened alongside (0: none)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds after the first delivery")
    parser.add_argument("--boot-timeout", type=float, default=300, help="seconds for the workers to start")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="WEBHOOK_CONCURRENCY of the webhook worker (and the floor)"
    )
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--serve-receiver", type=str, default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_receiver:
        asyncio.run(_serve(args.port, Path(args.serve_receiver)))
        return

    bench_db, redis_url, env, _token = prepare_database("whbench")
    env["WEBHOOK_CONCURRENCY"] = str(args.concurrency)
    bench_name = bench_db.rsplit("/", 1)[-1]
    subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=True, capture_output=True)
    logs = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    counts = logs / "receiver.json"
    procs = [
        subprocess.Popen(
            [PY, __file__, "--serve-receiver", str(counts), "--port", str(args.port)],
            stdout=(logs / "receiver.log").open("w"),
            stderr=subprocess.STDOUT,
        )
    ]
    print(f"Writing {args.events} events for {args.endpoints} endpoint(s) ...", flush=True)
    setup = SETUP.format(endpoints=args.endpoints, port=args.port, events=args.events, tickets=args.tickets)
    run([PY, "manage.py", "shell", "-v", "0", "-c", setup], env)
    with psycopg.connect(bench_db, autocommit=True) as conn:
        (setup_last,) = one_row(conn.execute("SELECT max(seq) FROM webhooks_webhookevent"))
    expected = args.events * args.endpoints  # every endpoint subscribes to every event

    def worker(name: str, queues: str, concurrency: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [PY, "-m", "celery", "-A", "cxconsole", "worker", "-Q", queues, "-c", str(concurrency), "-P", "prefork",
             "--without-gossip", "--without-mingle", "-l", "WARNING", "-n", f"{name}@%h"],
            cwd=ROOT, env=env, stdout=(logs / f"{name}.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    try:
        if args.routing_rate:
            procs.append(worker("routing", "intake,default,assign.jewelry,assign.triage", 1))
            procs.append(
                subprocess.Popen(
                    [
                        PY,
                        "manage.py",
                        "shell",
                        "-v",
                        "0",
                        "-c",
                        FEED.format(seconds=args.timeout + 600, rate=args.routing_rate),
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=(logs / "feed.log").open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
        time.sleep(1)
        with psycopg.connect(bench_db, autocommit=True) as conn:
            roles: dict[str, list[int]] = {
                "webhook worker": [],
                "routing worker + feed": [p.pid for p in procs[1:]],
                "receiver": [procs[0].pid],
            }
            webhooks = worker("webhooks", "webhooks", args.webhook_workers)
            procs.append(webhooks)
            roles["webhook worker"] = [webhooks.pid]
            cpu_before = own_cpu(roles, conn, bench_name)
            booted = time.monotonic()
            started = None
            while True:
                (done,) = one_row(
                    conn.execute(
                        "SELECT count(*) FROM webhooks_webhookdelivery AS d"
                        " JOIN webhooks_webhookevent AS e ON e.seq = d.event_id"
                        " WHERE d.status = 'delivered' AND e.seq <= %s",
                        [setup_last],
                    )
                )
                if done >= expected:
                    break
                if started is None and done:
                    started = time.monotonic()  # the first delivery: the workers are up
                if started is None and time.monotonic() - booted > args.boot_timeout:
                    raise SystemExit("The webhook worker delivered nothing: see its log in " + str(logs))
                if started is not None and time.monotonic() - started > args.timeout:
                    break
                time.sleep(0.25)
            cpu_after = own_cpu(roles, conn, bench_name)
            first, last, delivered, attempts = one_row(
                conn.execute(
                    "SELECT (SELECT min(fanned_out_at) FROM webhooks_webhookevent), max(delivered_at), count(*),"
                    " (SELECT count(*) FROM webhooks_webhookattempt)"
                    " FROM webhooks_webhookdelivery WHERE status = 'delivered'"
                )
            )
            (assigned,) = one_row(conn.execute("SELECT count(*) FROM tickets_ticket WHERE status = 'assigned'"))
        floor = (
            run([PY, "-c", FLOOR.format(port=args.port, n=3000, threads=args.concurrency)], env)
            .strip()
            .splitlines()[-1]
        )
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    seconds = (last - first).total_seconds() if first and last else float("nan")
    received = json.loads(counts.read_text()) if counts.exists() else {}
    used = {role: cpu_after[role] - cpu_before.get(role, 0.0) for role in cpu_after}
    rate = round(delivered / seconds, 1) if seconds else None
    figures = {
        "events": args.events,
        "endpoints": args.endpoints,
        "webhook_workers": args.webhook_workers,
        "concurrency": args.concurrency,
        "routing_rate": args.routing_rate,
        "delivered": delivered,
        "attempts": attempts,
        "delivery_seconds": round(seconds, 2),
        "deliveries_per_second": rate,
        "floor_bare_posts_per_second": float(floor),
        "receiver_requests": received.get("requests"),
        "receiver_unique_ids": received.get("unique"),
        "tickets_assigned_alongside": assigned,
        "cpu_ms_per_delivery": {role: round(1000 * s / max(delivered, 1), 3) for role, s in sorted(used.items())},
        "load_average": os.getloadavg(),
    }
    out = ROOT / "bench" / "results" / "webhooks.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, default=str))
    print(f"\n{'measure':<52}{'value':>12}")
    print(f"{'deliveries/s (first fan-out to last delivery)':<52}{rate!s:>12}")
    print(f"{'floor: bare POSTs/s, same receiver, no database':<52}{float(floor):>12}")
    counted = f"{delivered}/{attempts}/{received.get('requests')}"
    print(f"{'delivered / attempts / receiver requests':<52}{counted:>12}")
    print(f"{'tickets assigned alongside (routing at ' + str(args.routing_rate) + '/s)':<52}{assigned:>12}")
    for role, ms in figures["cpu_ms_per_delivery"].items():
        print(f"{'CPU ms per delivery, ' + role:<52}{ms:>12}")
    print(f"{'load average (1, 5, 15 min) at the end':<52}{' '.join(f'{x:.1f}' for x in os.getloadavg()):>12}")
    print(f"Logs in {logs}; figures in {out}")


if __name__ == "__main__":
    main()
