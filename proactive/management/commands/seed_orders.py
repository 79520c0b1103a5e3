"""Seed in-flight orders for the rules-sweep benchmark.

    manage.py seed_orders --orders 1000000 --anomalies 1000

On PostgreSQL the rows are made by the database itself (one INSERT … SELECT over generate_series
per chunk), so a million orders take seconds, not minutes; elsewhere (SQLite) bulk_create, up to
SQLITE_LIMIT. The orders belong to one storefront client ("seed-storefront"), spread over the
categories, most in transit and moving, some placed or paid, some delivered, all within every
rule's thresholds — except --anomalies of them, spread evenly over stalled, late, failed and
cold-chain. Never run it on a database you care about: it adds rows, it never deletes any.
"""

import time
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from proactive.models import OrderState, TrackedOrder
from teams.services import STOREFRONT_GROUP, ensure_roles

SQLITE_LIMIT = 20_000
CHUNK = 100_000
CATEGORIES = [
    "apparel",
    "beauty",
    "electronics",
    "home",
    "fresh_food",
    "maternal_baby",
    "books",
    "jewelry",
    "flowers",
    "other",
]

# One chunk of orders [start, stop), made by PostgreSQL. Every row is inside the rules'
# thresholds unless i < %(anomalies)s: then i % 4 picks stalled, late, failed or cold chain.
_SEED = """
INSERT INTO proactive_trackedorder (
    client_id, order_number, shopper_external_id, shopper_name, shopper_phone, shopper_email, shopper_language,
    category_slug, product_title, amount, shipping_fee, currency, carrier, tracking_number, promised_at,
    state, state_at, placed_at, paid_at, shipped_at, moved_at, last_scan_place, last_scan_status,
    delivered_at, failed_at, failure_reason, returned_at, cold_chain_alert_at, cold_chain_detail,
    stalled_flagged, late_flagged, failed_flagged, cold_chain_flagged, last_event_at, updated_at
)
SELECT
    %(client)s, 'SEED' || lpad(i::text, 10, '0'), 'seed-shopper-' || (i %% 200000), '', '+8613800138000', '',
    CASE WHEN i %% 3 = 0 THEN 'en' ELSE 'zh' END,
    c.slug, 'Seeded item', 99.00, 8.00, 'CNY',
    CASE WHEN s.state IN ('in_transit', 'delivered', 'delivery_failed') THEN 'SF Express' ELSE '' END,
    CASE WHEN s.state IN ('in_transit', 'delivered', 'delivery_failed') THEN 'SF' || i ELSE '' END,
    CASE WHEN a.kind = 1 THEN %(now)s - interval '2 hours' ELSE %(now)s + interval '2 days' END,
    s.state, s.state_at, %(now)s - interval '12 hours', %(now)s - interval '11 hours',
    CASE WHEN s.state IN ('in_transit', 'delivered', 'delivery_failed') THEN s.shipped_at END,
    CASE WHEN s.state IN ('in_transit', 'delivered', 'delivery_failed') THEN s.moved_at END,
    '上海转运中心', 'sorted',
    CASE WHEN s.state = 'delivered' THEN s.state_at END,
    CASE WHEN s.state = 'delivery_failed' THEN s.state_at END,
    '', NULL,
    CASE WHEN a.kind = 3 THEN %(now)s - interval '1 hour' END,
    '',
    false, false, false, false, %(now)s - interval '1 hour', %(now)s
FROM generate_series(%(start)s, %(stop)s - 1) AS i
CROSS JOIN LATERAL (
    SELECT CASE WHEN i < %(anomalies)s THEN i %% 4 ELSE -1 END AS kind
) AS a
CROSS JOIN LATERAL (
    SELECT (%(categories)s::text[])[1 + (i %% %(ncategories)s)] AS slug
) AS c
CROSS JOIN LATERAL (
    SELECT
        CASE
            WHEN a.kind = 2 THEN 'delivery_failed'
            WHEN a.kind >= 0 THEN 'in_transit'
            WHEN i %% 10 < 7 THEN 'in_transit'
            WHEN i %% 10 < 9 THEN 'paid'
            ELSE 'delivered'
        END AS state,
        %(now)s - interval '1 hour' AS state_at,
        -- Fresh goods stay under their transit limits (flowers 12 h) unless seeded as an anomaly.
        %(now)s - interval '6 hours' AS shipped_at,
        CASE WHEN a.kind = 0 THEN %(now)s - interval '72 hours' ELSE %(now)s - interval '2 hours' END AS moved_at
) AS s
"""


class Command(BaseCommand):
    help = "Seed in-flight orders (and a chosen number of anomalies) for the proactive sweep benchmark."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=100_000)
        parser.add_argument("--anomalies", type=int, default=1000, help="orders a sweep should flag")

    def handle(self, *args: Any, **options: Any) -> None:
        orders, anomalies = options["orders"], options["anomalies"]
        if orders < 1 or not 0 <= anomalies <= orders:
            raise CommandError("Give --orders >= 1 and 0 <= --anomalies <= --orders.")
        if connection.vendor != "postgresql" and orders > SQLITE_LIMIT:
            raise CommandError(f"Without PostgreSQL at most {SQLITE_LIMIT} orders.")
        ensure_roles()
        client, _ = User.objects.get_or_create(username="seed-storefront")
        client.groups.add(Group.objects.get(name=STOREFRONT_GROUP))
        offset = TrackedOrder.objects.filter(client=client).count()
        started = time.perf_counter()
        now = timezone.now()
        if connection.vendor == "postgresql":
            for start in range(0, orders, CHUNK):
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        _SEED,
                        {
                            "client": client.pk,
                            "start": offset + start,
                            "stop": offset + min(start + CHUNK, orders),
                            "anomalies": offset + anomalies,
                            "categories": CATEGORIES,
                            "ncategories": len(CATEGORIES),
                            "now": now,
                        },
                    )
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE proactive_trackedorder")
        else:
            self._seed_orm(client, offset, orders, anomalies, now)
        self.stdout.write(
            f"Seeded {orders} orders ({anomalies} anomalies) in {time.perf_counter() - started:.1f} s "
            f"for client {client.username}."
        )

    def _seed_orm(self, client: User, offset: int, orders: int, anomalies: int, now: Any) -> None:
        rows = []
        for n in range(offset, offset + orders):
            kind = (n % 4) if n < offset + anomalies else -1
            state = OrderState.DELIVERY_FAILED if kind == 2 else OrderState.IN_TRANSIT
            rows.append(
                TrackedOrder(
                    client=client,
                    order_number=f"SEED{n:010d}",
                    shopper_external_id=f"seed-shopper-{n % 200000}",
                    shopper_phone="+8613800138000",
                    shopper_language="zh",
                    category_slug=CATEGORIES[n % len(CATEGORIES)],
                    state=state,
                    state_at=now - timedelta(hours=1),
                    shipped_at=now - timedelta(hours=6),
                    moved_at=now - timedelta(hours=72 if kind == 0 else 2),
                    promised_at=now - timedelta(hours=2) if kind == 1 else now + timedelta(days=2),
                    cold_chain_alert_at=now - timedelta(hours=1) if kind == 3 else None,
                    currency="CNY",
                    last_event_at=now,
                )
            )
        TrackedOrder.objects.bulk_create(rows, batch_size=2000)
