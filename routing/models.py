"""Who had each ticket when, and why every routing decision was made."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import SpecialistQueue
from tickets.models import Ticket


class AssignmentReason(models.TextChoices):
    ROUTING = "routing", _("Routing")
    OVERFLOW = "overflow", _("Overflow (secondary skill)")
    HANDOFF = "handoff", _("Handoff to a person")
    REOPEN = "reopen", _("Reopened to former agent")
    TRANSFER = "transfer", _("Transfer to a named agent")
    SUPERVISOR = "supervisor", _("Reassigned by a supervisor")
    TAKEN = "taken", _("Taken by the agent")


class Assignment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="assignments")
    # Served by assignment_agent_started (agent first): no index of its own.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments", db_index=False
    )
    reason = models.CharField(max_length=20, choices=AssignmentReason.choices)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # The database's backstop against a ticket assigned twice by racing workers.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ended_at__isnull=True), name="one_active_assignment_per_ticket"
            ),
        ]
        indexes = [models.Index(fields=["agent", "started_at"], name="assignment_agent_started")]

    def __str__(self) -> str:
        return f"#{self.ticket_id} → {self.agent_id} ({self.reason})"


class RoutingDecision(models.Model):
    class Kind(models.TextChoices):
        ROUTE = "route", _("Queue chosen")
        ASSIGN = "assign", _("Agent chosen")
        NO_AGENT = "no_agent", _("No eligible agent: waiting")
        OVERFLOW = "overflow", _("Overflow widened eligibility")
        TRANSFER = "transfer", _("Transfer")
        ESCALATE = "escalate", _("Escalation")
        HANDOFF = "handoff", _("Handoff to a person")
        REQUEUE = "requeue", _("Returned to queue")
        OFFER = "offer", _("Offered to an agent")
        OFFER_DECLINED = "offer_declined", _("Offer declined")
        OFFER_EXPIRED = "offer_expired", _("Offer not answered in time")

    # Two rows per ticket are written on the hot path and read only by ticket (the index below):
    # the foreign keys carry no indexes of their own (a queue or user deleted: a rare, slower scan).
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="routing_decisions", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    queue = models.ForeignKey(
        SpecialistQueue, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    candidates = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=300, blank=True)
    latency_ms = models.FloatField(default=0.0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="routing_decision_ticket")]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.kind}"


class DeclineReason(models.TextChoices):
    BUSY = "busy", _("Busy with another shopper")
    SKILL = "skill", _("Outside my skills")
    LANGUAGE = "language", _("A language I do not serve")
    BREAK = "break", _("About to take a break")
    OTHER = "other", _("Other")


class Offer(models.Model):
    """A ticket reserved for one agent until they accept (an assignment follows), decline, or let
    it time out; a pending offer holds one slot of the agent's capacity (active_ticket_count).

    The state machine, in one table: pending -> accepted | declined | expired | withdrawn (the
    ticket moved on: transferred, cancelled, the agent went away). Every end is final.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Not answered in time")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    TRANSITIONS = {State.PENDING: frozenset({State.ACCEPTED, State.DECLINED, State.EXPIRED, State.WITHDRAWN})}

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers")
    queue = models.ForeignKey(SpecialistQueue, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    # The assignment reason an accept records (routing, overflow, handoff).
    reason = models.CharField(max_length=20, choices=AssignmentReason.choices)
    is_handoff = models.BooleanField(default=False)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    offered_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=12, choices=DeclineReason.choices, blank=True)

    class Meta:
        ordering = ["-offered_at", "-id"]
        constraints = [
            # The backstop against two agents holding the same ticket's offer (racing dispatch runs).
            models.UniqueConstraint(fields=["ticket"], condition=Q(state="pending"), name="one_live_offer_per_ticket"),
        ]
        indexes = [
            # The expiry sweep's query: pending offers by deadline, nothing else scanned.
            models.Index(fields=["expires_at"], condition=Q(state="pending"), name="offer_pending_expiry"),
            models.Index(fields=["agent"], condition=Q(state="pending"), name="offer_pending_agent"),
            models.Index(fields=["offered_at"], name="offer_offered_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} offered to {self.agent_id} ({self.state})"
