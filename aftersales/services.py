"""Writes on after-sales requests: open (and decide by policy), approve, deny, retry, execute.

Three guards keep money from being paid twice: the state machine (aftersales.states) under a row
lock, a unique constraint on active claims of an order item (AfterSalesItem), and one
idempotency key per request on every call to the order system (AfterSalesRequest.execution_key).
Every decision writes an AfterSalesDecision naming the rule or the person, and emits a domain
event (core.events) inside the same transaction.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales import policies, rules
from aftersales.models import (
    FRESH_CATEGORIES,
    KINDS_WITH_ITEMS,
    KINDS_WITH_RETURN,
    RESOLUTION_OF_KIND,
    AfterSalesDecision,
    AfterSalesItem,
    AfterSalesPolicy,
    AfterSalesRequest,
    ApprovalLimit,
    ClaimKind,
    DecisionAction,
    DenialReason,
    FollowUp,
    Kind,
    Opener,
    RequestStatus,
    Resolution,
    Stage,
)
from aftersales.states import AWAITING_DECISION, DENIABLE, NEEDS_A_PERSON, TO_EXECUTE, check_transition
from core.caching import ttl_cache
from core.errors import ConflictError
from core.events import Event, emit_many
from core.kicks import kick
from orders.contract import ItemLine, Order, OrderActionRejected, OrderNotFound, OrderServiceUnavailable
from orders.interface import get_order_system
from routing.models import RoutingDecision
from routing.selectors import is_supervisor
from routing.services.intake import enqueue_dispatch
from tickets.attachments import PreparedImage, store_images
from tickets.events import notify_ticket_changed
from tickets.models import Attachment, AuthorKind, Message, Ticket, TicketStatus
from tickets.services import OrderSnapshot, ShopperDetails, open_ticket, set_status

logger = logging.getLogger(__name__)

REQUESTED = "aftersales.requested"
APPROVED = "aftersales.approved"
DENIED = "aftersales.denied"
RETURN_RECEIVED = "aftersales.return_received"
EXECUTED = "aftersales.executed"
FAILED = "aftersales.failed"
RETURN_OVERDUE_EVENT = "aftersales.return_overdue"

REASON_MAX_LENGTH = 2000
DENIAL_TEXT_MAX_LENGTH = 1000
MAX_ITEMS = 50
CENT = Decimal("0.01")
# Execution: the draining task, its kick key and Celery queue, and how many requests a run claims at once.
EXECUTE_TASK = "aftersales.execute_due"
EXECUTE_KICK_KEY = "aftersales:execute"
EXECUTION_QUEUE = "aftersales"
EXECUTION_BATCH = 5
# How long a kicked execution run waits before it claims: approvals committed meanwhile join its
# batch instead of each paying a run's fixed cost (Celery's hand-off, the claim transaction), which
# at a few dozen approvals a second was most of the worker's CPU per request. Well inside the 2 s
# an approval may take to reach the order system.
EXECUTION_GATHER_SECONDS = 0.2
# Rule codes this module records (aftersales.rules has them all, with their names).
RETURN_OVERDUE = rules.RETURN_OVERDUE
LATE_RETURN_RECEIVED = rules.LATE_RETURN_RECEIVED
EXECUTION_FAILED = rules.EXECUTION_FAILED
OVERDUE_RETURNS_BATCH = 100
# Policies are read from a per-process copy this many seconds old at most (see _policy_table).
POLICY_CACHE_SECONDS = 5


class AfterSalesError(ConflictError):
    """Refused in the current state (the API answers 409, the console shows the message)."""


class ItemsAlreadyClaimed(AfterSalesError):
    """Another active request already claims one of these items of the order."""


@dataclass(frozen=True)
class ClaimedItem:
    item_id: str
    quantity: int


@dataclass(frozen=True)
class OpenResult:
    request: AfterSalesRequest
    created: bool


# --- Reading what a decision needs -----------------------------------------------------------------


# The shopper's requests of the last 90 days, as columns of the statement that locks their
# ticket (_locked_ticket_with_standing): three indexed counts over a handful of rows, and no round
# trip or ORM aggregate of their own. Plain SQL, so the embedded SQLite mode runs it too.
_REQUESTS_SINCE = (
    "SELECT count(*) FROM aftersales_aftersalesrequest r"
    " WHERE r.shopper_id = tickets_ticket.shopper_id AND r.created_at >= %s"
)
_DENIED_SINCE = _REQUESTS_SINCE + " AND r.status = %s"
_DECIDED_SINCE = _REQUESTS_SINCE + " AND r.status NOT IN (%s, %s, %s)"
UNDECIDED = (RequestStatus.REQUESTED, RequestStatus.PENDING_REVIEW, RequestStatus.PENDING_SUPERVISOR)


def _locked_ticket_with_standing(ticket_id: int, now: datetime) -> tuple[Ticket, policies.Standing]:
    """The ticket, row-locked, with its shopper and category, and the shopper's standing (requests
    and denials in 90 days, account age), in one statement."""
    since = now - timedelta(days=90)
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("shopper", "category")
        .annotate(
            # Constant statement text; the values are parameters.
            requests_90d=RawSQL(_REQUESTS_SINCE, (since,)),  # noqa: S611
            denied_90d=RawSQL(_DENIED_SINCE, (since, RequestStatus.DENIED)),  # noqa: S611
            decided_90d=RawSQL(_DECIDED_SINCE, (since, *UNDECIDED)),  # noqa: S611
        )
        .get(pk=ticket_id)
    )
    counts: Any = ticket  # the annotations are attributes of this instance only
    standing = policies.Standing(
        requests_90d=int(counts.requests_90d),
        decided_90d=int(counts.decided_90d),
        denied_90d=int(counts.denied_90d),
        account_age_days=max(0, (now - ticket.shopper.created_at).days),
    )
    return ticket, standing


@ttl_cache(seconds=POLICY_CACHE_SECONDS)
def _policy_table() -> dict[tuple[str | None, str], tuple[int, dict[str, Any]]]:
    """Every policy's snapshot by (category slug or None, stage): a few dozen rows, read once per
    process every few seconds instead of once per request."""
    return {
        (p.category.slug if p.category is not None else None, p.stage): (p.pk, p.snapshot())
        for p in AfterSalesPolicy.objects.select_related("category")
    }


def forget_policies(**_: Any) -> None:
    """A policy or category was saved: this process decides by the new version at once (others
    within POLICY_CACHE_SECONDS). Connected to the models' save and delete signals."""
    _policy_table.cache_clear()  # type: ignore[attr-defined]


