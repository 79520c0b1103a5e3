"""After-sales requests (refunds, returns, reships, fresh-guarantee claims, coupons), the policies
that approve them without review, every decision on them, and the agents' approval limits."""

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import Category
from tickets.models import Message, Shopper, Ticket


class Kind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("Refund only")
    RETURN_REFUND = "return_refund", _("Return and refund")
    EXCHANGE = "exchange", _("Exchange for another item")
    RESHIP = "reship", _("Reship a missing or damaged item")
    FRESH_GUARANTEE = "fresh_guarantee", _("Fresh guarantee claim")
    COMPENSATION = "compensation", _("Compensation (coupon)")


class FreshProblem(models.TextChoices):
    ROTTEN = "rotten", _("Rotten or spoiled")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    SHORT_WEIGHT = "short_weight", _("Short weight")
    BROKEN = "broken", _("Broken")


class Stage(models.TextChoices):
    """Where the order is, from the order system: the policy that applies depends on it."""

    BEFORE_SHIPMENT = "before_shipment", _("Before shipment")
    IN_TRANSIT = "in_transit", _("In transit")
    AFTER_RECEIPT = "after_receipt", _("After receipt")


class Resolution(models.TextChoices):
    """What executing the request does through the order system."""

    REFUND = "refund", _("Refund")
    RESHIP = "reship", _("Reship")
    COUPON = "coupon", _("Coupon")


# The resolution each kind asks for (an agent may resolve with another: a reship, a coupon).
RESOLUTION_OF_KIND: dict[str, str] = {
    Kind.REFUND_ONLY: Resolution.REFUND,
    Kind.RETURN_REFUND: Resolution.REFUND,
    Kind.FRESH_GUARANTEE: Resolution.REFUND,
    Kind.EXCHANGE: Resolution.RESHIP,
    Kind.RESHIP: Resolution.RESHIP,
    Kind.COMPENSATION: Resolution.COUPON,
}
# Kinds that name items of the order (a coupon concerns the order as a whole).
KINDS_WITH_ITEMS = frozenset({Kind.REFUND_ONLY, Kind.RETURN_REFUND, Kind.FRESH_GUARANTEE, Kind.EXCHANGE, Kind.RESHIP})
# Kinds whose goods come back first: paid (refund) or replaced (reship) once the return is received.
KINDS_WITH_RETURN = frozenset({Kind.RETURN_REFUND, Kind.EXCHANGE})
# Categories the "rotten = refunded" guarantee covers.
FRESH_CATEGORIES = frozenset({"fresh_food", "flowers"})


class RequestStatus(models.TextChoices):
    """The request state machine; the allowed moves are in aftersales.states.TRANSITIONS."""

    REQUESTED = "requested", _("Requested")
    AUTO_APPROVED = "auto_approved", _("Approved automatically")
    PENDING_REVIEW = "pending_review", _("Waiting for a specialist")
    PENDING_SUPERVISOR = "pending_supervisor", _("Waiting for a supervisor's approval")
    APPROVED = "approved", _("Approved")
    AWAITING_RETURN = "awaiting_return", _("Approved: waiting for the returned parcel")
    RETURN_RECEIVED = "return_received", _("Return received")
    DENIED = "denied", _("Denied")
    EXECUTING = "executing", _("Being paid")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Opener(models.TextChoices):
    SHOPPER = "shopper", _("Shopper (shopper page)")
    STOREFRONT = "storefront", _("Storefront (API)")
    AGENT = "agent", _("Agent")
    SYSTEM = "system", _("System (proactive service)")


class DenialReason(models.TextChoices):
    OUTSIDE_WINDOW = "outside_window", _("Outside the after-sales window")
    NO_EVIDENCE = "no_evidence", _("The photos do not show the problem")
    NOT_COVERED = "not_covered", _("Not covered by the guarantee")
    ALREADY_RESOLVED = "already_resolved", _("Already refunded or compensated")
    PRODUCT_USED = "product_used", _("The product was used or damaged after delivery")
    RETURN_NOT_RECEIVED = "return_not_received", _("The returned parcel never arrived")
    OTHER = "other", _("Other reason")


