"""Outbound webhooks: endpoints per API client, the events they are told, and every attempt.

An event is stored once (WebhookEvent, keyed by seq, its uuid the envelope's id: the outbox row,
written in the transaction of the change); a delivery is that event for one endpoint (WebhookDelivery, made from
the event by the fan-out on the webhooks queue, see webhooks.fanout); each HTTP request is an
attempt (WebhookAttempt). Delivery is at least once: receivers deduplicate by the event id.
"""

import os
import secrets
import time
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


class WebhookEndpoint(models.Model):
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        help_text=_("The storefront API client this endpoint belongs to."),
    )
    url = models.URLField(max_length=500, help_text=_("Where events are POSTed (https in production)."))
    secret = models.CharField(
        max_length=100, default=new_secret, help_text=_("Signs every request (HMAC-SHA256); the receiver keeps a copy.")
    )
    event_types = models.JSONField(
        default=list, blank=True, help_text=_('Event types sent here, e.g. ["ticket.created"]; ["*"] for all.')
    )
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True, help_text=_("Off: no events are recorded or sent for it."))
    # Set when it kept failing (see webhooks.services.delivery); cleared when someone enables it again.
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The failure streak: attempts that failed since the last success, and when it began.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    # After a timeout, a connection error, a 429 or a run of failures the endpoint rests until then.
    paused_until = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["client_id", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    @property
    def is_deliverable(self) -> bool:
        return self.is_active and self.disabled_at is None

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


def event_uuids(count: int) -> list[str]:
    """Envelope ids that sort by time (the UUIDv7 layout: 48 bits of Unix milliseconds, then 74
    random bits), so the uuid index is written at its right-hand edge like the seq key, not on a
    random page. The writers make them (webhooks.outbox): cheaper for the database than
    gen_random_uuid() per row (bench/bench_event_layouts.py)."""
    ms = f"{time.time_ns() // 1_000_000:012x}"
    rand = os.urandom(10 * count).hex()
    return [
        # version 7; the variant's two bits (10) and 2 random ones make the 17th hex digit 8-b
        f"{ms[:8]}-{ms[8:]}-7{r[:3]}-{'89ab'[int(r[3], 16) & 3]}{r[4:7]}-{r[7:19]}"
        for r in (rand[20 * i : 20 * i + 20] for i in range(count))
    ]


def new_event_uuid() -> uuid.UUID:
    return uuid.UUID(event_uuids(1)[0])


class WebhookEvent(models.Model):
    """One thing that happened, as every subscribed endpoint receives it (the envelope's id, type,
    created_at and data). This is the outbox row the emitting transaction writes; the fan-out
    turns it into deliveries (fanned_out_at is set once it has).

    Keyed by seq, the order events were written in (an identity column: sequential B-tree
    inserts on the hot path); deliveries are made in this order. The envelope's id is uuid, with
    an index of its own for the few that look an event up by it (a resend of chosen events, the
    admin's search); time-ordered, so that index too is written at its end."""

    seq = models.BigAutoField(_("sequence number"), primary_key=True)
    uuid = models.UUIDField(_("event id"), default=new_event_uuid, editable=False)
    type = models.CharField(_("type"), max_length=64)
    # Not a foreign key: a plain ordering key, checked by nobody, costs the emitting write nothing.
    ticket_id = models.BigIntegerField(_("ticket id"), null=True, blank=True)
    data = models.JSONField(_("data"))
    # No index: time ranges go through seq (the prune walks it from the oldest) or through the
    # delivery log's own (endpoint, created_at) index.
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    fanned_out_at = models.DateTimeField(_("fanned out at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [
            models.Index(fields=["uuid"], name="webhook_event_uuid"),
            # What the fan-out reads: the events not fanned out yet, in order (a small index,
            # since rows leave it within milliseconds).
            models.Index(fields=["seq"], condition=Q(fanned_out_at__isnull=True), name="webhook_event_to_fan_out"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uuid}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # to send, or to retry at next_attempt_at
    DELIVERED = "delivered", _("Delivered")  # a 2xx came back
    FAILED = "failed", _("Failed")  # a 4xx that retrying cannot fix, or retried until give_up_at


class WebhookDelivery(models.Model):
    """The outbox row: an event for one endpoint. Sent in id order per (endpoint, ticket)."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    ticket_id = models.BigIntegerField(null=True, blank=True)  # the event's: the ordering key
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Retries stop after this (WEBHOOK_RETRY_HOURS after the event, or after a resend).
    give_up_at = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            # An event reaches an endpoint through one row; a resend reuses it.
            models.UniqueConstraint(fields=["endpoint", "event"], name="one_delivery_per_endpoint_and_event"),
        ]
        indexes = [
            # What a delivery run claims: an endpoint's due rows.
            models.Index(
                fields=["endpoint", "next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"
            ),
            # "Is an earlier event of this ticket still pending for this endpoint?" (the order).
            models.Index(
                fields=["endpoint", "ticket_id", "id"], condition=Q(status="pending"), name="webhook_delivery_order"
            ),
            # The delivery log and resends over a time range.
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} of event {self.event_id}"


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    RETRY = "retry", _("Will retry")
    FAILED = "failed", _("Failed for good")


class WebhookAttempt(models.Model):
    """One HTTP request: what came back and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.FloatField()
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery_id", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"
