"""Latency of GET /api/v1/queues/health/ on the current database, cold and warm.

    manage.py bench_queue_health --requests 200 [--explain]

Requests go through Django's test client, in this process: the whole request path (middleware,
DRF, token/session auth, the view, JSON rendering) without a network hop. "Cold" deletes the
cached payload before every request, so each one computes every figure from the database;
"warm" is what wallboards get within QUEUE_HEALTH_CACHE_SECONDS. SQL queries per request are
counted with Django's query capture.
"""

import statistics
import time
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from supervision.selectors import HEALTH_CACHE_KEY, _ticket_figures, day_start
from teams.models import SpecialistQueue
from teams.services import SUPERVISORS_GROUP, ensure_roles
from tickets.models import Ticket

BENCH_USER = "bench-health-supervisor"
URL = "/api/v1/queues/health/"


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted samples."""
    ordered = sorted(samples)
    rank = max(1, round(share * len(ordered) + 0.5)) - 1
    return ordered[min(rank, len(ordered) - 1)]


class Command(BaseCommand):
    help = "Measure the queue health API: p50/p95/p99, cold (cache bypassed) and warm, and SQL per request."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=200)
        parser.add_argument("--warmup", type=int, default=5)
        parser.add_argument("--explain", action="store_true", help="Print EXPLAIN ANALYZE of the ticket query.")

    def handle(self, *args: Any, **options: Any) -> None:
        requests = options["requests"]
        if requests < 1:
            raise CommandError("--requests must be at least 1.")
        user, _ = User.objects.get_or_create(username=BENCH_USER)
        user.groups.add(ensure_roles()[SUPERVISORS_GROUP])
        client = Client()
        client.force_login(user)
        self.stdout.write(
            f"database: {connection.vendor} {connection.settings_dict.get('NAME')} — "
            f"{Ticket.objects.count():,} tickets, {SpecialistQueue.objects.count()} queues"
        )
        for _ in range(options["warmup"]):
            cache.delete(HEALTH_CACHE_KEY)
            self._get(client)

        for label, cold in (("cold (cache bypassed)", True), ("warm (cached)", False)):
            timings: list[float] = []
            queries: list[int] = []
            size = 0
            for _ in range(requests):
                if cold:
                    cache.delete(HEALTH_CACHE_KEY)
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    size = len(self._get(client))
                    timings.append((time.perf_counter() - started) * 1000)
                queries.append(len(captured))
            self.stdout.write(
                f"{label:<22} n={requests}  p50 {percentile(timings, 0.50):7.2f} ms  "
                f"p95 {percentile(timings, 0.95):7.2f} ms  p99 {percentile(timings, 0.99):7.2f} ms  "
                f"mean {statistics.fmean(timings):7.2f} ms  "
                f"SQL queries per request: {min(queries)}–{max(queries)} (median {statistics.median(queries):g})  "
                f"response {size / 1024:.0f} KiB"
            )
        if options["explain"]:
            self._explain()

    def _get(self, client: Client) -> bytes:
        response = client.get(URL)
        if response.status_code != 200:
            raise CommandError(f"GET {URL} answered {response.status_code}: {response.content[:200]!r}")
        return response.content

    def _explain(self) -> None:
        """The plan of the one query that reads tickets (the others read queues and agents)."""
        now = timezone.now()
        queues = list(SpecialistQueue.objects.all())
        with CaptureQueriesContext(connection) as captured:
            _ticket_figures(queues=queues, now=now, today=day_start(now))
        sql = captured.captured_queries[-1]["sql"]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            self.stdout.write("\n".join(row[0] for row in cursor.fetchall()))
