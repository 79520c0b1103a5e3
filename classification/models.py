"""Classification decisions and the category labels agents give (training data)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import Category, Language
from tickets.models import Ticket


class Method(models.TextChoices):
    ORDER = "order", _("From the order")
    MODEL = "model", _("Text model")
    AGENT = "agent", _("Set by an agent")
    FALLBACK = "fallback", _("Low confidence: triage")


class ClassificationDecision(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="classification_decisions")
    # Read only by ticket; a category deleted is a rare, slower scan (no index of its own).
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    predicted_slug = models.CharField(max_length=40, blank=True)
    method = models.CharField(max_length=10, choices=Method.choices)
    confidence = models.FloatField()
    model_version = models.CharField(max_length=64, blank=True)
    intent = models.CharField(max_length=20, blank=True)
    signals = models.JSONField(default=list)
    latency_ms = models.FloatField(default=0.0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.predicted_slug} ({self.method}, {self.confidence:.2f})"


class CategoryLabel(models.Model):
    """An agent's correction of a ticket's category; train_classifier learns from these."""

    ticket = models.OneToOneField(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="label")
    text = models.TextField()
    language = models.CharField(max_length=5, choices=Language.choices)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="labels")
    labelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.category.slug}: {self.text[:40]}"