def policy_for(*, category: str, stage: str) -> tuple[int, dict[str, Any]] | None:
    """The category's own policy for the stage, else the stage's default: (id, snapshot)."""
    table = _policy_table()
    return table.get((category, stage)) or table.get((None, stage))


def approval_limit_of(user: User) -> Decimal:
    """What this agent may approve alone (supervisors: no limit)."""
    row = ApprovalLimit.objects.filter(user=user).first()
    return row.max_amount if row is not None else Decimal(settings.AFTERSALES_DEFAULT_APPROVAL_LIMIT)


# --- Opening a request ---------------------------------------------------------------------------------


def _money(value: object, field: str, errors: dict[str, list[str]]) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        errors[field] = ["Enter an amount, e.g. 134.00."]
        return Decimal(0)
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT) or amount >= Decimal("1e10"):
        errors[field] = ["Enter an amount of at least 0 with at most two decimals."]
        return Decimal(0)
    return amount


def _clean(
    *,
    kind: str,
    items: Sequence[ClaimedItem],
    amount: object,
    reason: str,
    fresh_problem: str,
    photo_count: int,
) -> Decimal:
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = [f"Choose one of: {', '.join(Kind.values)}."]
    money = _money(amount, "amount", errors)
    if kind in KINDS_WITH_ITEMS and not items:
        errors["items"] = ["Name at least one item of the order."]
    if len(items) > MAX_ITEMS:
        errors["items"] = [f"At most {MAX_ITEMS} items."]
    if len({i.item_id for i in items}) != len(items):
        errors["items"] = ["Name each item once."]
    if any(i.quantity < 1 for i in items):
        errors["items"] = ["Each quantity is at least 1."]
    if len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [f"Ensure this field has no more than {REASON_MAX_LENGTH} characters."]
    if kind == Kind.FRESH_GUARANTEE:
        if photo_count < 1:
            errors["photos"] = ["A fresh-guarantee claim needs at least one photo of the problem."]
        if not fresh_problem:
            errors["fresh_problem"] = ["Say what is wrong: rotten, not as described, short weight or broken."]
    if kind in (Kind.REFUND_ONLY, Kind.RETURN_REFUND, Kind.FRESH_GUARANTEE, Kind.COMPENSATION) and money <= 0:
        errors.setdefault("amount", ["Enter the amount to refund (more than 0)."])
    if errors:
        raise ValidationError(errors)
    return money


def _check_against_order(order: Order, *, kind: str, items: Sequence[ClaimedItem], amount: Decimal) -> None:
    """Items that exist with enough quantity left, and no more money than is left to refund."""
    errors: dict[str, list[str]] = {}
    by_id = {item.item_id: item for item in order.items}
    for line in items:
        item = by_id.get(line.item_id)
        if item is None:
            errors["items"] = [f"The order {order.number} has no item {line.item_id!r}."]
        elif line.quantity > item.quantity - item.refunded_quantity:
            errors["items"] = [f"At most {item.quantity - item.refunded_quantity} of {item.title} can be claimed."]
    if RESOLUTION_OF_KIND.get(kind) == Resolution.REFUND and amount > order.amounts.refundable:
        errors["amount"] = [f"At most {order.amounts.refundable} {order.currency} is left to refund on this order."]
    if errors:
        raise ValidationError(errors)


def _order_category(order: Order | None, items: Sequence[ClaimedItem], ticket: Ticket) -> str:
    if order is not None:
        wanted = {i.item_id for i in items}
        for item in order.items:
            if (not wanted or item.item_id in wanted) and item.category:
                return item.category
    return ticket.order_product_category or (ticket.category.slug if ticket.category else "")


def open_request(
    *,
    ticket_id: int,
    kind: str,
    items: Sequence[ClaimedItem] = (),
    amount: object = "0",
    reason: str = "",
    fresh_problem: str = "",
    order_number: str = "",
    photos: Sequence[PreparedImage] = (),
    attachment_ids: Sequence[int] = (),
    opened_by: str = Opener.SHOPPER,
    by: User | None = None,
    client_key: str | None = None,
    now: datetime | None = None,
) -> OpenResult:
    """Open an after-sales request on a ticket and decide it by policy at once.

    Raises ValidationError (field errors, nothing written), Ticket.DoesNotExist, AfterSalesError
    (a closed ticket) and ItemsAlreadyClaimed. The order is read from the order system before the
    transaction; if it cannot be asked, the request goes to review. In policy: auto-approved and
    sent for execution after commit. Otherwise: pending review, the ticket raised in its specialist
    queue. The same client_key on the same ticket returns the first request (created=False).

    The automatic path is a fixed handful of statements (tests/aftersales/test_query_budget.py):
    the policy comes from a per-process copy, the standing is one aggregate, and the request, its
    items and its decision are three inserts in one transaction.
    """
    reason = (reason or "").strip()
    fresh_problem = fresh_problem or ""
    photo_count = len(photos) + len(attachment_ids)
    money = _clean(
        kind=kind, items=items, amount=amount, reason=reason, fresh_problem=fresh_problem, photo_count=photo_count
    )
    if client_key:
        first = AfterSalesRequest.objects.filter(ticket_id=ticket_id, client_key=client_key).first()
        if first is not None:
            return OpenResult(first, created=False)
    order_number = (order_number or "").strip()
    if not order_number:
        found_number = Ticket.objects.filter(pk=ticket_id).values_list("order_number", flat=True).first()
        if found_number is None:
            raise Ticket.DoesNotExist(f"No ticket {ticket_id}")
        order_number = found_number.strip()
    if not order_number:
        raise ValidationError({"order_number": ["Name the order (this inquiry has none)."]})
    evidence_id: int | None = None
    if attachment_ids:
        message_of = dict(
            Attachment.objects.filter(
                pk__in=attachment_ids, message__ticket_id=ticket_id, message__is_internal=False
            ).values_list("pk", "message_id")
        )
        if set(message_of) != set(attachment_ids):
            raise ValidationError({"photo_ids": ["Name photos already sent on this inquiry."]})
        evidence_id = message_of[attachment_ids[0]]
    order: Order | None
    try:
        order = get_order_system().get_order(order_number)
    except OrderNotFound as exc:
        raise ValidationError({"order_number": [f"No order {order_number}."]}) from exc
    except OrderServiceUnavailable:
        order = None  # decided by a person, who sees the order once the system is back
    if order is not None:
        _check_against_order(order, kind=kind, items=items, amount=money)
    resolution = RESOLUTION_OF_KIND[kind]
    if resolution == Resolution.RESHIP and order is not None and money == 0:
        # The value of what is reshipped counts against the limits (nothing is paid).
        prices = {i.item_id: i.unit_price for i in order.items}
        money = sum((prices.get(i.item_id, Decimal(0)) * i.quantity for i in items), Decimal(0))
    now = now or timezone.now()
    try:
        # No savepoint around the inserts: a unique-constraint failure rolls the whole
        # transaction back (nothing half-written) and is told apart below.
        with transaction.atomic():
            return _decide_and_record(
                ticket_id=ticket_id,
                kind=kind,
                resolution=resolution,
                items=items,
                money=money,
                reason=reason,
                fresh_problem=fresh_problem,
                order_number=order_number,
                order=order,
                photos=photos,
                photo_count=photo_count,
                evidence_id=evidence_id,
                opened_by=opened_by,
                by=by,
                client_key=client_key,
                now=now,
            )
    except IntegrityError as exc:
        if client_key:
            first = AfterSalesRequest.objects.filter(ticket_id=ticket_id, client_key=client_key).first()
            if first is not None:  # a racing retry of the same call won
                return OpenResult(first, created=False)
        raise ItemsAlreadyClaimed("These items of the order already have an open or paid after-sales request.") from exc


