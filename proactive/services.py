"""Writes of the proactive service: the rules sweep that opens proactive cases (ticket, shopper
message, compensation), a shopper's inquiry joining the case's ticket, and pruning.

Safe to run twice at once: each rule claims its candidate orders with FOR UPDATE SKIP LOCKED, flags
them in the same transaction (so they leave the rule's partial index), and the unique constraint
on (order, kind) is the backstop: a case that loses that race rolls back with its ticket.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from aftersales import rules
from aftersales.models import Resolution
from aftersales.services import open_system_compensation
from classification.services import classify_text
from core.events import emit
from notifications.models import Notification
from notifications.services.outbox import enqueue_notifications
from proactive.messages import compose, notifications_for, shopper_language
from proactive.models import (
    FINISHED,
    NOT_YET_DELIVERED,
    AnomalyKind,
    AnomalyRule,
    Compensation,
    JoinedInquiry,
    OrderEvent,
    OrderState,
    ProactiveCase,
    TrackedOrder,
)
from routing.services import add_shopper_message, request_handoff
from teams.models import Category
from teams.selectors import categories_by_slug
from tickets.attachments import PreparedImage
from tickets.intake_write import Lookup
from tickets.models import AuthorKind, Channel, Ticket, TicketStatus
from tickets.services import JoinRequest, OrderSnapshot, ShopperDetails, open_ticket

logger = logging.getLogger(__name__)

PROACTIVE_SIGNAL = "proactive"
CASE_OPENED = "proactive.case_opened"
# Candidate orders claimed per rule and transaction.
SWEEP_BATCH = 100
FLAG_OF: dict[str, str] = {
    AnomalyKind.STALLED: "stalled_flagged",
    AnomalyKind.LATE: "late_flagged",
    AnomalyKind.FAILED: "failed_flagged",
    AnomalyKind.COLD_CHAIN: "cold_chain_flagged",
}


@dataclass(frozen=True)
class EffectiveRule:
    kind: str
    category: str  # the order's category slug ("" for orders without a known one)
    rule: AnomalyRule


@dataclass
class SweepResult:
    opened: dict[str, int] = field(default_factory=dict)
    compensations: int = 0
    exhausted: bool = True  # False: the budget ran out with candidates left (a successor is kicked)

    @property
    def total(self) -> int:
        return sum(self.opened.values())


def effective_rules() -> list[EffectiveRule]:
    """For every (kind, category), the category's own rule or the kind's default; disabled ones
    left out. Orders without a known category follow the defaults."""
    rules = list(AnomalyRule.objects.select_related("category"))
    slugs = [*Category.objects.order_by("slug").values_list("slug", flat=True), ""]
    found = []
    for kind in AnomalyKind.values:
        default = next((r for r in rules if r.kind == kind and r.category_id is None), None)
        for slug in slugs:
            own = next(
                (r for r in rules if r.kind == kind and r.category is not None and r.category.slug == slug), None
            )
            rule = own or default
            if rule is not None and rule.enabled:
                found.append(EffectiveRule(kind, slug, rule))
    return found


def _candidates(rule: EffectiveRule, now: datetime) -> list[QuerySet[TrackedOrder]]:
    """The rule's queries, each served by its partial index (proactive.models), oldest first."""
    base = TrackedOrder.objects.filter(category_slug=rule.category).exclude(shopper_external_id="")
    hours = rule.rule.threshold_hours
    if rule.kind == AnomalyKind.STALLED:
        cutoff = now - timedelta(hours=hours if hours is not None else 48)
        return [
            base.filter(state=OrderState.IN_TRANSIT, stalled_flagged=False, moved_at__lt=cutoff).order_by("moved_at")
        ]
    if rule.kind == AnomalyKind.LATE:
        cutoff = now - timedelta(hours=hours or 0)
        return [
            base.filter(
                state__in=NOT_YET_DELIVERED, late_flagged=False, promised_at__isnull=False, promised_at__lt=cutoff
            ).order_by("promised_at")
        ]
    if rule.kind == AnomalyKind.FAILED:
        cutoff = now - timedelta(hours=hours or 0)
        return [
            base.filter(
                state__in=[OrderState.DELIVERY_FAILED, OrderState.RETURNED], failed_flagged=False, state_at__lte=cutoff
            ).order_by("state_at")
        ]
    queries = [base.filter(cold_chain_alert_at__isnull=False, cold_chain_flagged=False).order_by("cold_chain_alert_at")]
    if hours is not None:
        queries.append(
            base.filter(
                state=OrderState.IN_TRANSIT, cold_chain_flagged=False, shipped_at__lt=now - timedelta(hours=hours)
            ).order_by("shipped_at")
        )
    return queries


