"""Two sweeps at once over the same anomalies (PostgreSQL, one thread each, own connections): one
case, one ticket and one compensation per order and kind."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from aftersales.models import AfterSalesRequest
from proactive.ingest import ingest_events
from proactive.models import ProactiveCase
from proactive.services import sweep
from teams.services import STOREFRONT_GROUP, ensure_roles
from tests.factories import UserFactory
from tests.proactive.conftest import WANG, event, shipped_order
from tickets.models import Channel, Ticket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ORDERS = 40


def test_two_sweeps_racing_open_one_ticket_per_order_and_kind(postgres: None) -> None:
    ensure_roles()
    shop = UserFactory.create(username="race-shop")
    shop.groups.add(Group.objects.get(name=STOREFRONT_GROUP))
    now = timezone.now()
    events = []
    for n in range(ORDERS):
        # Shipped three days ago, promised yesterday, never scanned: stalled and late.
        events += shipped_order(
            f"RACE{n:03d}",
            shipped=now - timedelta(days=3),
            promised=now - timedelta(days=1),
            category="jewelry",
            shopper=WANG,
        )
    ingest_events(client=shop, raw_events=events, categories=frozenset({"jewelry"}))

    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            sweep(batch_size=3)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert errors == []
    per_kind = dict(ProactiveCase.objects.values_list("kind").annotate(n=Count("id")))
    assert per_kind == {"stalled": ORDERS, "late": ORDERS}
    duplicates = ProactiveCase.objects.values("order_number", "kind").annotate(n=Count("id")).filter(n__gt=1)
    assert list(duplicates) == []
    assert Ticket.objects.filter(channel=Channel.PROACTIVE).count() == 2 * ORDERS
    assert AfterSalesRequest.objects.count() == ORDERS  # one late = compensated coupon per order
    assert ProactiveCase.objects.filter(kind="late", compensation__isnull=False).count() == ORDERS


def test_a_case_already_there_is_never_opened_again(postgres: None) -> None:
    """The constraint is the backstop even when the order row was not flagged (a flag lost)."""
    ensure_roles()
    shop = UserFactory.create(username="flagless-shop")
    now = timezone.now()
    ingest_events(
        client=shop,
        raw_events=[
            *shipped_order(
                "ONCE",
                shipped=now - timedelta(days=3),
                promised=now + timedelta(days=3),
                category="jewelry",
                shopper=WANG,
            ),
            event("delivery.failed", "ONCE", now - timedelta(hours=1)),
        ],
        categories=frozenset({"jewelry"}),
    )
    assert sweep().opened == {"failed": 1}
    from proactive.models import TrackedOrder

    TrackedOrder.objects.filter(order_number="ONCE").update(failed_flagged=False)
    assert sweep().total == 0
    assert ProactiveCase.objects.filter(order_number="ONCE").count() == 1