def _decide_and_record(
    *,
    ticket_id: int,
    kind: str,
    resolution: str,
    items: Sequence[ClaimedItem],
    money: Decimal,
    reason: str,
    fresh_problem: str,
    order_number: str,
    order: Order | None,
    photos: Sequence[PreparedImage],
    photo_count: int,
    evidence_id: int | None,
    opened_by: str,
    by: User | None,
    client_key: str | None,
    now: datetime,
) -> OpenResult:
    """open_request's transaction: decide under the ticket's row lock, then write the request,
    its items and its decision. The caller holds the transaction."""
    ticket, standing = _locked_ticket_with_standing(ticket_id, now)
    if ticket.status == TicketStatus.CLOSED:
        raise AfterSalesError("This inquiry is closed: open a new one for this problem.")
    category = _order_category(order, items, ticket)
    stage = policies.stage_of(order) if order is not None else ""
    found = policy_for(category=category, stage=stage) if stage else None
    policy_id, snapshot = found if found is not None else (None, None)
    facts = policies.Facts(
        kind=kind,
        resolution=resolution,
        amount=money,
        photo_count=photo_count,
        stage=stage,
        category=category,
        order_matches_shopper=order is None or order.shopper_external_id == ticket.shopper.external_id,
        hours_since_delivery=policies.hours_since_delivery(order, now) if order is not None else None,
        standing=standing,
    )
    verdict = policies.decide(facts, snapshot)
    if verdict.automatic:
        returning = needs_return(kind=kind, resolution=resolution, stage=stage)
        status = RequestStatus.AWAITING_RETURN if returning else RequestStatus.AUTO_APPROVED
    else:
        status = RequestStatus.PENDING_REVIEW
    check_transition(RequestStatus.REQUESTED, status)
    if photos:
        evidence = Message.objects.create(
            ticket=ticket,
            author_kind=AuthorKind.AGENT if opened_by == Opener.AGENT else AuthorKind.SHOPPER,
            author=by if opened_by == Opener.AGENT else None,
            body=reason or str(Kind(kind).label),
            created_at=now,
        )
        store_images(message=evidence, images=photos)
        evidence_id = evidence.pk
    request = AfterSalesRequest(
        ticket=ticket,
        shopper_id=ticket.shopper_id,
        kind=kind,
        resolution=resolution,
        status=status,
        opened_by=opened_by,
        opened_by_user=by,
        client_key=client_key or None,
        order_number=order_number,
        currency=order.currency if order is not None else (ticket.order_currency or ""),
        category_slug=category[:40],
        stage=stage,
        amount_requested=money,
        amount_approved=money if verdict.automatic else None,
        reason=reason,
        fresh_problem=fresh_problem if kind == Kind.FRESH_GUARANTEE else "",
        evidence_id=evidence_id,
        photo_count=photo_count,
        policy_id=policy_id,
        policy_snapshot=snapshot or {},
        rule=verdict.rule,
        was_automatic=True if verdict.automatic else None,
        decided_at=now if verdict.automatic else None,
        return_due_at=return_deadline(snapshot, now) if status == RequestStatus.AWAITING_RETURN else None,
        created_at=now,
    )
    request.save(force_insert=True)
    titles = {i.item_id: i.title for i in order.items} if order is not None else {}
    claimed = AfterSalesItem.objects.bulk_create(
        [
            AfterSalesItem(
                request=request,
                order_number=order_number,
                item_id=line.item_id,
                title=titles.get(line.item_id, "")[:200],
                quantity=line.quantity,
                claim=_claim_of(resolution),
            )
            for line in items
        ]
    )
    _remember_items(request, claimed)
    AfterSalesDecision.objects.create(
        request=request,
        action=DecisionAction.AUTO_APPROVE if verdict.automatic else DecisionAction.REVIEW,
        rule=verdict.rule,
        detail=verdict.detail[:500],
        actor=None,
        amount=money,
        created_at=now,
    )
    events = [_event(REQUESTED, request)]
    if verdict.automatic:
        events.append(_event(APPROVED, request))
        if status == RequestStatus.AWAITING_RETURN:
            _tell_shopper(request, _return_message(request))
        else:
            _enqueue_execution(request.pk)
    else:
        _queue_for_review(ticket, request)
    emit_many(events)
    notify_ticket_changed(ticket, kind="status")
    return OpenResult(request, created=True)


def needs_return(*, kind: str, resolution: str, stage: str) -> bool:
    """A return and refund or an exchange of goods that were shipped waits for the returned
    parcel before anything is paid or reshipped. Not when nothing was shipped yet (the order is
    refunded at once), nor when an agent resolves it with a coupon (the shopper keeps the goods)."""
    return kind in KINDS_WITH_RETURN and resolution != Resolution.COUPON and stage != Stage.BEFORE_SHIPMENT


def return_deadline(policy_snapshot: dict[str, Any] | None, approved_at: datetime) -> datetime:
    """When the parcel of a return approved at `approved_at` is overdue: the policy's window as the
    request's snapshot has it, else AFTERSALES_RETURN_WINDOW_DAYS."""
    days = (policy_snapshot or {}).get("return_window_days") or settings.AFTERSALES_RETURN_WINDOW_DAYS
    return approved_at + timedelta(days=int(days))


