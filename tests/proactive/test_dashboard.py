"""The dashboard's proactive tile: today's proactive tickets by kind and category, the share
resolved before the shopper wrote, the compensation paid."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from aftersales.models import RequestStatus
from proactive.models import ProactiveCase
from proactive.selectors import figures
from proactive.services import sweep
from routing.services import add_shopper_message, resolve_ticket, route_new_tickets, take_ticket
from tests.proactive.conftest import WANG, event, shipped_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_cases(send: Any) -> list[ProactiveCase]:
    now = timezone.now()
    send(
        shipped_order(
            "D1", shipped=now - timedelta(hours=30), promised=now - timedelta(hours=1), category="jewelry", shopper=WANG
        )
    )
    send(
        shipped_order(
            "D2", shipped=now - timedelta(hours=5), promised=now + timedelta(days=1), category="jewelry", shopper=WANG
        )
    )
    send([event("delivery.failed", "D2", now - timedelta(hours=1))])
    sweep()
    route_new_tickets()
    return list(ProactiveCase.objects.order_by("order_number", "kind"))


def test_the_figures_count_by_kind_and_category_and_the_share_resolved_before_the_shopper_wrote(
    two_cases: list[ProactiveCase], ana: Any, django_assert_num_queries: Any
) -> None:
    late, failed = (c for c in two_cases if c.kind in ("late", "failed"))
    ana.capacity = 10
    ana.save()
    for case in (late, failed):
        take_ticket(ticket_id=case.ticket_id, agent=ana)
    resolve_ticket(ticket_id=failed.ticket_id, by=None)  # before the shopper wrote
    add_shopper_message(ticket_id=late.ticket_id, body="Where is my ring?")
    resolve_ticket(ticket_id=late.ticket_id, by=None)  # after the shopper wrote
    late.compensation.status = RequestStatus.DONE
    late.compensation.done_at = timezone.now()
    late.compensation.save()
    with django_assert_num_queries(3):
        today = figures(since=timezone.now() - timedelta(hours=1))
    assert today.by_kind_category == [("failed", "jewelry", 1), ("late", "jewelry", 1)]
    assert today.total == 2
    assert (today.resolved, today.resolved_before_shopper_wrote) == (2, 1)
    assert today.share_before_shopper == 0.5
    assert today.compensation_paid == [("CNY", Decimal("10.00"), 1)]


def test_the_dashboard_shows_the_tile_in_both_languages(two_cases: Any, sam: Any, signed_in: Any) -> None:
    client = signed_in(sam)
    english = client.get("/console/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Proactive service" in english and "Late: past the promised delivery date" in english
    chinese = client.get("/console/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "今日主动服务单" in chinese and "延迟：超过承诺送达时间" in chinese
