"""Scheduled callbacks and the per-queue rules they follow (their notifications go through the
shopper notification outbox, notifications.Notification).

Times are stored in UTC. Business hours are wall-clock times in the policy's own time zone, so a
slot at 09:00 stays at 09:00 local across a daylight-saving change (its UTC instant moves).
"""

from datetime import time

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.timezones import is_time_zone
from teams.models import SpecialistQueue
from tickets.models import Ticket


def validate_time_zone(value: str) -> None:
    if not is_time_zone(value):
        raise ValidationError(_("%(value)s is not a known time zone (e.g. Asia/Shanghai).") % {"value": value})


class CallbackPolicy(models.Model):
    """A specialist queue's callback rules. One per queue; created with defaults on demand
    (callbacks.services.policy_for) and by a data migration for the queues that existed."""

    queue = models.OneToOneField(SpecialistQueue, on_delete=models.CASCADE, related_name="callback_policy")
    time_zone = models.CharField(
        max_length=64,
        default="Asia/Shanghai",
        validators=[validate_time_zone],
        help_text="The time zone the business hours and holidays are written in.",
    )
    slot_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(240)], help_text="Length of a bookable slot."
    )
    callbacks_per_slot = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1)], help_text="How many callbacks may start in one slot."
    )
    retry_interval_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1)], help_text="After no answer, call again this much later."
    )
    max_attempts = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)], help_text="Calls without an answer before it is missed."
    )
    reminder_lead_minutes = models.PositiveIntegerField(
        default=60, help_text="The shopper is reminded this long before the call (0: as the call comes due)."
    )
    min_notice_minutes = models.PositiveIntegerField(
        default=15, help_text="A slot must start at least this far in the future to be bookable."
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(90)], help_text="How far ahead one may book."
    )

    class Meta:
        verbose_name_plural = "callback policies"

    def __str__(self) -> str:
        return f"Callbacks of {self.queue}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BusinessHours(models.Model):
    """One opening range on a weekday (a weekday may have several; none means closed)."""

    policy = models.ForeignKey(CallbackPolicy, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField(default=time(9, 0))
    closes = models.TimeField(default=time(18, 0))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = "business hours"
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="hours_close_after_opening"),
            models.UniqueConstraint(fields=["policy", "weekday", "opens"], name="one_range_per_opening"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Holiday(models.Model):
    """A local date on which the queue takes no callbacks."""

    policy = models.ForeignKey(CallbackPolicy, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["policy", "date"], name="one_holiday_per_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class CallbackStatus(models.TextChoices):
    """The callback state machine; the allowed moves are in callbacks.states.TRANSITIONS."""

    SCHEDULED = "scheduled", _("Scheduled")  # booked, waiting for its time
    DUE = "due", _("Due")  # surfaced to its agent or queue as top-priority work
    IN_PROGRESS = "in_progress", _("In progress")  # an agent is calling
    COMPLETED = "completed", _("Completed")  # reached (final)
    MISSED = "missed", _("Missed")  # no answer after the last attempt, or a wrong number (final)
    CANCELLED = "cancelled", _("Cancelled")  # by the shopper or an agent (final)


# Not yet final: counts against a slot's capacity.
ACTIVE_STATUSES = (CallbackStatus.SCHEDULED, CallbackStatus.DUE, CallbackStatus.IN_PROGRESS)


class Outcome(models.TextChoices):
    REACHED = "reached", _("Reached and resolved")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    RESCHEDULE = "reschedule", _("Shopper asked to reschedule")


class BookedBy(models.TextChoices):
    SHOPPER = "shopper", _("Shopper")
    AGENT = "agent", _("Agent")


class Callback(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="callbacks")
    # The queue whose hours, limits and agents serve it (the ticket's queue when booked).
    queue = models.ForeignKey(SpecialistQueue, on_delete=models.PROTECT, related_name="callbacks")
    # The agent who owns it; null: the queue owns it (any of its agents may call).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_callbacks"
    )
    booked_by = models.CharField(max_length=10, choices=BookedBy.choices)
    booked_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    phone = models.CharField(max_length=20)
    note = models.CharField(max_length=500, blank=True)
    # The call starts at scheduled_at; with window_end it may start any time until then.
    scheduled_at = models.DateTimeField()
    window_end = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=CallbackStatus.choices, default=CallbackStatus.SCHEDULED)
    # Bumped on every reschedule: notification keys include it, so a new time gets new messages.
    version = models.PositiveIntegerField(default=1)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Calls started so far.")
    outcome = models.CharField(max_length=15, choices=Outcome.choices, blank=True)
    # When the reminder is to go out; cleared by the dispatcher once the reminder is in the outbox.
    reminder_due_at = models.DateTimeField(null=True, blank=True)
    surfaced_at = models.DateTimeField(null=True, blank=True)
    # Whom it surfaced to: this agent, or (null) its queue because the owner was not online.
    surfaced_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="The shopper confirmed through the link.")
    completed_at = models.DateTimeField(null=True, blank=True)
    missed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Its messages to the shopper, in the general outbox (Notification.objects.filter(callback=…)).
    notifications = GenericRelation(
        "notifications.Notification",
        content_type_field="source_type",
        object_id_field="source_id",
        related_query_name="callback",
    )

    class Meta:
        ordering = ["scheduled_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__isnull=True) | Q(window_end__gt=models.F("scheduled_at")),
                name="callback_window_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status="missed") | Q(missed_at__isnull=False), name="missed_callback_has_missed_at"
            ),
            # One planned callback per inquiry (book_callback checks first, under a lock).
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status__in=["scheduled", "due", "in_progress"]),
                name="one_active_callback_per_ticket",
            ),
        ]
        indexes = [
            # The dispatcher's and the dashboard's scan: active callbacks by time.
            models.Index(
                fields=["scheduled_at"],
                condition=Q(status__in=["scheduled", "due", "in_progress"]),
                name="callback_active_by_time",
            ),
            # Reminders still to send (few rows: the index holds only those).
            models.Index(
                fields=["reminder_due_at"], condition=Q(reminder_due_at__isnull=False), name="callback_reminder_due"
            ),
            # "Missed today" on the dashboard.
            models.Index(fields=["missed_at"], condition=Q(missed_at__isnull=False), name="callback_missed_at"),
            # Slot capacity: active callbacks of a queue in a time range.
            models.Index(fields=["queue", "scheduled_at"], name="callback_queue_time"),
            models.Index(fields=["ticket", "scheduled_at"], name="callback_ticket_time"),
            # An agent's surfaced work at the top of the inbox.
            models.Index(fields=["surfaced_to", "status"], name="callback_surfaced_to"),
        ]

    def __str__(self) -> str:
        return f"Callback #{self.pk} for ticket #{self.ticket_id} at {self.scheduled_at:%Y-%m-%d %H:%M}Z"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class NotificationKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Confirmation")
    REMINDER = "reminder", _("Reminder")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    COMPLETED = "completed", _("Completed")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")
