"""The shopper notification outbox, its editable templates, and the inbound email log.

Everything a shopper receives (an agent's reply, a resolution, a reopened inquiry, a callback's
confirmation or reminder…) is one Notification row written in the transaction of the change it
reports, then sent, retried with backoff, and finally "failed" where the admin shows it.
"""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tickets.models import Message, Ticket


class NotificationChannel(models.TextChoices):
    EMAIL = "email", pgettext_lazy("notification channel", "Email")
    SMS = "sms", pgettext_lazy("notification channel", "SMS")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # waiting for its next attempt
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")  # gave up after the last attempt: a supervisor should look
    SUPPRESSED = "suppressed", _("Not sent: seen on the page")  # the shopper read it live


class TemplateLanguage(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class Notification(models.Model):
    """One message to a shopper: one row per (event, recipient, channel), which the idempotency
    key names, so a repeated event or a racing writer leaves a single row.

    `source` is what the notification is about when that lives in a higher app (a Callback):
    the higher app declares a GenericRelation to filter by it, and this app never imports it.
    """

    idempotency_key = models.CharField(max_length=200)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notifications", db_index=False)
    # The public message it carries (an agent's reply): delivery skips it once the shopper's page showed it.
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    source_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    # "reply", "resolved", "reopened", or a callback's "confirmation", "reminder", …
    kind = models.CharField(max_length=20)
    channel = models.CharField(max_length=10, choices=NotificationChannel.choices)
    recipient = models.CharField(max_length=254)
    language = models.CharField(max_length=7)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # An iCalendar file attached to the email (a callback's confirmation, reschedule); empty otherwise.
    ics = models.TextField(blank=True)
    # The signed address a shopper's email reply goes to (notifications.services.inbound).
    reply_to = models.CharField(max_length=254, blank=True)
    # True: not sent when the shopper's page showed it first (Ticket.shopper_seen_*), decided at send time.
    skip_if_seen = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Racing writers (or an event told twice) insert the same key: the database keeps one row.
            models.UniqueConstraint(fields=["idempotency_key"], name="one_outbox_notification_per_key"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending_due"),
            models.Index(fields=["status", "created_at"], name="outbox_status_created"),
            models.Index(fields=["ticket", "created_at"], name="outbox_ticket_created"),
            models.Index(fields=["source_type", "source_id"], name="outbox_source"),
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class NotificationTemplate(models.Model):
    """The words of one kind of notification on one channel in one language, in Django template
    syntax; edited in the admin (with a preview). A missing language falls back to the default."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("An agent replied")
        RESOLVED = "resolved", _("Inquiry resolved (asks for a rating)")
        REOPENED = "reopened", _("Inquiry reopened")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=NotificationChannel.choices)
    language = models.CharField(max_length=7, choices=TemplateLanguage.choices)
    subject = models.CharField(
        max_length=200, blank=True, help_text=_("Email only. Django template syntax, e.g. {{ ticket_id }}.")
    )
    body = models.TextField(
        help_text=_("Django template syntax. SMS: keep it short (70 Chinese or 160 Latin characters a part).")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ["kind", "channel", "language"]
        constraints = [models.UniqueConstraint(fields=["kind", "channel", "language"], name="one_template_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.get_channel_display()} · {self.get_language_display()}"


class InboundEmail(models.Model):
    """A shopper's email reply taken into a ticket; its Message-Id makes a redelivery harmless."""

    email_message_id = models.CharField(max_length=255, help_text="The email's Message-Id header.")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, null=True, on_delete=models.SET_NULL, related_name="+")
    sender = models.CharField(max_length=254, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["email_message_id"], name="one_inbound_email_per_message_id")]

    def __str__(self) -> str:
        return self.email_message_id