def sweep(
    *, now: datetime | None = None, batch_size: int = SWEEP_BATCH, budget_seconds: float | None = None
) -> SweepResult:
    """Evaluate every rule over the in-flight orders and open a case for each new anomaly.

    Bounded: batch_size orders per transaction; with a budget, stops when it is spent (result
    .exhausted False) and leaves the rest for the next run. Idempotent and safe to run twice at once.
    """
    now = now or timezone.now()
    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else None
    result = SweepResult()
    for rule in effective_rules():
        for query in _candidates(rule, now):
            while True:
                if deadline is not None and time.monotonic() > deadline:
                    result.exhausted = False
                    return result
                opened = _open_batch(rule, query, batch_size=batch_size, now=now, result=result)
                if opened < batch_size:
                    break
    return result


def _open_batch(
    rule: EffectiveRule, query: QuerySet[TrackedOrder], *, batch_size: int, now: datetime, result: SweepResult
) -> int:
    """Claim up to batch_size candidates (SKIP LOCKED: another sweep's rows are left to it) and
    open their cases, in one transaction. Returns how many orders were claimed."""
    flag = FLAG_OF[rule.kind]
    with transaction.atomic():
        orders = list(query.select_for_update(skip_locked=True)[:batch_size])
        if not orders:
            return 0
        # One read for the batch: orders that already have this kind of case (a lost flag).
        done = set(ProactiveCase.objects.filter(order__in=orders, kind=rule.kind).values_list("order_id", flat=True))
        notifications: list[Notification] = []
        for order in orders:
            if order.pk not in done and _open_case(order, rule, now=now, result=result, outbox=notifications):
                result.opened[rule.kind] = result.opened.get(rule.kind, 0) + 1
        # The batch's messages to shoppers in one insert (and one publish after commit).
        enqueue_notifications(notifications)
        TrackedOrder.objects.filter(pk__in=[o.pk for o in orders]).update(**{flag: True})
    return len(orders)


