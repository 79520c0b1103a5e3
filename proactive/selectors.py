"""Reads of the proactive service: a ticket's case and its order's delivery timeline, and the
dashboard's figures."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from aftersales.models import AfterSalesRequest, RequestStatus
from proactive.models import OrderEvent, ProactiveCase, TrackedOrder
from tickets.models import AuthorKind, Message

TIMELINE_LIMIT = 50


def case_of_ticket(ticket_id: int) -> ProactiveCase | None:
    return ProactiveCase.objects.select_related("compensation", "rule").filter(ticket_id=ticket_id).first()


def timeline(*, client_id: int, order_number: str) -> list[OrderEvent]:
    """The order's events, oldest first (the newest TIMELINE_LIMIT)."""
    newest = list(
        OrderEvent.objects.filter(client_id=client_id, order_number=order_number).order_by("-occurred_at", "-id")[
            :TIMELINE_LIMIT
        ]
    )
    return newest[::-1]


def tracked_order(*, client_id: int, order_number: str) -> TrackedOrder | None:
    return TrackedOrder.objects.filter(client_id=client_id, order_number=order_number).first()


@dataclass(frozen=True)
class ProactiveFigures:
    by_kind_category: list[tuple[str, str, int]]  # (kind, category slug, tickets opened since)
    total: int
    resolved: int
    resolved_before_shopper_wrote: int
    compensation_paid: list[tuple[str, Decimal, int]]  # (currency, amount, count) paid since

    @property
    def share_before_shopper(self) -> float | None:
        return self.resolved_before_shopper_wrote / self.resolved if self.resolved else None


def figures(*, since: datetime) -> ProactiveFigures:
    """Proactive tickets opened since `since` by kind and category; of those resolved, the share
    resolved before the shopper wrote a word; compensation paid since. Three queries."""
    cases = ProactiveCase.objects.filter(detected_at__gte=since)
    by = list(cases.values_list("kind", "category_slug").annotate(n=Count("id")).order_by("kind", "category_slug"))
    shopper_wrote_first = Message.objects.filter(
        ticket_id=OuterRef("ticket_id"), author_kind=AuthorKind.SHOPPER, created_at__lt=OuterRef("ticket__resolved_at")
    )
    resolved = cases.filter(ticket__resolved_at__isnull=False).aggregate(
        resolved=Count("id"),
        before=Count("id", filter=~Q(Exists(shopper_wrote_first))),
    )
    paid = list(
        AfterSalesRequest.objects.filter(proactive_case__isnull=False, status=RequestStatus.DONE, done_at__gte=since)
        .values_list("currency")
        .annotate(total=Sum(F("amount_approved")), n=Count("id"))
        .order_by("currency")
    )
    return ProactiveFigures(
        by_kind_category=[(k, c, n) for k, c, n in by],
        total=sum(n for _k, _c, n in by),
        resolved=resolved["resolved"] or 0,
        resolved_before_shopper_wrote=resolved["before"] or 0,
        compensation_paid=[(c, t or Decimal(0), n) for c, t, n in paid],
    )
