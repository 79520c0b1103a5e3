"""What supervisors did (the audit log) and what the queues looked like minute by minute."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import SpecialistQueue


class SupervisorAction(models.Model):
    """One supervisor action, written in the same transaction as the change it records."""

    class Kind(models.TextChoices):
        REASSIGN_TICKET = "reassign_ticket", _("Reassign a ticket")
        SET_AGENT_STATUS = "set_agent_status", _("Set an agent's status")
        EDIT_AGENT = "edit_agent", _("Edit an agent's skills, languages and capacity")
        CHANGE_QUEUE_TARGETS = "change_queue_targets", _("Change a queue's targets")
        FOLLOW_UP_RATING = "follow_up_rating", _("Follow up a low satisfaction rating")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervisor_actions")
    action = models.CharField(max_length=30, choices=Kind.choices)
    # What was acted on, as "ticket" / "agent" / "queue" and its primary key; the label is a
    # snapshot so the log still reads well if the target is renamed later.
    target_type = models.CharField(max_length=20)
    target_id = models.CharField(max_length=40)
    target_label = models.CharField(max_length=200)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "created_at"], name="supervisor_action_target")]

    def __str__(self) -> str:
        return f"{self.actor} · {self.get_action_display()} · {self.target_label}"


class QueueSample(models.Model):
    """A queue's waiting count and 30-minute service level, taken once a minute (the sparklines)."""

    queue = models.ForeignKey(SpecialistQueue, on_delete=models.CASCADE, related_name="samples")
    minute = models.DateTimeField(help_text="The start of the minute the sample stands for (UTC).")
    waiting = models.PositiveIntegerField()
    # None: nothing was assigned or abandoned in the trailing 30 minutes, so there is no rate.
    service_level = models.FloatField(null=True, blank=True)
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["queue", "minute"]
        constraints = [
            # Two beat runs in the same minute (or two beats) store one sample: the second is a no-op.
            models.UniqueConstraint(fields=["queue", "minute"], name="one_sample_per_queue_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.queue} {self.minute:%H:%M} waiting={self.waiting}"
