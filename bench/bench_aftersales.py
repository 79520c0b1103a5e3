#!/usr/bin/env python
"""After-sales benchmark: automatic decisions per second through the API, and the time from an
in-policy request to "executing", with routing running — on PostgreSQL, Redis and real processes.

    .venv/bin/python bench/bench_aftersales.py --requests 2000 --concurrency 16

Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL). It creates a scratch database
<name>_aftersales (migrated, 50 online agents, a storefront client), starts the reference order
service with --requests synthetic fresh-food orders (`serve_orders --bench-orders`), gunicorn
(2 sync workers), and the production layout's Celery workers: one on every routing queue (intake,
assignment, sweeps) and one of its own on `aftersales` (execution never waits behind routing), then:
  1. floor: the same load generator on /bench/row (a view committing one row), same concurrency,
     with the same background intake as the claims;
  2. claims: --requests fresh-guarantee claims ("half the cherries are rotten", a photo already on
     the inquiry, 134.00 of 268.00, delivered hours ago: within policy), one per inquiry, through
     POST /api/v1/inquiries/{id}/aftersales/, while inquiries arrive at --intake-rate per second
     (classified, routed and assigned by the worker);
  3. every claim's time from the moment the client sent it to its "executing" decision.
It prints a table (with the load average and the floor of the same run) and writes
bench/results/aftersales.json. Every server binds to 127.0.0.1.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_routing import PY, ROOT, one_row, percentile, prepare_database, run

SEED = """
import io
from datetime import timedelta
from django.utils import timezone
from PIL import Image
from teams.models import SpecialistQueue
from tickets.models import Shopper, Ticket, Message, AuthorKind
from tickets.attachments import NamedBytes, prepare_images, store_images
count = {count}
year_ago = timezone.now() - timedelta(days=365)
shoppers = Shopper.objects.bulk_create(
    [Shopper(external_id=f"bench-shopper-{{n:06d}}", language="zh", created_at=year_ago) for n in range(1, count + 1)]
)
fresh = SpecialistQueue.objects.get(slug="fresh_food")
tickets = Ticket.objects.bulk_create(
    [Ticket(shopper=s, channel="order_page", body="车厘子收到一半都烂了", language="zh", status="queued", queue=fresh,
            queued_at=timezone.now(), order_number=f"BENCH{{n:06d}}", order_product_category="fresh_food")
     for n, s in enumerate(shoppers, start=1)]
)
out = io.BytesIO(); Image.new("RGB", (64, 48), "#c0392b").save(out, "JPEG")
image = prepare_images([NamedBytes("rot.jpg", out.getvalue())])
rows = []
for t in tickets:
    m = Message.objects.create(ticket=t, author_kind=AuthorKind.SHOPPER, body="烂了")
    a = store_images(message=m, images=image)[0]
    rows.append(f"{{t.id}},{{t.tracking_token}},{{a.id}}")
print("\\n".join(rows))
"""


def load(
    base: str, jobs: list[tuple[str, dict | None]], concurrency: int
) -> tuple[float, list[tuple[float, int, dict]]]:
    """POST every (path, body) with `concurrency` threads, each with a kept-alive client.
    Returns the elapsed seconds and (sent at, status, answer) per job, in job order."""
    results: list[tuple[float, int, dict] | None] = [None] * len(jobs)
    cursor = iter(range(len(jobs)))
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while True:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return
                path, body = jobs[index]
                sent = time.time()
                response = client.post(path, json=body) if body is not None else client.post(path)
                try:
                    answer = response.json()
                except ValueError:
                    answer = {}
                results[index] = (sent, response.status_code, answer)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, [r for r in results if r is not None]


def cpu_seconds_of_this_run(roots: list[int], database: str) -> dict[str, float]:
    """CPU seconds (user + system) so far of this run's own processes, by role: the servers it
    started and their children, and PostgreSQL's backends for its database. The host is shared,
    so other people's gunicorn, Celery and PostgreSQL work is not counted."""
    ticks = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    stats: dict[int, tuple[str, float]] = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parent[int(name)] = int(fields[1])
        stats[int(name)] = (cmdline, (int(fields[11]) + int(fields[12])) / ticks)
    roles = {
        "gunicorn": "web (gunicorn)",
        "benchaftersales@": "Celery: aftersales worker",
        "benchrouting@": "Celery: routing worker",
        "serve_orders": "order service",
    }
    used: dict[str, float] = {}
    for pid, (cmdline, seconds) in stats.items():
        ancestor: int = pid
        role: str | None = None
        while ancestor > 1 and role is None:
            if ancestor in roots:
                role = next((name for key, name in roles.items() if key in cmdline), None)
            ancestor = parent.get(ancestor, 0)
        if role is None and cmdline.startswith("postgres:") and f" {database} " in cmdline:
            role = "PostgreSQL (this database)"
        if pid == os.getpid():
            role = "load generator"
        if role:
            used[role] = used.get(role, 0.0) + seconds
    return used