def facts_of(order: TrackedOrder, kind: str, now: datetime) -> dict[str, Any]:
    """What the rule saw, as plain data kept on the case (the order row may be pruned later)."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "order_number": order.order_number,
        "state": order.state,
        "category": order.category_slug,
        "product_title": order.product_title,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "promised_at": iso(order.promised_at),
        "shipped_at": iso(order.shipped_at),
        "moved_at": iso(order.moved_at),
        "last_scan_place": order.last_scan_place,
        "last_scan_status": order.last_scan_status,
        "failed_at": iso(order.failed_at),
        "returned_at": iso(order.returned_at),
        "failure_reason": order.failure_reason,
        "cold_chain_alert_at": iso(order.cold_chain_alert_at),
        "cold_chain_detail": order.cold_chain_detail,
        "detected_at": now.isoformat(),
    }


def _compensation_of(order: TrackedOrder, rule: AnomalyRule) -> tuple[str, Decimal]:
    """The late-delivery compensation the rule grants this order ("none" when it grants none)."""
    if rule.compensation == Compensation.COUPON:
        return Compensation.COUPON, rule.coupon_amount
    if rule.compensation == Compensation.SHIPPING_REFUND and order.shipping_fee and order.shipping_fee > 0:
        return Compensation.SHIPPING_REFUND, order.shipping_fee
    return Compensation.NONE, Decimal(0)


def _open_case(
    order: TrackedOrder, rule: EffectiveRule, *, now: datetime, result: SweepResult, outbox: list[Notification]
) -> bool:
    """Open the proactive ticket and its case for one locked candidate (in a savepoint: a case that
    already exists, whoever made it, leaves nothing behind); the shopper's notifications are added
    to `outbox` for the caller to enqueue with the batch. False when there already was a case."""
    facts = facts_of(order, rule.kind, now)
    language = shopper_language(order.shopper_language)
    compensation, amount = (
        _compensation_of(order, rule.rule) if rule.kind == AnomalyKind.LATE else (Compensation.NONE, Decimal(0))
    )
    words = compose(
        kind=rule.kind,
        facts=facts,
        language=language,
        compensation=compensation,
        amount=str(amount),
        currency=order.currency,
    )
    try:
        with transaction.atomic():
            intake = open_ticket(
                shopper=ShopperDetails(
                    external_id=order.shopper_external_id,
                    name=order.shopper_name,
                    phone=order.shopper_phone,
                    email=order.shopper_email,
                    language=order.shopper_language,
                ),
                channel=Channel.PROACTIVE,
                subject=words.subject,
                body=words.body,
                language=order.shopper_language or ("zh" if language == "zh-hans" else "en"),
                order=OrderSnapshot(
                    number=order.order_number,
                    product_title=order.product_title,
                    product_category=order.category_slug,
                    amount=order.amount,
                    currency=order.currency,
                    paid=order.paid_at is not None,
                    shipped=order.shipped_at is not None,
                ),
                author_kind=AuthorKind.SYSTEM,
                signals=[PROACTIVE_SIGNAL],
                priority=settings.PROACTIVE_TICKET_PRIORITY,
            )
            case = ProactiveCase.objects.create(
                order=order,
                kind=rule.kind,
                client_id=order.client_id,
                order_number=order.order_number,
                category_slug=order.category_slug,
                shopper_external_id=order.shopper_external_id,
                ticket=intake.ticket,
                facts=facts,
                rule=rule.rule,
                threshold_hours=rule.rule.threshold_hours,
                detected_at=now,
            )
    except IntegrityError:
        return False  # a racing sweep opened it first
    if compensation != Compensation.NONE:
        opened = open_system_compensation(
            ticket_id=intake.ticket.pk,
            order_number=order.order_number,
            amount=amount,
            currency=order.currency,
            resolution=Resolution.COUPON if compensation == Compensation.COUPON else Resolution.REFUND,
            rule=rules.late_delivery(compensation),
            detail=f"Late delivery: promised {facts['promised_at']}, not delivered at {now.isoformat()}.",
            now=now,
        )
        if opened.created:
            case.compensation = opened.request
            case.save(update_fields=["compensation"])
            result.compensations += 1
    outbox.extend(
        notifications_for(
            case_id=case.pk,
            ticket_id=intake.ticket.pk,
            phone=order.shopper_phone,
            email=order.shopper_email,
            language=language,
            words=words,
            now=now,
        )
    )
    emit(
        CASE_OPENED,
        data={
            "case_id": case.pk,
            "kind": case.kind,
            "ticket_id": intake.ticket.pk,
            "order_number": case.order_number,
            "category": case.category_slug,
            "shopper": case.shopper_external_id,
            "detected_at": now.isoformat(),
            "facts": facts,
            "compensation": {"kind": compensation, "amount": str(amount), "currency": order.currency}
            if compensation != Compensation.NONE
            else None,
        },
        ticket_id=intake.ticket.pk,
    )
    return True


# --- The shopper writes about the order ----------------------------------------------------------------


def _open_case_for(queryset: QuerySet[ProactiveCase]) -> ProactiveCase | None:
    return (
        queryset.exclude(ticket__status=TicketStatus.CLOSED).select_related("ticket").order_by("-detected_at").first()
    )


def _join(
    case: ProactiveCase, *, body: str, photos: Iterable[PreparedImage], client_id: int | None, key: str | None
) -> tuple[Ticket, bool]:
    """Add the shopper's inquiry to the case's ticket. It is the shopper's first word on a ticket we
    opened, so it is read as a new inquiry would be (classification.classify_text): its signals
    join the ticket's and raise its priority, and one that demands a person (asks for one, or is
    sensitive) brings a person as a shopper's own handoff request does: top of the queue, an
    agent (or an offer) at once."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                message = add_shopper_message(
                    ticket_id=case.ticket_id, body=body, photos=list(photos), read_for_a_person=False
                )
                if key:
                    JoinedInquiry.objects.create(
                        case=case, client_id=client_id, idempotency_key=key, message_id=message.pk
                    )
        except IntegrityError:
            # A retry of the same request raced this one and joined first.
            first = JoinedInquiry.objects.select_related("case__ticket").get(client_id=client_id, idempotency_key=key)
            return first.case.ticket, True
        handoff_signals = _read_joined_inquiry(case.ticket_id, body=body)
    if handoff_signals:
        request_handoff(ticket_id=case.ticket_id, signals=handoff_signals)
    case.ticket.refresh_from_db()
    return case.ticket, False


def _read_joined_inquiry(ticket_id: int, *, body: str) -> list[str]:
    """The joined inquiry's signals onto its ticket (locked by add_shopper_message in this
    transaction), as routing's classification merges them; its signals when they demand a person
    (empty when not)."""
    ticket = Ticket.objects.only("signals", "priority", "order_product_category", "order_amount").get(pk=ticket_id)
    result = classify_text(
        text=body,
        order_category=ticket.order_product_category,
        order_amount=ticket.order_amount,
        known_categories=frozenset(categories_by_slug()),
    )
    signals = [*(s for s in ticket.signals or [] if s not in result.signals), *result.signals]
    priority = max(ticket.priority, result.priority)
    if signals != ticket.signals or priority != ticket.priority:
        Ticket.objects.filter(pk=ticket_id).update(signals=signals, priority=priority, updated_at=timezone.now())
    return list(result.signals) if result.demands_a_person else []


