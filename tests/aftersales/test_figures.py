"""The after-sales figures on the dashboard and /metrics: share approved without review by
category, time from request to money paid (automatic vs reviewed), denial rate, and the
claims-per-shopper distribution to watch for abuse — in a fixed number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales.metrics import render
from aftersales.models import AfterSalesRequest, RequestStatus
from aftersales.selectors import aftersales_figures
from tests.factories import ShopperFactory, TicketFactory


def request(shopper, *, category: str, status: str, automatic: bool | None, paid_after: float | None = None):
    ticket = TicketFactory.create(shopper=shopper)
    now = timezone.now() - timedelta(hours=1)
    return AfterSalesRequest.objects.create(
        ticket=ticket,
        shopper=shopper,
        kind="refund_only",
        resolution="refund",
        status=status,
        opened_by="shopper",
        order_number="JD1",
        category_slug=category,
        amount_requested=Decimal("10.00"),
        was_automatic=automatic,
        created_at=now,
        done_at=now + timedelta(seconds=paid_after) if paid_after is not None else None,
    )


@pytest.fixture
def week(db):
    regular, other, abuser = ShopperFactory(), ShopperFactory(), ShopperFactory()
    for seconds in (2.0, 4.0, 30.0):
        request(regular, category="fresh_food", status=RequestStatus.DONE, automatic=True, paid_after=seconds)
    request(other, category="fresh_food", status=RequestStatus.DONE, automatic=False, paid_after=3600)
    request(other, category="jewelry", status=RequestStatus.DENIED, automatic=False)
    for _ in range(5):
        request(abuser, category="jewelry", status=RequestStatus.PENDING_REVIEW, automatic=None)
    request(abuser, category="jewelry", status=RequestStatus.FAILED, automatic=False)


def test_the_figures_read_as_a_supervisor_expects(week, django_assert_num_queries):
    with django_assert_num_queries(4):
        figures = aftersales_figures(now=timezone.now())
    shares = {c.category: (c.decided, c.automatic) for c in figures.by_category}
    assert shares == {"fresh_food": (4, 3), "jewelry": (2, 0)}
    assert figures.automatic_share == pytest.approx(3 / 6)
    assert figures.denial_rate == pytest.approx(1 / 6)
    assert (
        figures.paid_automatic.count,
        figures.paid_automatic.median_seconds,
        figures.paid_automatic.p90_seconds,
    ) == (3, 4.0, 30.0)
    assert (figures.paid_reviewed.count, figures.paid_reviewed.median_seconds) == (1, 3600.0)
    assert figures.claims_per_shopper == {"1": 0, "2": 1, "3-4": 1, "5+": 1}
    assert (figures.failed_open, figures.awaiting_decision) == (1, 5)


def test_metrics_lines_and_nan_when_nothing_was_decided(week):
    text = render(aftersales_figures(now=timezone.now()))
    assert 'cx_aftersales_automatic_share{category="fresh_food"} 0.75' in text
    assert 'cx_aftersales_request_to_paid_seconds{path="automatic",quantile="0.5"} 4' in text
    assert 'cx_aftersales_claims_per_shopper{claims="5+"} 1' in text
    empty = render(aftersales_figures(now=timezone.now() + timedelta(days=30)))
    assert "cx_aftersales_denial_rate NaN" in empty


def test_the_dashboard_and_metrics_show_them(week, sam, signed_in):
    client = signed_in(sam)
    page = client.get("/console/dashboard/")
    assert page.status_code == 200 and 'id="aftersales-figures"' in page.content.decode()
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "cx_aftersales_denial_rate" in metrics.content.decode()