def _remember_items(request: AfterSalesRequest, items: list[AfterSalesItem]) -> None:
    """The items just written stand in for request.items.all() (the events, the API's answer), as
    prefetch_related would leave them: no query to read back what was just inserted. These are
    Django's private names: tests/aftersales/test_query_budget.py fails when they change (the
    claim's answer would read the items back, one statement over the budget)."""
    cached = AfterSalesItem.objects.filter(request=request)
    cached._result_cache = items
    cached._prefetch_done = True  # type: ignore[attr-defined]
    request._prefetched_objects_cache = {"items": cached}  # type: ignore[attr-defined]


def open_system_compensation(
    *,
    ticket_id: int,
    order_number: str,
    amount: Decimal,
    currency: str,
    resolution: str,
    rule: str,
    detail: str,
    now: datetime | None = None,
) -> OpenResult:
    """A compensation the system grants by its own rule ("late = compensated"): approved without
    review and sent for execution after commit, once per order (a partial unique constraint: a
    second call, or a racing one, returns the first request with created=False). Runs in the
    caller's transaction when there is one; the caller decided the rule, so no policy is read
    and the order system is not asked before execution."""
    if resolution not in (Resolution.COUPON, Resolution.REFUND):
        raise ValueError(f"A compensation is a coupon or a refund, not {resolution!r}.")
    if amount <= 0:
        raise ValueError("A compensation is worth more than 0.")
    now = now or timezone.now()
    existing = AfterSalesRequest.objects.filter(
        order_number=order_number, kind=Kind.COMPENSATION, opened_by=Opener.SYSTEM
    ).first()
    if existing is not None:
        return OpenResult(existing, created=False)
    with transaction.atomic():
        ticket = Ticket.objects.select_related("shopper").get(pk=ticket_id)
        request = AfterSalesRequest(
            ticket=ticket,
            shopper_id=ticket.shopper_id,
            kind=Kind.COMPENSATION,
            resolution=resolution,
            status=RequestStatus.AUTO_APPROVED,
            opened_by=Opener.SYSTEM,
            order_number=order_number,
            currency=currency,
            category_slug=(ticket.order_product_category or "")[:40],
            amount_requested=amount,
            amount_approved=amount,
            reason=detail[:REASON_MAX_LENGTH],
            rule=rule[:60],
            was_automatic=True,
            decided_at=now,
            created_at=now,
        )
        check_transition(RequestStatus.REQUESTED, RequestStatus.AUTO_APPROVED)
        try:
            with transaction.atomic():
                request.save(force_insert=True)
        except IntegrityError:
            first = AfterSalesRequest.objects.filter(
                order_number=order_number, kind=Kind.COMPENSATION, opened_by=Opener.SYSTEM
            ).first()
            if first is None:
                raise
            return OpenResult(first, created=False)
        AfterSalesDecision.objects.create(
            request=request,
            action=DecisionAction.AUTO_APPROVE,
            rule=rule[:60],
            detail=detail[:500],
            amount=amount,
            created_at=now,
        )
        emit_many([_event(REQUESTED, request), _event(APPROVED, request)])
        _enqueue_execution(request.pk)
        notify_ticket_changed(ticket, kind="status")
    return OpenResult(request, created=True)


def _claim_of(resolution: str) -> str:
    return ClaimKind.RESHIP if resolution == Resolution.RESHIP else ClaimKind.REFUND


def _queue_for_review(ticket: Ticket, request: AfterSalesRequest, *, why: str = "") -> None:
    """To the ticket's specialist queue at a raised priority; a resolved ticket is reopened there.
    The caller holds the ticket's row lock (never a closed ticket: see _to_a_person)."""
    raised = max(ticket.priority, settings.AFTERSALES_REVIEW_PRIORITY)
    fields = []
    if raised != ticket.priority:
        ticket.priority = raised
        fields.append("priority")
    if ticket.status == TicketStatus.RESOLVED and ticket.queue is not None:
        fields += set_status(ticket, TicketStatus.QUEUED)
        ticket.assigned_agent = None
        ticket.resolved_at = None
        fields += ["assigned_agent", "resolved_at"]
    if fields:
        ticket.save(update_fields=sorted(set(fields)))
    if ticket.queue is not None:
        RoutingDecision.objects.create(
            ticket=ticket,
            kind=RoutingDecision.Kind.REQUEUE if ticket.status == TicketStatus.QUEUED else RoutingDecision.Kind.ROUTE,
            queue=ticket.queue,
            reason=f"after-sales request #{request.pk} needs review ({why or request.rule}); priority {raised}"[:300],
        )
        if ticket.status == TicketStatus.QUEUED:
            enqueue_dispatch(ticket.queue)


def _to_a_person(request: AfterSalesRequest, *, why: str, now: datetime) -> None:
    """A request that needs a person's decision after it was decided (an overdue return, a failed
    execution) reaches a queue: its ticket is raised (reopened if resolved), or, when the ticket is
    closed (final, and in no queue), the request moves to a follow-up ticket for the same shopper
    and order. The caller holds the request's and its ticket's row locks; request.ticket is that
    locked row with its shopper. Idempotent through the caller's state change under those locks,
    with FollowUp's unique constraint as the backstop."""
    if request.ticket.status == TicketStatus.CLOSED:
        _move_to_follow_up(request, why=why, now=now)
    else:
        _queue_for_review(request.ticket, request, why=why)


def _move_to_follow_up(request: AfterSalesRequest, *, why: str, now: datetime) -> None:
    """Open a ticket for the closed one's shopper and the request's order (a system ticket routed by
    the order's category to its specialist queue, at the review priority) and move the request to
    it, recording the link both panels show."""
    closed = request.ticket
    shopper = closed.shopper
    same_order = closed.order_number == request.order_number
    with translation.override(_language_of(request)):
        subject = _("After-sales follow-up: order %(order)s") % {"order": request.order_number}
        body = _(
            "Your after-sales request for order %(order)s (inquiry #%(ticket)s, now closed) needs a "
            "specialist. We continue here."
        ) % {"order": request.order_number, "ticket": closed.pk}
    intake = open_ticket(
        shopper=ShopperDetails(
            external_id=shopper.external_id,
            name=shopper.name,
            phone=shopper.phone,
            email=shopper.email,
            language=shopper.language,
            time_zone=shopper.time_zone,
        ),
        channel=closed.channel,
        subject=str(subject)[:200],
        body=str(body),
        language=closed.language,
        order=OrderSnapshot(
            number=request.order_number,
            product_title=closed.order_product_title if same_order else "",
            product_category=request.category_slug or (closed.order_product_category if same_order else ""),
            amount=closed.order_amount if same_order else None,
            currency=request.currency,
            paid=closed.order_paid if same_order else None,
            shipped=closed.order_shipped if same_order else None,
        ),
        client=closed.client,  # the storefront that owns the inquiry reads the follow-up through its API
        author_kind=AuthorKind.SYSTEM,
        priority=settings.AFTERSALES_REVIEW_PRIORITY,
    )
    follow_up = intake.ticket
    follow_up.shopper = shopper
    FollowUp.objects.create(request=request, from_ticket=closed, to_ticket=follow_up, rule=why, created_at=now)
    request.ticket = follow_up
    request.save(update_fields=["ticket", "updated_at"])
    AfterSalesDecision.objects.create(
        request=request,
        action=DecisionAction.FOLLOW_UP,
        rule=why,
        detail=f"Ticket #{closed.pk} is closed: moved to follow-up ticket #{follow_up.pk}.",
        created_at=now,
    )
    notify_ticket_changed(closed, kind="status")


