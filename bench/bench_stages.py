#!/usr/bin/env python
"""Where a ticket's CPU goes: intake, routing and assignment measured one stage at a time.

    .venv/bin/python bench/bench_stages.py --tickets 600 --batch 20

On a scratch PostgreSQL database (<name>_stages) with 50 free agents and Redis as broker and
channel layer, in one process and without HTTP or Celery around them, it runs N inquiries
through the intake API view (Django's test client), then routes them in batches of --batch
(routing.route_new_tickets; under load the batch is whatever arrived since the last run), then
serves every queue's line (routing.dispatch_queue), and prints per stage and per ticket: median
wall and CPU time and SQL queries. Their sum is a floor on the CPU one ticket costs the web
and worker processes (PostgreSQL, Redis and Celery's own hand-offs come on top); bench_routing.py
measures the whole path. Publishing to Celery is real (the queues are purged afterwards).
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_routing import ROOT, inquiry_payload, prepare_database


def measure(label: str, items: list, step: Callable[[object], object]) -> dict[str, float | str]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    walls, cpus, queries = [], [], []
    for item in items:
        reset_queries()  # the captured-query log is bounded (9,000): start each item empty
        with CaptureQueriesContext(connection) as captured:
            wall, cpu = time.perf_counter(), time.process_time()
            step(item)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        queries.append(len(captured.captured_queries))
    return {
        "stage": label,
        "wall_p50_ms": round(statistics.median(walls), 2),
        "cpu_p50_ms": round(statistics.median(cpus), 2),
        "cpu_mean_ms": round(statistics.fmean(cpus), 2),
        "queries": round(statistics.fmean(queries), 1),
    }


def per_ticket(stage: dict[str, float | str], tickets: int) -> dict[str, float | str]:
    """A stage measured per batch, restated per ticket."""
    return {k: (round(v / tickets, 2) if isinstance(v, float) and k != "stage" else v) for k, v in stage.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=600)
    parser.add_argument("--batch", type=int, default=20, help="tickets per routing batch (load sets it live)")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "stages.json"))
    parser.add_argument(
        "--webhook-endpoints", type=int, default=0, help="webhook endpoints subscribed to every event (outbox cost)"
    )
    args = parser.parse_args()

    _, redis_url, env, token = prepare_database("stages")
    os.environ.update(env)
    os.environ["ALLOWED_HOSTS"] += ",testserver"  # Django's test client
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxconsole.settings")
    import django

    django.setup()
    import redis
    from django.test import Client

    from routing import services
    from teams.models import SpecialistQueue
    from tickets.models import Ticket, TicketStatus

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    if args.webhook_endpoints:
        from django.contrib.auth.models import User

        from webhooks.services import create_endpoint

        storefront = User.objects.get(username="bench-storefront")  # made by prepare_database
        for n in range(args.webhook_endpoints):
            create_endpoint(client=storefront, url=f"http://127.0.0.1:9/hooks/{n}", event_types=["*"])

    def intake(i: object) -> None:
        body = inquiry_payload(int(i), handoff=False)  # type: ignore[call-overload]
        response = client.post("/api/v1/inquiries/", body, content_type="application/json", **headers)
        assert response.status_code == 201, response.content

    # Warm-up: model loading, caches, connections.
    for i in range(30):
        intake(i)
    services.drain_new_tickets()
    for queue_id in SpecialistQueue.objects.values_list("id", flat=True):
        services.dispatch_queue(queue_id=queue_id)

    stages = [measure("intake (API view)", list(range(1000, 1000 + args.tickets)), intake)]
    ids = list(Ticket.objects.filter(status=TicketStatus.NEW).values_list("id", flat=True))
    batches = [args.batch] * (len(ids) // args.batch)
    route = measure(f"route, batches of {args.batch}", batches, lambda b: services.route_new_tickets(batch_size=b))
    stages.append(per_ticket(route, args.batch))
    queues = list(
        Ticket.objects.filter(id__in=ids, status=TicketStatus.QUEUED)
        .values_list("queue_id", flat=True)
        .order_by()
        .distinct()
    )
    waiting = Ticket.objects.filter(id__in=ids, status=TicketStatus.QUEUED).count()
    dispatch = measure("dispatch, every queue", [queues], lambda q: [services.dispatch_queue(queue_id=i) for i in q])
    stages.append(per_ticket(dispatch, waiting))
    assert Ticket.objects.filter(id__in=ids, first_assigned_at__isnull=False).count() == len(ids)
    redis.Redis.from_url(redis_url).flushdb()

    total = sum(float(s["cpu_mean_ms"]) for s in stages)
    print(f"\n{'stage':<34}{'wall p50':>10}{'cpu p50':>10}{'cpu mean':>10}{'queries':>9}")
    for s in stages:
        print(f"{s['stage']:<34}{s['wall_p50_ms']:>10}{s['cpu_p50_ms']:>10}{s['cpu_mean_ms']:>10}{s['queries']:>9}")
    print(f"{'sum (ms CPU per ticket)':<34}{'':>10}{'':>10}{total:>10.2f}")
    print(f"ceiling on 2 cores from these stages alone: {2000 / total:.0f} tickets/s")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(
        json.dumps(
            {"stages": stages, "cpu_ms_per_ticket": round(total, 2), "webhook_endpoints": args.webhook_endpoints},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