class AfterSalesPolicy(models.Model):
    """When a request of a category at a stage of its order is approved without review.

    One row per (category, stage), and one per stage for every category without its own. Each
    request keeps a snapshot of the policy it was decided by (and its version), so editing a
    policy changes new requests only.
    """

    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="aftersales_policies",
        help_text="Blank: every category that has no policy of its own for this stage.",
    )
    stage = models.CharField(max_length=20, choices=Stage.choices)
    auto_approve = models.BooleanField(
        default=True, help_text="Off: every request of this category and stage goes to a specialist."
    )
    auto_kinds = models.JSONField(
        default=list,
        blank=True,
        help_text='Kinds approved without review, e.g. ["refund_only", "fresh_guarantee"].',
    )
    max_auto_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("200.00"), help_text="Above this amount: review."
    )
    window_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="After receipt: hours after delivery a request is approved without review (blank: no limit).",
    )
    photos_required = models.BooleanField(default=False, help_text="Without photos: review.")
    max_requests_90d = models.PositiveSmallIntegerField(
        default=5, help_text="The shopper's earlier requests in 90 days above which: review."
    )
    max_denied_share = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text="Share of the shopper's decided requests in 90 days that were denied (0–1) above which: review.",
    )
    min_account_age_days = models.PositiveSmallIntegerField(
        default=0, help_text="Accounts younger than this many days: review."
    )
    return_window_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1)],
        help_text=(
            "Return and refund, exchange: days from approval for the returned parcel to arrive; after that "
            "the request goes to a specialist (requests already waiting keep their deadline)."
        ),
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "after-sales policy"
        verbose_name_plural = "after-sales policies"
        ordering = ["category__slug", "stage"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "stage"], condition=Q(category__isnull=False), name="one_policy_per_category_stage"
            ),
            models.UniqueConstraint(fields=["stage"], condition=Q(category__isnull=True), name="one_default_per_stage"),
            models.CheckConstraint(
                condition=Q(max_denied_share__gte=0, max_denied_share__lte=1), name="policy_denied_share_0_to_1"
            ),
            models.CheckConstraint(condition=Q(max_auto_amount__gte=0), name="policy_amount_not_negative"),
            models.CheckConstraint(condition=Q(return_window_days__gte=1), name="policy_return_window_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category.slug if self.category else '*'} / {self.stage} v{self.version}"

    def clean(self) -> None:
        unknown = [k for k in self.auto_kinds or [] if k not in Kind.values] if isinstance(self.auto_kinds, list) else 0
        if not isinstance(self.auto_kinds, list) or unknown:
            raise ValidationError({"auto_kinds": f"A list of kinds from: {', '.join(Kind.values)}."})

    def snapshot(self) -> dict[str, Any]:
        """The rules as plain JSON, stored on each request it decides."""
        return {
            "id": self.pk,
            "version": self.version,
            "category": self.category.slug if self.category_id and self.category else None,
            "stage": self.stage,
            "auto_approve": self.auto_approve,
            "auto_kinds": list(self.auto_kinds or []),
            "max_auto_amount": str(self.max_auto_amount),
            "window_hours": self.window_hours,
            "photos_required": self.photos_required,
            "max_requests_90d": self.max_requests_90d,
            "max_denied_share": str(self.max_denied_share),
            "min_account_age_days": self.min_account_age_days,
            "return_window_days": self.return_window_days,
        }


class AfterSalesRequest(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="aftersales_requests")
    # The ticket's shopper, kept here: their standing (requests and denials in 90 days) is read by shopper.
    shopper = models.ForeignKey(Shopper, on_delete=models.PROTECT, related_name="aftersales_requests", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    resolution = models.CharField(max_length=10, choices=Resolution.choices)
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.REQUESTED)
    opened_by = models.CharField(max_length=12, choices=Opener.choices)
    opened_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The storefront's Idempotency-Key for the API call that opened it (a retry returns this request).
    client_key = models.CharField(max_length=128, null=True, blank=True)

    order_number = models.CharField(max_length=64)
    currency = models.CharField(max_length=3, blank=True)
    category_slug = models.CharField(max_length=40, blank=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    amount_requested = models.DecimalField(max_digits=12, decimal_places=2)
    amount_approved = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    reason = models.TextField(blank=True)
    fresh_problem = models.CharField(max_length=20, choices=FreshProblem.choices, blank=True)
    # The message carrying the shopper's photos (their evidence), if any.
    evidence = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    photo_count = models.PositiveSmallIntegerField(default=0)

    # The policy it was decided by, as it was then (a later edit changes new requests only).
    policy = models.ForeignKey(AfterSalesPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    policy_snapshot = models.JSONField(default=dict, blank=True)
    # The rule that made the latest decision, e.g. "within_policy", "amount_above_limit", "agent_approved".
    rule = models.CharField(max_length=60, blank=True)
    was_automatic = models.BooleanField(null=True, blank=True, help_text="Approved without review.")
    first_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agent whose approval above their limit waits for a supervisor's.",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    denial_reason = models.CharField(max_length=20, choices=DenialReason.choices, blank=True)
    denial_text = models.TextField(blank=True)

    # Execution through the order system.
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    result_reference = models.CharField(max_length=80, blank=True, help_text="Refund id, reshipment id or coupon code.")
    # Return and refund, exchange: the returned parcel, as the storefront or an agent reported it.
    return_received_at = models.DateTimeField(null=True, blank=True)
    return_tracking_number = models.CharField(max_length=64, blank=True)
    # awaiting_return: when the parcel is overdue and the request goes to a specialist (the sweep).
    return_due_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    executing_since = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_aftersales", "Can give the second approval of after-sales requests")]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "client_key"],
                condition=Q(client_key__isnull=False),
                name="one_request_per_client_key",
            ),
            models.CheckConstraint(condition=Q(amount_requested__gte=0), name="aftersales_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_approved__isnull=True) | Q(amount_approved__gte=0),
                name="aftersales_approved_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind="fresh_guarantee") | Q(photo_count__gte=1), name="fresh_claim_has_photos"
            ),
            # "Late = compensated" pays once per order, however often the proactive sweep runs.
            models.UniqueConstraint(
                fields=["order_number"],
                condition=Q(kind="compensation", opened_by="system"),
                name="one_system_compensation_per_order",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="aftersales_ticket"),
            models.Index(fields=["shopper", "created_at"], name="aftersales_shopper_created"),
            models.Index(fields=["created_at"], name="aftersales_created"),
            # The sweep reads only requests waiting to be (or being) executed.
            models.Index(
                fields=["updated_at"],
                condition=Q(status__in=["auto_approved", "approved", "return_received", "executing"]),
                name="aftersales_to_execute",
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["pending_review", "pending_supervisor"]),
                name="aftersales_waiting_decision",
            ),
            # The overdue-returns sweep reads only requests waiting for a parcel.
            models.Index(fields=["return_due_at"], condition=Q(status="awaiting_return"), name="aftersales_return_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} on {self.order_number} ({self.status})"

    @property
    def execution_key(self) -> str:
        """The idempotency key every call to the order system for this request carries."""
        return f"cx-aftersales-{self.public_id}"

    @property
    def amount_to_pay(self) -> Decimal:
        return self.amount_approved if self.amount_approved is not None else self.amount_requested


class ClaimKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    RESHIP = "reship", _("Reship")


class AfterSalesItem(models.Model):
    """An order item a request claims. While active, no other request may claim the same item of
    the same order for the same kind (refund or reship): the database refuses a double refund."""

    request = models.ForeignKey(AfterSalesRequest, on_delete=models.CASCADE, related_name="items")
    order_number = models.CharField(max_length=64)
    item_id = models.CharField(max_length=64)
    title = models.CharField(max_length=200, blank=True)
    quantity = models.PositiveIntegerField()
    claim = models.CharField(max_length=10, choices=ClaimKind.choices)
    # False once the request is denied: the item may be claimed again.
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_number", "item_id", "claim"],
                condition=Q(active=True),
                name="one_active_claim_per_order_item",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="aftersales_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_number}/{self.item_id} ×{self.quantity} ({self.claim})"


class DecisionAction(models.TextChoices):
    AUTO_APPROVE = "auto_approve", _("Approved automatically")
    REVIEW = "review", _("Sent for review")
    APPROVE = "approve", _("Approved")
    NEEDS_SECOND_APPROVAL = "needs_second_approval", _("Approved above the agent's limit: to a supervisor")
    DENY = "deny", _("Denied")
    AWAIT_RETURN = "await_return", _("Waiting for the returned parcel")
    RETURN_RECEIVED = "return_received", _("Return received")
    RETURN_OVERDUE = "return_overdue", _("Return window passed: to a specialist")
    FOLLOW_UP = "follow_up", _("Moved to a follow-up ticket (the first one was closed)")
    EXECUTE = "execute", _("Sent to the order system")
    DONE = "done", _("Done")
    FAIL = "fail", _("Failed")
    RETRY = "retry", _("Retried")


class AfterSalesDecision(models.Model):
    """The audit trail: every decision, with the rule or the person that made it."""

    request = models.ForeignKey(AfterSalesRequest, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=24, choices=DecisionAction.choices)
    rule = models.CharField(max_length=60, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "created_at"], name="aftersales_decision_request")]

    def __str__(self) -> str:
        return f"#{self.request_id} {self.action} ({self.rule})"


class ApprovalLimit(models.Model):
    """The amount an agent may approve alone; above it a supervisor gives the second approval.
    Agents without a row have settings.AFTERSALES_DEFAULT_APPROVAL_LIMIT."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_limit")
    max_amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal(0))])

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(max_amount__gte=0), name="approval_limit_not_negative")]

    def __str__(self) -> str:
        return f"{self.user} ≤ {self.max_amount}"


class FollowUp(models.Model):
    """A request that needed a person while its ticket was closed (closing is final, and a closed
    ticket is in no queue) moved to a new ticket for the same shopper and order. Both tickets'
    after-sales panels show the link. One row per request and closed ticket: the database keeps
    a re-run of the sweep from opening a second follow-up."""

    request = models.ForeignKey(AfterSalesRequest, on_delete=models.CASCADE, related_name="follow_ups")
    from_ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="+")
    to_ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="+")
    # Why a person was needed: the request's rule then (return_overdue, order_system).
    rule = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "from_ticket"], name="one_follow_up_per_closed_ticket"),
        ]

    def __str__(self) -> str:
        return f"#{self.request_id}: ticket {self.from_ticket_id} → {self.to_ticket_id}"