def _event(type: str, request: AfterSalesRequest, **extra: Any) -> Event:
    return Event(
        type=type,
        ticket_id=request.ticket_id,
        data={
            "request_id": request.pk,
            "public_id": str(request.public_id),
            "ticket_id": request.ticket_id,
            "kind": request.kind,
            "resolution": request.resolution,
            "status": request.status,
            "order_number": request.order_number,
            "items": [{"item_id": i.item_id, "quantity": i.quantity} for i in request.items.all()]
            if request.pk
            else [],
            "amount_requested": str(request.amount_requested),
            "amount_approved": None if request.amount_approved is None else str(request.amount_approved),
            "currency": request.currency,
            "rule": request.rule,
            "automatic": bool(request.was_automatic),
            **extra,
        },
    )


def _enqueue_execution(request_id: int) -> None:
    """After commit, make sure an execution run on the `aftersales` queue will look (a coalesced
    kick, like routing's): one pending run however many requests a burst approves. A kick lost
    between commit and publish (Redis down) is repaired by aftersales.recover_requests."""
    transaction.on_commit(lambda: kick(EXECUTE_TASK, key=EXECUTE_KICK_KEY, queue=EXECUTION_QUEUE), robust=True)


# --- Agents' resolutions ----------------------------------------------------------------------------