def intake_background(base: str, token: str, rate: float, stop: threading.Event, sent: list[int]) -> None:
    """Inquiries at a fixed rate, so routing and assignment work while the claims come in."""
    texts = [
        "戒指尺寸偏大，想换小一号",
        "宝宝用了纸尿裤屁股红了，能退吗",
        "新买的手机屏幕一直闪",
        "The stroller wheel snapped off",
    ]
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Token {token}"}) as client:
        n, start = 0, time.perf_counter()
        while not stop.is_set():
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            client.post(
                "/api/v1/inquiries/",
                json={
                    "shopper": {"external_id": f"bench-intake-{n}"},
                    "channel": "chat",
                    "body": texts[n % len(texts)],
                },
            )
            n += 1
        sent.append(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="claims (one per inquiry and order)")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument("--intake-rate", type=float, default=20, help="inquiries per second meanwhile (routing)")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--celery-workers", type=int, default=2, help="processes of the routing worker")
    parser.add_argument("--aftersales-workers", type=int, default=2, help="processes of the aftersales worker")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--orders-port", type=int, default=8166)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "aftersales.json"))
    args = parser.parse_args()

    bench_db, redis_url, env, token = prepare_database("aftersales")
    env = {
        **env,
        "ORDER_API_URL": f"http://127.0.0.1:{args.orders_port}",
        "ORDER_API_CACHE_SECONDS": "0",
        "ATTACHMENT_THUMBNAIL_SIZE": "64",
        # Every claim comes from one loopback address: the per-address shopper limit would refuse them.
        "SHOPPER_THROTTLE_RATE": "1000000/second",
    }
    print(f"Seeding {args.requests} inquiries with a photo each ...", flush=True)
    seeded = run([PY, "manage.py", "shell", "-v", "0", "-c", SEED.format(count=args.requests)], env).split()
    claims = [line.split(",") for line in seeded]
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
    routing_queues = ",".join(q for q in queues.split(",") if q != "aftersales")
    with psycopg.connect(bench_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_floor_row (id bigserial primary key, created timestamptz)")
    subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=True, capture_output=True)
    logs = Path(tempfile.mkdtemp(prefix="bench-aftersales-"))

    def celery(name: str, queues: str, concurrency: int) -> list[str]:
        return [PY, "-m", "celery", "-A", "cxconsole", "worker", "-Q", queues, "-c", str(concurrency),
                "--without-gossip", "--without-mingle", "-l", "WARNING", "-n", f"{name}@%h"]  # fmt: skip

    def spawn(name: str, cmd: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=(logs / f"{name}.log").open("w"), stderr=subprocess.STDOUT
        )

    procs = [
        spawn(
            "orders",
            [PY, "manage.py", "serve_orders", "--port", str(args.orders_port), "--bench-orders", str(args.requests)],
        ),
        spawn(
            "web",
            [
                PY,
                "-m",
                "gunicorn",
                "cxconsole.wsgi:application",
                "-w",
                str(args.web_workers),
                "-b",
                f"127.0.0.1:{args.port}",
                "--log-level",
                "warning",
            ],
        ),
        spawn("worker-routing", celery("benchrouting", routing_queues, args.celery_workers)),
        spawn("worker-aftersales", celery("benchaftersales", "aftersales", args.aftersales_workers)),
    ]
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(200):
            try:
                if (
                    httpx.get(f"{base}/healthz").status_code == 200
                    and httpx.get(f"http://127.0.0.1:{args.orders_port}/healthz").status_code == 200
                ):
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        # Both workers answer before the floor starts: a worker process reads the classifier as it
        # starts (seconds on a busy host), and claims sent before the aftersales worker is up would
        # measure its start-up as their time to "executing".
        host = socket.gethostname()
        for name in ("benchrouting", "benchaftersales"):
            for _ in range(60):
                ping = [PY, "-m", "celery", "-A", "cxconsole", "inspect", "ping", "-d", f"{name}@{host}", "-t", "2"]
                if subprocess.run(ping, cwd=ROOT, env=env, capture_output=True).returncode == 0:
                    break
            else:
                raise SystemExit(f"The {name} worker did not answer within two minutes (logs: {logs})")

        # The floor runs under the same background intake as the claims: both share the server
        # with routing, so their ratio compares like with like.
        roots = [proc.pid for proc in procs]
        database = bench_db.rsplit("/", 1)[-1]
        load_before = os.getloadavg()
        stop, intake_sent = threading.Event(), list[int]()
        intake = threading.Thread(target=intake_background, args=(base, token, args.intake_rate, stop, intake_sent))
        intake.start()
        print("Floor: POST /bench/row ...", flush=True)
        floor_elapsed, floor = load(base, [("/bench/row", None)] * args.requests, args.concurrency)
        floor_rate = sum(1 for _, status, _ in floor if status == 200) / floor_elapsed

        before = cpu_seconds_of_this_run(roots, database)
        print(
            f"Claims: {args.requests} through the API, {args.concurrency} at a time, intake at {args.intake_rate}/s ...",
            flush=True,
        )
        jobs: list[tuple[str, dict | None]] = [
            (
                f"/api/v1/inquiries/{ticket_id}/aftersales/?token={tracking}",
                {"kind": "fresh_guarantee", "items": [{"item_id": "1", "quantity": 1}], "amount": "134.00",
                 "fresh_problem": "rotten", "reason": "一半都烂了", "photo_ids": [int(photo)]},
            )
            for ticket_id, tracking, photo in claims
        ]  # fmt: skip
        elapsed, answers = load(base, jobs, args.concurrency)
        after = cpu_seconds_of_this_run(roots, database)
        automatic = [(sent, a) for sent, status, a in answers if status == 201 and a.get("automatic")]
        others = [(status, a) for _sent, status, a in answers if not (status == 201 and a.get("automatic"))]
        decisions_per_second = len(automatic) / elapsed

        deadline = time.monotonic() + 120
        with psycopg.connect(bench_db, autocommit=True) as conn:
            while time.monotonic() < deadline:
                waiting = one_row(
                    conn.execute(
                        "SELECT count(*) FROM aftersales_aftersalesrequest WHERE status IN ('auto_approved', 'approved', 'executing')"
                    )
                )[0]
                if not waiting:
                    break
                time.sleep(0.5)
            executing_at: dict[int, float] = dict(
                conn.execute(
                    "SELECT request_id, extract(epoch FROM min(created_at)) FROM aftersales_aftersalesdecision"
                    " WHERE action = 'execute' GROUP BY request_id"
                ).fetchall()
            )
            done = conn.execute("SELECT status, count(*) FROM aftersales_aftersalesrequest GROUP BY status").fetchall()
        stop.set()
        intake.join()
        to_executing = [float(executing_at[a["id"]]) - sent for sent, a in automatic if a["id"] in executing_at]

        result = {
            "load_average_1m": round(os.getloadavg()[0], 2),
            "requests": args.requests,
            "concurrency": args.concurrency,
            "intake_rate": args.intake_rate,
            "inquiries_sent_meanwhile": intake_sent[0] if intake_sent else 0,
            "floor_one_row_per_s": round(floor_rate, 1),
            "automatic_decisions_per_s": round(decisions_per_second, 1),
            "ratio_to_floor": round(decisions_per_second / floor_rate, 3) if floor_rate else None,
            "not_automatic": len(others),
            "examples_not_automatic": [f"{s} {str(a)[:200]}" for s, a in others[:3]],
            "to_executing_p50_s": round(percentile(to_executing, 0.5), 3),
            "to_executing_p95_s": round(percentile(to_executing, 0.95), 3),
            "to_executing_max_s": round(max(to_executing), 3) if to_executing else None,
            "final_statuses": dict(done),
            "cpu_seconds_during_claims": {k: round(after.get(k, 0) - before.get(k, 0), 1) for k in after},
        }
        print(json.dumps(result, indent=2, ensure_ascii=False))
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False))
        rows = [
            ("load average (1, 5, 15 min) at start", " / ".join(f"{x:.2f}" for x in load_before)),
            ("load average (1, 5, 15 min) at end", " / ".join(f"{x:.2f}" for x in os.getloadavg())),
            ("floor: one-row commits through the same web server", f"{floor_rate:.1f}/s"),
            ("automatic decisions through the API (target >= 200/s)", f"{decisions_per_second:.1f}/s"),
            ("  ratio to the floor", f"{result['ratio_to_floor']}"),
            ("claims not decided automatically", str(len(others))),
            ("request -> executing p50", f"{result['to_executing_p50_s']} s"),
            ("request -> executing p95 (target <= 2 s)", f"{result['to_executing_p95_s']} s"),
            ("request -> executing max", f"{result['to_executing_max_s']} s"),
            ("inquiries routed meanwhile", f"{result['inquiries_sent_meanwhile']} at {args.intake_rate}/s"),
            ("final statuses", ", ".join(f"{k} {v}" for k, v in sorted(result["final_statuses"].items()))),
        ]
        width = max(len(label) for label, _ in rows)
        print(f"\nAfter-sales: {args.requests} claims, {args.concurrency} clients, web x{args.web_workers}, "
              f"routing worker x{args.celery_workers}, aftersales worker x{args.aftersales_workers}")  # fmt: skip
        print(f"| {'figure'.ljust(width)} | value |\n| {'-' * width} | --- |")
        for label, value in rows:
            print(f"| {label.ljust(width)} | {value} |")
        print(f"(logs: {logs})")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