# tickets.services' joiner lookup, run inside intake's statement: an earlier join of this
# Idempotency-Key (a retry), else the open case of this client's order for this shopper, newest first.
_OPEN_CASE = """
SELECT c.id FROM proactive_proactivecase AS c JOIN tickets_ticket AS t ON t.id = c.ticket_id
WHERE c.client_id = %s AND c.order_number = %s AND c.shopper_external_id = %s AND t.status <> %s
ORDER BY c.detected_at DESC LIMIT 1"""
_EARLIER_JOIN = "SELECT case_id FROM proactive_joinedinquiry WHERE client_id = %s AND idempotency_key = %s"


def join_lookup(request: JoinRequest) -> Lookup | None:
    """The SQL of the case an inquiry about an order joins (tickets.services.InquiryJoiner): a
    storefront inquiry about an order that has an open proactive case of the same shopper joins
    that case's ticket; with an Idempotency-Key that already joined, that case again."""
    if request.client is None:
        return None
    open_case = (
        _OPEN_CASE,
        [request.client.pk, request.order_number, request.shopper.external_id, TicketStatus.CLOSED],
    )
    if not request.idempotency_key:
        return open_case
    return (
        f"COALESCE(({_EARLIER_JOIN}), ({open_case[0]}))",
        [request.client.pk, request.idempotency_key, *open_case[1]],
    )


def join_inquiry(request: JoinRequest, case_id: int) -> tuple[Ticket, bool]:
    """Add the inquiry to the case join_lookup found. With an Idempotency-Key, a retry returns the
    same ticket and adds no second message."""
    assert request.client is not None  # noqa: S101  # join_lookup looks for none without a client
    if request.idempotency_key:
        earlier = (
            JoinedInquiry.objects.select_related("case__ticket")
            .filter(client=request.client, idempotency_key=request.idempotency_key)
            .first()
        )
        if earlier is not None:
            return earlier.case.ticket, True
    case = ProactiveCase.objects.select_related("ticket").get(pk=case_id)
    return _join(
        case, body=request.body, photos=request.photos, client_id=request.client.pk, key=request.idempotency_key
    )


def join_from_page(
    *, order_number: str, ticket_ids: list[int], body: str, photos: Iterable[PreparedImage]
) -> Ticket | None:
    """The shopper page: an inquiry naming an order joins that order's open proactive ticket when
    this browser may already see it (it followed the link we sent); a stranger typing an order
    number gets a new inquiry, never someone else's ticket."""
    if not order_number or not ticket_ids:
        return None
    case = _open_case_for(ProactiveCase.objects.filter(order_number=order_number, ticket_id__in=ticket_ids))
    if case is None:
        return None
    ticket, _replayed = _join(case, body=body, photos=photos, client_id=None, key=None)
    return ticket


# --- Pruning -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneResult:
    orders: int
    events: int


def prune(*, now: datetime | None = None, batch_size: int = 5000, max_batches: int = 10) -> PruneResult:
    """Delete delivered and returned orders finished more than PROACTIVE_FINISHED_RETENTION_DAYS
    ago, and events older than PROACTIVE_EVENT_RETENTION_DAYS, in capped batches (a few
    short transactions per run, never one long delete). Their cases keep what the rule saw."""
    now = now or timezone.now()
    order_cutoff = now - timedelta(days=settings.PROACTIVE_FINISHED_RETENTION_DAYS)
    event_cutoff = now - timedelta(days=settings.PROACTIVE_EVENT_RETENTION_DAYS)
    orders = events = 0
    for _ in range(max_batches):
        ids = list(
            TrackedOrder.objects.filter(state__in=FINISHED, state_at__lt=order_cutoff)
            .order_by("state_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        orders += TrackedOrder.objects.filter(pk__in=ids).delete()[1].get("proactive.TrackedOrder", 0)
    for _ in range(max_batches):
        ids = list(
            OrderEvent.objects.filter(received_at__lt=event_cutoff)
            .order_by("received_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        events += OrderEvent.objects.filter(pk__in=ids).delete()[0]
    return PruneResult(orders=orders, events=events)


def anomalies_waiting(*, now: datetime | None = None) -> bool:
    """Whether any enabled rule still has a candidate (for the sweep's successor kick)."""
    now = now or timezone.now()
    return any(q.exists() for r in effective_rules() for q in _candidates(r, now))