def _lock(request_id: int) -> AfterSalesRequest:
    request = (
        AfterSalesRequest.objects.select_for_update(of=("self",))
        .select_related("ticket__shopper")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise AfterSalesRequest.DoesNotExist(f"No after-sales request {request_id}")
    return request


def approve_request(
    *, request_id: int, by: User, amount: object | None = None, resolution: str | None = None, note: str = ""
) -> AfterSalesRequest:
    """Approve a request waiting for a decision: in full (amount None), partly, or resolved another
    way (a reship, a coupon). Atomic; the row lock makes two agents clicking at once one approval
    (the second gets AfterSalesError). An agent above their approval limit records the first
    approval and the request waits for a supervisor's (pending_supervisor); a supervisor's
    approval is final but never the second approval of their own first one."""
    errors: dict[str, list[str]] = {}
    chosen_amount = _money(amount, "amount", errors) if amount not in (None, "") else None
    if resolution is not None and resolution not in Resolution.values:
        errors["resolution"] = [f"Choose one of: {', '.join(Resolution.values)}."]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        request = _lock(request_id)
        if request.status not in AWAITING_DECISION:
            raise AfterSalesError(_already(request))
        # An overdue return was approved before: approving it again gives the parcel more time,
        # and needs no second approval for what was already approved.
        approved_before = request.amount_approved if request.rule == RETURN_OVERDUE else None
        supervisor = is_supervisor(by)
        if request.status == RequestStatus.PENDING_SUPERVISOR:
            if not supervisor:
                raise AfterSalesError("This request waits for a supervisor's second approval.")
            if request.first_approver_id == by.pk:
                raise AfterSalesError("The second approval must come from another person.")
            # The supervisor confirms what the first approver chose (amount and resolution).
            chosen_amount, resolution = None, None
        new_resolution = resolution or request.resolution
        pay = chosen_amount if chosen_amount is not None else request.amount_to_pay
        if new_resolution == Resolution.REFUND and pay > request.amount_requested:
            raise ValidationError({"amount": [f"At most the {request.amount_requested} asked for."]})
        if new_resolution != Resolution.RESHIP and pay <= 0:
            raise ValidationError({"amount": ["More than 0."]})
        if new_resolution != request.resolution:
            _change_resolution(request, new_resolution)
        request.amount_approved = pay
        limit = approval_limit_of(by)
        needs_second = (
            request.status == RequestStatus.PENDING_REVIEW
            and not supervisor
            and new_resolution != Resolution.RESHIP
            and pay > limit
            and not (approved_before is not None and pay <= approved_before)
        )
        if needs_second:
            check_transition(request.status, RequestStatus.PENDING_SUPERVISOR)
            request.status = RequestStatus.PENDING_SUPERVISOR
            request.first_approver = by
            request.rule = rules.ABOVE_AGENT_LIMIT
            action, detail = DecisionAction.NEEDS_SECOND_APPROVAL, f"{pay} is above {by.username}'s limit of {limit}"
        else:
            target = (
                RequestStatus.AWAITING_RETURN
                if needs_return(kind=request.kind, resolution=new_resolution, stage=request.stage)
                else RequestStatus.APPROVED
            )
            check_transition(request.status, target)
            second = request.status == RequestStatus.PENDING_SUPERVISOR
            request.status = target
            request.rule = (
                rules.SUPERVISOR_SECOND_APPROVAL
                if second
                else (rules.SUPERVISOR_APPROVED if supervisor else rules.AGENT_WITHIN_LIMIT)
            )
            if target == RequestStatus.AWAITING_RETURN:
                request.return_due_at = return_deadline(request.policy_snapshot, now)
            request.was_automatic = False
            request.decided_at = now
            request.decided_by = by
            action, detail = DecisionAction.APPROVE, note[:500]
        request.save()
        AfterSalesDecision.objects.create(
            request=request, action=action, rule=request.rule, detail=detail[:500], actor=by, amount=pay, created_at=now
        )
        if request.status in (RequestStatus.APPROVED, RequestStatus.AWAITING_RETURN):
            emit_many([_event(APPROVED, request, by=by.username)])
        if request.status == RequestStatus.APPROVED:
            _enqueue_execution(request.pk)
        elif request.status == RequestStatus.AWAITING_RETURN:
            _tell_shopper(request, _return_message(request))
        notify_ticket_changed(request.ticket, kind="status")
    return request


def mark_return_received(
    *, request_id: int, by: User | None = None, source: str, tracking_number: str = "", now: datetime | None = None
) -> tuple[AfterSalesRequest, bool]:
    """The returned parcel of an approved return (or exchange) arrived: awaiting_return (or an
    overdue return waiting for a specialist) → return_received, and execution is kicked after commit (the refund is paid, or the
    replacement reshipped). `source` names who said so ("storefront", "agent"), for the audit row.

    Idempotent: a second report of the same parcel changes nothing and answers (request, False).
    Atomic under the row lock; AfterSalesError when the request does not wait for a return."""
    tracking_number = (tracking_number or "").strip()
    if len(tracking_number) > 64:
        raise ValidationError({"tracking_number": ["Ensure this field has no more than 64 characters."]})
    with transaction.atomic():
        request = _lock(request_id)
        now = now or timezone.now()  # after the lock: the audit trail's order is the order of the moves
        if request.return_received_at is not None:
            return request, False  # reported before (it may be executing or done by now)
        overdue = request.status == RequestStatus.PENDING_REVIEW and request.rule == RETURN_OVERDUE
        if request.status != RequestStatus.AWAITING_RETURN and not overdue:
            raise AfterSalesError(
                _("This request does not wait for a returned parcel (it is %(status)s).")
                % {"status": request.get_status_display()}
            )
        check_transition(request.status, RequestStatus.RETURN_RECEIVED)
        request.status = RequestStatus.RETURN_RECEIVED
        request.return_received_at = now
        request.return_tracking_number = tracking_number
        fields = ["status", "return_received_at", "return_tracking_number", "updated_at"]
        if overdue:  # the late parcel settles the specialist's question: paid as approved
            request.rule = LATE_RETURN_RECEIVED
            fields.append("rule")
        request.save(update_fields=fields)
        AfterSalesDecision.objects.create(
            request=request,
            action=DecisionAction.RETURN_RECEIVED,
            rule=rules.reported_by(source)[:60],
            detail=tracking_number,
            actor=by,
            created_at=now,
        )
        emit_many([_event(RETURN_RECEIVED, request, tracking_number=tracking_number, source=source)])
        _enqueue_execution(request.pk)
        notify_ticket_changed(request.ticket, kind="status")
    return request, True


def _change_resolution(request: AfterSalesRequest, resolution: str) -> None:
    """A reship or a coupon instead of what was asked: the items' claim follows (a reship claims
    them as reshipped; a refund or coupon as refunded), still under the unique constraint."""
    claim = _claim_of(resolution)
    try:
        with transaction.atomic():
            request.items.filter(active=True).update(claim=claim)
    except IntegrityError as exc:
        raise ItemsAlreadyClaimed("Another request already claims these items for that resolution.") from exc
    request.resolution = resolution


def _already(request: AfterSalesRequest) -> str:
    return f"This request is already {request.get_status_display()}."


def deny_request(*, request_id: int, by: User, reason: str, text: str = "") -> AfterSalesRequest:
    """Deny a request waiting for a decision (or one that failed, or whose return never came): a reason from the list plus
    free text, told to the shopper in their language as a message on the inquiry. Releases the
    items (they may be claimed again). Atomic; a second deny gets AfterSalesError."""
    text = (text or "").strip()
    errors: dict[str, list[str]] = {}
    if reason not in DenialReason.values:
        errors["reason"] = [f"Choose one of: {', '.join(DenialReason.values)}."]
    if reason == DenialReason.OTHER and not text:
        errors["text"] = ["Say why in a few words."]
    if len(text) > DENIAL_TEXT_MAX_LENGTH:
        errors["text"] = [f"Ensure this field has no more than {DENIAL_TEXT_MAX_LENGTH} characters."]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        request = _lock(request_id)
        if request.status not in DENIABLE:
            raise AfterSalesError(_already(request))
        check_transition(request.status, RequestStatus.DENIED)
        request.status = RequestStatus.DENIED
        request.denial_reason = reason
        request.denial_text = text
        request.rule = rules.denied(reason)
        request.was_automatic = False
        request.decided_at = now
        request.decided_by = by
        request.save()
        request.items.update(active=False)
        AfterSalesDecision.objects.create(
            request=request, action=DecisionAction.DENY, rule=request.rule, detail=text[:500], actor=by, created_at=now
        )
        _tell_shopper(request, _denial_message(request))
        emit_many([_event(DENIED, request, reason=reason, text=text, by=by.username)])
        notify_ticket_changed(request.ticket, kind="message")
    return request


def retry_request(*, request_id: int, by: User) -> AfterSalesRequest:
    """Send a failed request to the order system again, with the same idempotency key: if the
    first attempt did pay (its answer was lost), the order system answers with that payment."""
    now = timezone.now()
    with transaction.atomic():
        request = _lock(request_id)
        if request.status != RequestStatus.FAILED:
            raise AfterSalesError(_already(request))
        check_transition(request.status, RequestStatus.APPROVED)
        request.status = RequestStatus.APPROVED
        request.save(update_fields=["status", "updated_at"])
        AfterSalesDecision.objects.create(
            request=request,
            action=DecisionAction.RETRY,
            rule=rules.RETRY,
            actor=by,
            detail=request.last_error,
            created_at=now,
        )
        _enqueue_execution(request.pk)
        notify_ticket_changed(request.ticket, kind="status")
    return request


# --- Execution through the order system ------------------------------------------------------------


def execute_request(*, request_id: int, now: datetime | None = None) -> str:
    """Carry out one approved request through the order system. Idempotent.

    1. Claim it (row lock): auto_approved/approved/return_received → executing, or an `executing`
       one whose attempt is older than AFTERSALES_EXECUTING_STALE_SECONDS (its worker died).
       Anything else: nothing to do (a retried or duplicate task).
    2. Call the order system outside any transaction, with the request's idempotency key: a second
       call, whoever makes it, is answered with the first result and pays nothing.
    3. Record done or failed (only if still executing); failures stay visible and retryable.
    Returns the status it leaves.
    """
    now = now or timezone.now()
    with transaction.atomic():
        request = (
            AfterSalesRequest.objects.select_for_update(of=("self",))
            .select_related("ticket__shopper")
            .filter(pk=request_id)
            .first()
        )
        if request is None:
            return "missing"
        if not _claimable(request, now):
            return str(request.status)
        _claim([request], now)
    return _carry_out(request)


def execute_due_requests(*, now: datetime | None = None, batch: int = EXECUTION_BATCH) -> list[str]:
    """Claim up to `batch` requests due for execution and carry each out (what execute_request
    does for one). Safe with any number of runs at once: the claim skips rows another run holds
    (SKIP LOCKED), and a claimed row is `executing` before the claiming transaction ends.
    Returns the statuses they were left in."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.AFTERSALES_EXECUTING_STALE_SECONDS)
    with transaction.atomic():
        claimed = list(
            AfterSalesRequest.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(Q(status__in=TO_EXECUTE) | Q(status=RequestStatus.EXECUTING, executing_since__lt=stale))
            .select_related("ticket__shopper")
            .prefetch_related("items")
            .order_by("updated_at")[:batch]
        )
        _claim(claimed, now)
    return [_carry_out(request) for request in claimed]


def _claimable(request: AfterSalesRequest, now: datetime) -> bool:
    stale = now - timedelta(seconds=settings.AFTERSALES_EXECUTING_STALE_SECONDS)
    if request.status in TO_EXECUTE:
        return True
    return bool(
        request.status == RequestStatus.EXECUTING and request.executing_since and request.executing_since < stale
    )


def _claim(requests: list[AfterSalesRequest], now: datetime) -> None:
    """Move locked, claimable requests to executing: one UPDATE and one INSERT for the batch.
    Every row gets the same values (attempts counted in SQL), so the UPDATE is a plain one, not
    bulk_update's CASE per row and field (a quarter of the worker's CPU per claim)."""
    if not requests:
        return
    for request in requests:
        if request.status != RequestStatus.EXECUTING:
            check_transition(request.status, RequestStatus.EXECUTING)
            request.status = RequestStatus.EXECUTING
        request.executing_since = now
        request.attempts += 1
        request.updated_at = now
    AfterSalesRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        status=RequestStatus.EXECUTING, executing_since=now, attempts=F("attempts") + 1, updated_at=now
    )
    AfterSalesDecision.objects.bulk_create(
        [
            AfterSalesDecision(
                request=request, action=DecisionAction.EXECUTE, rule=rules.attempt(request.attempts), created_at=now
            )
            for request in requests
        ]
    )


def _carry_out(request: AfterSalesRequest) -> str:
    """Call the order system for a claimed request (no transaction open) and record the outcome."""
    items = [ItemLine(item_id=i.item_id, quantity=i.quantity) for i in request.items.all() if i.active]
    try:
        reference, detail = _call_order_system(request, items)
    except (OrderServiceUnavailable, OrderActionRejected, OrderNotFound) as exc:
        return _finish(request, error=f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # never leave it silently "executing" nor call it done
        logger.exception("After-sales request %s failed in execution", request.pk)
        return _finish(request, error=f"{type(exc).__name__}: {exc}")
    return _finish(request, reference=reference, detail=detail)


def _call_order_system(request: AfterSalesRequest, items: list[ItemLine]) -> tuple[str, str]:
    system = get_order_system()
    reason = f"after-sales {request.kind} #{request.pk}"
    if request.resolution == Resolution.REFUND:
        refund = system.refund(
            order_number=request.order_number,
            items=items,
            amount=request.amount_to_pay,
            idempotency_key=request.execution_key,
            reason=reason,
        )
        return refund.refund_id, f"refund {refund.status}{' (replayed)' if refund.replayed else ''}"
    if request.resolution == Resolution.RESHIP:
        reship = system.reship(
            order_number=request.order_number, items=items, idempotency_key=request.execution_key, reason=reason
        )
        return reship.reshipment_id, f"reshipment {reship.status}{' (replayed)' if reship.replayed else ''}"
    coupon = system.issue_coupon(
        order_number=request.order_number,
        amount=request.amount_to_pay,
        idempotency_key=request.execution_key,
        reason=reason,
    )
    return coupon.coupon_code, f"coupon{' (replayed)' if coupon.replayed else ''}"


def _finish(request: AfterSalesRequest, *, reference: str = "", detail: str = "", error: str = "") -> str:
    """Record the outcome of a request this run claimed (loaded with its ticket and shopper).

    One conditional UPDATE (still executing on the ticket this attempt loaded → done or failed)
    instead of a locked re-read and a full save: when it changes no row, another attempt (a stale
    re-claim) finished it first and this one records nothing. A request cannot change while
    executing except by finishing — but this attempt's copy can be old: while it waited on the
    order system a stale re-claim may have failed, moved the request to a follow-up (its ticket
    had closed) and a retry claimed it again. Then the outcome, its message to the shopper and its
    event belong to the request's ticket now, not the closed one: re-read, and record it there."""
    now = timezone.now()
    target = RequestStatus.FAILED if error else RequestStatus.DONE
    check_transition(RequestStatus.EXECUTING, target)
    changes: dict[str, Any] = {"status": target, "updated_at": now}
    if error:
        changes["last_error"] = error[:500]
    else:
        changes.update(result_reference=reference[:80], done_at=now, last_error="")
    with transaction.atomic():
        if not _executing_on_its_ticket(request).update(**changes):
            status, ticket_id = AfterSalesRequest.objects.values_list("status", "ticket_id").get(pk=request.pk)
            if status != RequestStatus.EXECUTING or ticket_id == request.ticket_id:
                return str(status)  # another attempt finished it first
            request.ticket = Ticket.objects.select_related("shopper").get(pk=ticket_id)  # moved meanwhile
            if not _executing_on_its_ticket(request).update(**changes):
                return str(AfterSalesRequest.objects.values_list("status", flat=True).get(pk=request.pk))
        for name, value in changes.items():
            setattr(request, name, value)
        AfterSalesDecision.objects.create(
            request=request,
            action=DecisionAction.FAIL if error else DecisionAction.DONE,
            rule=rules.ORDER_SYSTEM,
            detail=(error or detail)[:500],
            created_at=now,
        )
        if error:
            # A failed payment needs a person: on a resolved or closed ticket nobody would see it.
            ticket = Ticket.objects.select_for_update(of=("self",)).select_related("shopper").get(pk=request.ticket_id)
            request.ticket = ticket
            if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
                _to_a_person(request, why=EXECUTION_FAILED, now=now)
            emit_many([_event(FAILED, request, error=request.last_error)])
            notify_ticket_changed(request.ticket, kind="status")
        else:
            _tell_shopper(request, _done_message(request))
            emit_many([_event(EXECUTED, request, reference=request.result_reference)])
            notify_ticket_changed(request.ticket, kind="message")
    return str(request.status)


