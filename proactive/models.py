"""Proactive service: the storefront's order and delivery events, one row per in-flight order with
its latest state, the admin-editable anomaly rules, and the proactive cases they open.

The order row is the only thing the rules sweep reads: each rule walks a partial index that holds
just the orders it could still flag (in the right state, not yet flagged for that kind), so a sweep
over a million in-flight orders touches only the candidates.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from teams.models import Category
from tickets.models import Ticket


class EventType(models.TextChoices):
    PLACED = "order.placed", _("Order placed")
    PAID = "order.paid", _("Order paid")
    SHIPPED = "order.shipped", _("Shipped")
    SCAN = "logistics.scan", _("Logistics scan")
    DELIVERED = "order.delivered", _("Delivered")
    DELIVERY_FAILED = "delivery.failed", _("Delivery failed")
    RETURNED = "order.returned", _("Returned to sender")
    COLD_CHAIN_ALERT = "cold_chain.alert", _("Cold-chain alert")


class OrderState(models.TextChoices):
    PLACED = "placed", pgettext_lazy("order state", "Placed")
    PAID = "paid", pgettext_lazy("order state", "Paid")
    IN_TRANSIT = "in_transit", pgettext_lazy("order state", "In transit")
    DELIVERED = "delivered", pgettext_lazy("order state", "Delivered")
    DELIVERY_FAILED = "delivery_failed", pgettext_lazy("order state", "Delivery failed")
    RETURNED = "returned", pgettext_lazy("order state", "Returned to sender")


# States in which a parcel can still be late (not delivered, not on its way back).
NOT_YET_DELIVERED = ["placed", "paid", "in_transit", "delivery_failed"]
FINISHED = ["delivered", "returned"]


class AnomalyKind(models.TextChoices):
    STALLED = "stalled", _("Stalled: no scan while in transit")
    LATE = "late", _("Late: past the promised delivery date")
    FAILED = "failed", _("Delivery failed or returned")
    COLD_CHAIN = "cold_chain", _("Cold chain at risk")


class TrackedOrder(models.Model):
    """One in-flight order of a storefront client, with its latest state (upserted by ingestion;
    events may arrive out of order: each field keeps what the latest event by event time says)."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    order_number = models.CharField(max_length=64)
    shopper_external_id = models.CharField(max_length=64, blank=True)
    shopper_name = models.CharField(max_length=120, blank=True)
    shopper_phone = models.CharField(max_length=20, blank=True)
    shopper_email = models.EmailField(blank=True)
    shopper_language = models.CharField(max_length=5, blank=True)
    category_slug = models.CharField(max_length=40, blank=True)
    product_title = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    shipping_fee = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    promised_at = models.DateTimeField(null=True, blank=True)

    state = models.CharField(max_length=20, choices=OrderState.choices, default=OrderState.PLACED)
    # Event time of the event that set the state: an older event arriving late does not undo it.
    state_at = models.DateTimeField()
    placed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    # The last sign of movement: the latest scan, else the shipment (the stalled rule's clock).
    moved_at = models.DateTimeField(null=True, blank=True)
    last_scan_place = models.CharField(max_length=120, blank=True)
    last_scan_status = models.CharField(max_length=60, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    cold_chain_alert_at = models.DateTimeField(null=True, blank=True)
    cold_chain_detail = models.CharField(max_length=200, blank=True)

    # Set once a case of that kind exists: the row leaves that rule's index for good.
    stalled_flagged = models.BooleanField(default=False)
    late_flagged = models.BooleanField(default=False)
    failed_flagged = models.BooleanField(default=False)
    cold_chain_flagged = models.BooleanField(default=False)

    last_event_at = models.DateTimeField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tracked order")
        verbose_name_plural = _("tracked orders")
        constraints = [
            models.UniqueConstraint(fields=["client", "order_number"], name="one_tracked_order_per_client_number"),
        ]
        indexes = [
            # Stalled: in transit, no movement since the category's threshold.
            models.Index(
                fields=["category_slug", "moved_at"],
                condition=Q(state="in_transit", stalled_flagged=False),
                name="proactive_stalled_candidates",
            ),
            # Late: not delivered past the promised date.
            models.Index(
                fields=["category_slug", "promised_at"],
                condition=Q(state__in=NOT_YET_DELIVERED, late_flagged=False, promised_at__isnull=False),
                name="proactive_late_candidates",
            ),
            # Failed or returned.
            models.Index(
                fields=["category_slug", "state_at"],
                condition=Q(state__in=["delivery_failed", "returned"], failed_flagged=False),
                name="proactive_failed_candidates",
            ),
            # Cold chain: an alert, or fresh goods in transit too long.
            models.Index(
                fields=["category_slug", "cold_chain_alert_at"],
                condition=Q(cold_chain_alert_at__isnull=False, cold_chain_flagged=False),
                name="proactive_cold_alerts",
            ),
            models.Index(
                fields=["category_slug", "shipped_at"],
                condition=Q(state="in_transit", cold_chain_flagged=False),
                name="proactive_in_transit_since",
            ),
            # Pruning: finished orders, oldest first.
            models.Index(fields=["state_at"], condition=Q(state__in=FINISHED), name="proactive_finished_orders"),
        ]

    def __str__(self) -> str:
        return f"{self.order_number} ({self.state})"


class OrderEvent(models.Model):
    """One event as received (kept ORDER_EVENT_RETENTION_DAYS for the timeline); the unique event
    id per client makes a replayed event a no-op."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_id = models.CharField(max_length=64)
    order_number = models.CharField(max_length=64)
    type = models.CharField(max_length=20, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    # The event's own fields (place, status, carrier, …) as sent.
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        constraints = [models.UniqueConstraint(fields=["client", "event_id"], name="one_order_event_per_id")]
        indexes = [
            models.Index(fields=["client", "order_number", "occurred_at"], name="proactive_event_timeline"),
            models.Index(fields=["received_at"], name="proactive_event_received"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.order_number} ({self.event_id})"


class Compensation(models.TextChoices):
    NONE = "none", _("None")
    COUPON = "coupon", _("Coupon of a fixed value")
    SHIPPING_REFUND = "shipping_refund", _("Refund of the shipping fee")


class AnomalyRule(models.Model):
    """When an order is an anomaly, per category (a row without a category is the default for every
    category without its own). Edited in the admin; the next sweep applies the change."""

    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="anomaly_rules",
        help_text=_("Blank: every category without a rule of its own for this kind."),
    )
    kind = models.CharField(max_length=20, choices=AnomalyKind.choices)
    enabled = models.BooleanField(default=True)
    threshold_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Stalled: hours without a scan. Late: hours past the promised date. Failed: hours after the "
            "failure (0: at once). Cold chain: hours in transit for fresh goods (blank: alerts only)."
        ),
    )
    compensation = models.CharField(
        max_length=20,
        choices=Compensation.choices,
        default=Compensation.NONE,
        help_text=_("Late deliveries only: compensated without review, once per order."),
    )
    coupon_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("10.00"), validators=[MinValueValidator(Decimal("0.01"))]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("anomaly rule")
        verbose_name_plural = _("anomaly rules")
        ordering = ["kind", "category__slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "kind"], condition=Q(category__isnull=False), name="one_anomaly_rule_per_category"
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(category__isnull=True), name="one_default_anomaly_rule"
            ),
            models.CheckConstraint(condition=Q(coupon_amount__gt=0), name="anomaly_coupon_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} / {self.category.slug if self.category_id and self.category else '*'}"


class ProactiveCase(models.Model):
    """One anomaly of one order, and the proactive ticket it opened: at most one per order and kind."""

    order = models.ForeignKey(TrackedOrder, null=True, on_delete=models.SET_NULL, related_name="cases")
    kind = models.CharField(max_length=20, choices=AnomalyKind.choices)
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    order_number = models.CharField(max_length=64)
    category_slug = models.CharField(max_length=40, blank=True)
    shopper_external_id = models.CharField(max_length=64)
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="proactive_case")
    # What the rule saw, in plain data (the order row may be pruned later).
    facts = models.JSONField(default=dict)
    rule = models.ForeignKey(AnomalyRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    threshold_hours = models.PositiveIntegerField(null=True, blank=True)
    detected_at = models.DateTimeField(default=timezone.now)
    compensation = models.OneToOneField(
        "aftersales.AfterSalesRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="proactive_case"
    )

    class Meta:
        verbose_name = _("proactive case")
        verbose_name_plural = _("proactive cases")
        ordering = ["-detected_at"]
        constraints = [
            # Two sweeps racing over the same order leave one case (and so one ticket) per kind.
            models.UniqueConstraint(fields=["order", "kind"], name="one_proactive_case_per_order_kind"),
        ]
        indexes = [
            models.Index(fields=["detected_at"], name="proactive_case_detected"),
            models.Index(fields=["client", "order_number"], name="proactive_case_order"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.order_number}"


class JoinedInquiry(models.Model):
    """A shopper's inquiry that joined a proactive ticket instead of opening one: its
    Idempotency-Key makes a retried request return the same ticket without a second message."""

    case = models.ForeignKey(ProactiveCase, on_delete=models.CASCADE, related_name="joined")
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    message_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="one_join_per_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"join of case {self.case_id}"
