"""Reads for after-sales screens and figures, with every relation the templates touch loaded."""

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet

from aftersales.models import AfterSalesDecision, AfterSalesItem, AfterSalesRequest, FollowUp, RequestStatus
from aftersales.states import AWAITING_DECISION
from tickets.models import Attachment

# Decided: a person or the policy has answered (approved in any form, or denied).
DECIDED = [
    RequestStatus.AUTO_APPROVED,
    RequestStatus.APPROVED,
    RequestStatus.DENIED,
    RequestStatus.EXECUTING,
    RequestStatus.DONE,
    RequestStatus.FAILED,
]
CLAIM_BUCKETS = ("1", "2", "3-4", "5+")


def requests_of_ticket(ticket_id: int) -> QuerySet[AfterSalesRequest]:
    return (
        AfterSalesRequest.objects.filter(ticket_id=ticket_id)
        .select_related("first_approver", "decided_by")
        .prefetch_related(
            Prefetch("items", queryset=AfterSalesItem.objects.order_by("id")),
            Prefetch(
                "decisions", queryset=AfterSalesDecision.objects.select_related("actor").order_by("created_at", "id")
            ),
            Prefetch("evidence__attachments", queryset=Attachment.objects.order_by("id")),
        )
        .order_by("-created_at", "-id")
    )


def follow_ups_of_ticket(ticket_id: int) -> QuerySet[FollowUp]:
    """The links of a ticket both ways: requests moved away from it (it was closed) and requests
    that came to it from a closed ticket. One query."""
    return (
        FollowUp.objects.filter(Q(from_ticket_id=ticket_id) | Q(to_ticket_id=ticket_id))
        .select_related("request")
        .order_by("created_at", "id")
    )


def moved_away_from(ticket_id: int) -> QuerySet[FollowUp]:
    """The requests that moved from this (closed) ticket to a follow-up, with each request as it
    is now. One query."""
    return FollowUp.objects.filter(from_ticket_id=ticket_id).select_related("request").order_by("created_at", "id")


def awaiting_supervisor() -> QuerySet[AfterSalesRequest]:
    """Requests waiting for a supervisor's second approval, oldest first."""
    return (
        AfterSalesRequest.objects.filter(status=RequestStatus.PENDING_SUPERVISOR)
        .select_related("ticket", "first_approver")
        .order_by("created_at")
    )


def awaiting_decision_count(ticket_ids: list[int]) -> int:
    return AfterSalesRequest.objects.filter(ticket_id__in=ticket_ids, status__in=AWAITING_DECISION).count()


@dataclass(frozen=True)
class Durations:
    count: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class CategoryShare:
    category: str
    decided: int
    automatic: int

    @property
    def share(self) -> float:
        return self.automatic / self.decided if self.decided else 0.0


@dataclass(frozen=True)
class AfterSalesFigures:
    since: datetime
    by_category: list[CategoryShare]
    decided: int
    automatic: int
    denied: int
    paid_automatic: Durations
    paid_reviewed: Durations
    failed_open: int
    awaiting_decision: int
    claims_per_shopper: dict[str, int] = field(default_factory=dict)  # bucket → shoppers (90 days)

    @property
    def automatic_share(self) -> float:
        return self.automatic / self.decided if self.decided else 0.0

    @property
    def denial_rate(self) -> float:
        return self.denied / self.decided if self.decided else 0.0


def _percentile(sorted_values: list[float], share: float) -> float | None:
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def _durations(values: list[float]) -> Durations:
    values.sort()
    return Durations(len(values), _percentile(values, 0.5), _percentile(values, 0.9))


def _bucket(count: int) -> str:
    if count <= 2:
        return str(count)
    return "3-4" if count <= 4 else "5+"


def aftersales_figures(*, now: datetime, days: int = 7) -> AfterSalesFigures:
    """The dashboard's and /metrics' after-sales figures over the last `days` (claims per shopper
    over 90 days). Four queries, each bounded by an indexed time window."""
    since = now - timedelta(days=days)
    window = AfterSalesRequest.objects.filter(created_at__gte=since)
    rows = (
        window.filter(status__in=DECIDED)
        .values("category_slug")
        .annotate(
            decided=Count("id"),
            automatic=Count("id", filter=Q(was_automatic=True)),
            denied=Count("id", filter=Q(status=RequestStatus.DENIED)),
        )
        .order_by("category_slug")
    )
    by_category = [CategoryShare(r["category_slug"] or "-", r["decided"], r["automatic"]) for r in rows]
    denied = sum(r["denied"] for r in rows)
    automatic: list[float] = []
    reviewed: list[float] = []
    for was_automatic, created, done in window.filter(status=RequestStatus.DONE, done_at__isnull=False).values_list(
        "was_automatic", "created_at", "done_at"
    ):
        if done is not None:
            (automatic if was_automatic else reviewed).append((done - created).total_seconds())
    open_counts = AfterSalesRequest.objects.aggregate(
        failed=Count("id", filter=Q(status=RequestStatus.FAILED)),
        waiting=Count("id", filter=Q(status__in=AWAITING_DECISION)),
    )
    per_shopper = (
        AfterSalesRequest.objects.filter(created_at__gte=now - timedelta(days=90))
        .values("shopper_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    buckets = Counter(_bucket(n) for n in per_shopper)
    return AfterSalesFigures(
        since=since,
        by_category=by_category,
        decided=sum(c.decided for c in by_category),
        automatic=sum(c.automatic for c in by_category),
        denied=denied,
        paid_automatic=_durations(automatic),
        paid_reviewed=_durations(reviewed),
        failed_open=open_counts["failed"],
        awaiting_decision=open_counts["waiting"],
        claims_per_shopper={b: buckets.get(b, 0) for b in CLAIM_BUCKETS},
    )


def limit_text(amount: Decimal | None) -> str:
    return "∞" if amount is None else f"{amount:.2f}"