def _executing_on_its_ticket(request: AfterSalesRequest) -> QuerySet[AfterSalesRequest]:
    return AfterSalesRequest.objects.filter(pk=request.pk, status=RequestStatus.EXECUTING, ticket_id=request.ticket_id)


def requests_to_recover(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Approved requests whose execution task was lost (older than the grace period) and
    executing ones whose worker died (older than the stale time). One indexed query."""
    now = now or timezone.now()
    grace = now - timedelta(seconds=settings.AFTERSALES_EXECUTION_GRACE_SECONDS)
    stale = now - timedelta(seconds=settings.AFTERSALES_EXECUTING_STALE_SECONDS)
    return list(
        AfterSalesRequest.objects.filter(
            Q(status__in=TO_EXECUTE, updated_at__lt=grace)
            | Q(status=RequestStatus.EXECUTING, executing_since__lt=stale)
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- Returns whose parcel is overdue -------------------------------------------------------------


def sweep_overdue_returns(*, now: datetime | None = None, batch: int = OVERDUE_RETURNS_BATCH) -> int:
    """Send up to `batch` approved returns whose parcel is past its deadline (return_due_at) to the
    ticket's specialist queue: awaiting_return → pending_review with the rule "return_overdue", the
    ticket raised (reopened if resolved; moved to a follow-up ticket if closed), the decision
    recorded, the shopper told and aftersales.return_overdue emitted in the same transaction.

    A specialist, not an automatic denial: a parcel late at the carrier or the warehouse is common,
    and a denial is final (a parcel reported after it could not be paid). The specialist gives
    more time, denies ("the returned parcel never arrived"), or a late report pays it as approved.
    One transaction per batch; safe with any number of runs at once (SKIP LOCKED, and the status is
    re-checked under the row lock). Returns how many it moved."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            AfterSalesRequest.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(status=RequestStatus.AWAITING_RETURN, return_due_at__lte=now)
            .order_by("return_due_at", "id")[:batch]
        )
        if not due:
            return 0
        tickets = {
            t.pk: t
            for t in Ticket.objects.select_for_update(of=("self",))
            .select_related("shopper")
            .filter(pk__in={r.ticket_id for r in due})
            .order_by("pk")
        }
        for request in due:
            request.ticket = tickets[request.ticket_id]
            _return_overdue(request, now)
    return len(due)


