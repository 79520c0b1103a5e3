"""Canned replies (macros): text an agent inserts into a reply, per queue or for every queue."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import SpecialistQueue


class ThenStatus(models.TextChoices):
    """What sending a reply written with the macro does to the ticket besides sending it."""

    NOTHING = "", _("Nothing more (the reply waits on the shopper)")
    WAITING_ON_SHOPPER = "waiting_on_shopper", _("Mark waiting on the shopper")
    RESOLVED = "resolved", _("Resolve the ticket")


class Macro(models.Model):
    name = models.CharField(_("name"), max_length=80)
    # Typed after "/" in the composer to find the macro (Chatwoot's short code).
    shortcut = models.SlugField(_("shortcut"), max_length=40, allow_unicode=False)
    # Blank: offered on every queue's tickets.
    queue = models.ForeignKey(
        SpecialistQueue,
        verbose_name=_("queue"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
    )
    body_en = models.TextField(_("text in English"), blank=True)
    body_zh = models.TextField(_("text in Chinese"), blank=True)
    then_status = models.CharField(
        _("then"), max_length=20, choices=ThenStatus.choices, default=ThenStatus.NOTHING, blank=True
    )
    usage_count = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["queue_id", "shortcut"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        constraints = [
            # One shortcut per queue, and one among the global macros ("/" must find one macro).
            models.UniqueConstraint(
                fields=["queue", "shortcut"], condition=Q(queue__isnull=False), name="macro_shortcut_per_queue"
            ),
            models.UniqueConstraint(fields=["shortcut"], condition=Q(queue__isnull=True), name="macro_shortcut_global"),
            models.CheckConstraint(condition=~Q(body_en="") | ~Q(body_zh=""), name="macro_has_a_text"),
            models.CheckConstraint(
                condition=Q(then_status__in=["", "waiting_on_shopper", "resolved"]), name="macro_then_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} {self.name}"

    def body_for(self, language: str) -> str:
        """The text in the shopper's language; the other one when only that was written."""
        if language.startswith("zh"):
            return self.body_zh or self.body_en
        return self.body_en or self.body_zh