def _return_overdue(request: AfterSalesRequest, now: datetime) -> None:
    check_transition(request.status, RequestStatus.PENDING_REVIEW)
    due_at = request.return_due_at
    request.status = RequestStatus.PENDING_REVIEW
    request.rule = RETURN_OVERDUE
    request.save(update_fields=["status", "rule", "updated_at"])
    AfterSalesDecision.objects.create(
        request=request,
        action=DecisionAction.RETURN_OVERDUE,
        rule=RETURN_OVERDUE,
        detail=f"No returned parcel reported by {due_at:%Y-%m-%d %H:%M} UTC." if due_at else "",
        created_at=now,
    )
    closed_ticket_id = request.ticket_id if request.ticket.status == TicketStatus.CLOSED else None
    _to_a_person(request, why=RETURN_OVERDUE, now=now)
    _tell_shopper(request, _overdue_message(request))
    emit_many(
        [
            _event(
                RETURN_OVERDUE_EVENT,
                request,
                return_due_at=due_at.isoformat() if due_at else None,
                follow_up_of_ticket_id=closed_ticket_id,
            )
        ]
    )
    notify_ticket_changed(request.ticket, kind="message")


# --- The shopper withdrawing the inquiry ------------------------------------------------------------


def why_ticket_stays_open(ticket_id: int) -> str:
    """tickets.keep_open's check (registered in AftersalesConfig.ready), asked by
    routing.cancel_inquiry under the ticket's row lock: a request on the ticket that a person still
    has to settle (a decision, a second approval, a failed payment's retry) keeps the inquiry open.

    Why not close and move the request to a follow-up, or withdraw it: the ticket already waits in
    the specialist queue for exactly this decision, so keeping it costs agents nothing, while a
    follow-up would be a second ticket and a split conversation for the same work; and a shopper
    who gives up on the wait has not given up the money. The reason (in the active language) says
    so and how to withdraw the request instead: write to us. "" when nothing keeps it open."""
    request = (
        AfterSalesRequest.objects.filter(ticket_id=ticket_id, status__in=NEEDS_A_PERSON)
        .only("kind", "order_number")
        .order_by("created_at", "id")
        .first()
    )
    if request is None:
        return ""
    return str(
        _(
            "Your after-sales request (%(kind)s, order %(order)s) still needs a specialist's decision, so this "
            "inquiry stays open until it is settled. If you no longer need it, write to us here."
        )
        % {"kind": Kind(request.kind).label, "order": request.order_number}
    )


# --- Words to the shopper, in their language ------------------------------------------------------


def _tell_shopper(request: AfterSalesRequest, body: str) -> None:
    Message.objects.create(ticket=request.ticket, author_kind=AuthorKind.SYSTEM, body=body)


def _language_of(request: AfterSalesRequest) -> str:
    return "zh-hans" if (request.ticket.shopper.language or "").startswith("zh") else "en"


def _denial_message(request: AfterSalesRequest) -> str:
    with translation.override(_language_of(request)):
        head = _("Your after-sales request (%(kind)s, order %(order)s) was not approved: %(reason)s.") % {
            "kind": Kind(request.kind).label,
            "order": request.order_number,
            "reason": DenialReason(request.denial_reason).label,
        }
        return f"{head}\n{request.denial_text}" if request.denial_text else str(head)


def _return_message(request: AfterSalesRequest) -> str:
    with translation.override(_language_of(request)):
        if request.resolution == Resolution.RESHIP:
            text = _(
                "Your exchange for order %(order)s is approved. Please send the item back; "
                "the replacement is shipped as soon as your parcel arrives."
            )
        else:
            text = _(
                "Your return for order %(order)s is approved. Please send the item back; "
                "the refund of %(amount)s is paid as soon as your parcel arrives."
            )
        amount = f"{request.amount_to_pay} {request.currency}".strip()
        return str(text % {"amount": amount, "order": request.order_number})


def _overdue_message(request: AfterSalesRequest) -> str:
    with translation.override(_language_of(request)):
        return str(
            _(
                "We have not received the parcel you are returning for order %(order)s yet. A specialist is "
                "looking into it; if you have sent it, reply with its tracking number."
            )
            % {"order": request.order_number}
        )


def _done_message(request: AfterSalesRequest) -> str:
    with translation.override(_language_of(request)):
        amount = f"{request.amount_to_pay} {request.currency}".strip()
        if request.resolution == Resolution.REFUND:
            text = _("Your refund of %(amount)s for order %(order)s has been paid.")
        elif request.resolution == Resolution.RESHIP:
            text = _("The replacement for order %(order)s is on its way.")
        else:
            text = _("A coupon worth %(amount)s has been added to your account (order %(order)s).")
        return str(text % {"amount": amount, "order": request.order_number})


def is_fresh(category: str) -> bool:
    return category in FRESH_CATEGORIES
