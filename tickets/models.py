"""Shoppers, their inquiries (tickets) and the conversation on each."""

from django.conf import settings
from django.core.files.storage import Storage
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import Category, Language, SpecialistQueue
from tickets.tracking import new_tracking_nonce, tracking_token


class Shopper(models.Model):
    external_id = models.CharField(max_length=64, unique=True, help_text="The storefront's id.")
    name = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +8613800138000.")
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.ZH)
    time_zone = models.CharField(max_length=64, default="Asia/Shanghai")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["external_id"]

    def __str__(self) -> str:
        return self.name or self.external_id


class Channel(models.TextChoices):
    CHAT = "chat", _("Chat")
    ORDER_PAGE = "order_page", _("Order page")
    WEB_FORM = "web_form", _("Web form")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    PROACTIVE = "proactive", _("Proactive (from order events)")


class Intent(models.TextChoices):
    REFUND_RETURN = "refund_return", _("Refund / return")
    DELIVERY = "delivery", _("Delivery")
    QUALITY_DAMAGE = "quality_damage", _("Quality / damage")
    PRODUCT_QUESTION = "product_question", _("Product question")
    COMPLAINT = "complaint", _("Complaint")
    OTHER = "other", _("Other")


class TicketStatus(models.TextChoices):
    """The ticket state machine; the allowed moves are in tickets.states.TRANSITIONS."""

    NEW = "new", _("New")  # accepted; classification and routing pending
    QUEUED = "queued", _("Queued")  # waiting in a specialist queue for an agent
    ASSIGNED = "assigned", _("Assigned")  # an agent owns it
    WAITING_ON_SHOPPER = "waiting_on_shopper", _("Waiting on shopper")  # agent replied
    RESOLVED = "resolved", _("Resolved")  # a shopper message reopens it
    CLOSED = "closed", _("Closed")  # final


class CloseReason(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    ABANDONED = "abandoned", _("Abandoned by shopper before assignment")
    CANCELLED = "cancelled", _("Cancelled by shopper")


class Ticket(models.Model):
    PRIORITY_NORMAL = 0
    PRIORITY_TOP = 100

    # Foreign keys whose lookups an index below already serves carry no index of their own: every
    # ticket write (intake, routing, assignment) updates every index of this table.
    shopper = models.ForeignKey(Shopper, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    language = models.CharField(max_length=5, choices=Language.choices)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    intent = models.CharField(max_length=20, choices=Intent.choices, blank=True)
    signals = models.JSONField(default=list, blank=True)
    # Higher is served first; handoff to a person and due callbacks use PRIORITY_TOP.
    priority = models.SmallIntegerField(default=PRIORITY_NORMAL)
    needs_category = models.BooleanField(
        default=False, help_text="The classifier was unsure: an agent should set the category."
    )
    status = models.CharField(max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW)
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)
    queue = models.ForeignKey(
        SpecialistQueue, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
        db_index=False,
    )
    # Set when waiting past the queue's overflow time widens who may take it.
    overflowed = models.BooleanField(default=False)
    sla_breached = models.BooleanField(default=False)

    # Order snapshot, as the storefront sent it at intake.
    order_number = models.CharField(max_length=64, blank=True)
    order_product_title = models.CharField(max_length=200, blank=True)
    order_product_category = models.CharField(max_length=40, blank=True)
    order_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    order_currency = models.CharField(max_length=3, blank=True)
    order_paid = models.BooleanField(null=True, blank=True)
    order_shipped = models.BooleanField(null=True, blank=True)

    # The shopper's tracking token is derived from this (tickets.tracking); the token itself is
    # never stored.
    tracking_nonce = models.CharField(max_length=64, default=new_tracking_nonce, editable=False)
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submitted_tickets",
        help_text="The storefront API client that submitted it.",
        # Looked up with its Idempotency-Key (the unique index); deleting an API client is rare.
        db_index=False,
    )
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    # When the ticket entered its current queue, if it moved after it was first queued (overflow,
    # transfer, escalation): that queue's overflow clock starts here. queued_at keeps its place in line.
    queue_entered_at = models.DateTimeField(null=True, blank=True)
    first_assigned_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    handoff_requested_at = models.DateTimeField(null=True, blank=True)
    handoff_assigned_at = models.DateTimeField(null=True, blank=True)
    # The shopper's page last showed the conversation then, up to this public message: a
    # notification of what they saw there is not sent (tickets.services.record_shopper_seen).
    shopper_seen_at = models.DateTimeField(null=True, blank=True)
    shopper_seen_message_id = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("submit_inquiries", "Can submit inquiries through the storefront API"),
            ("work_tickets", "Can work tickets in the agent console"),
        ]
        constraints = [
            # One ticket per client and Idempotency-Key, also when two retries race.
            models.UniqueConstraint(
                fields=["client", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="one_ticket_per_idempotency_key",
            ),
            models.CheckConstraint(
                condition=~Q(status="assigned") | Q(assigned_agent__isnull=False),
                name="assigned_ticket_has_agent",
            ),
            models.CheckConstraint(
                condition=Q(order_amount__isnull=True) | Q(order_amount__gte=0),
                name="order_amount_not_negative",
            ),
        ]
        indexes = [
            # The waiting line of a queue: priority, then age.
            models.Index(fields=["queue", "status", "-priority", "queued_at"], name="ticket_waiting_line"),
            models.Index(fields=["status", "created_at"], name="ticket_status_created"),
            models.Index(fields=["assigned_agent", "status"], name="ticket_agent_status"),
            models.Index(fields=["shopper", "created_at"], name="ticket_shopper_created"),
            # Queue health (supervision.selectors): "today" and the trailing 30 minutes are read
            # through one index per timestamp, OR-ed by PostgreSQL as a bitmap (see the README).
            models.Index(fields=["queued_at"], name="ticket_queued_at"),
            models.Index(fields=["first_assigned_at"], name="ticket_first_assigned_at"),
            models.Index(fields=["resolved_at"], name="ticket_resolved_at"),
            # Only abandons count on the dashboard: the index holds just those closes.
            models.Index(fields=["closed_at"], condition=Q(close_reason="abandoned"), name="ticket_abandoned_at"),
            # The console's views, each read a page at a time by keyset (console.lists): an agent's
            # recent resolutions, every open ticket newest first, and the short line past its SLA.
            models.Index(
                fields=["assigned_agent", "-resolved_at", "-id"],
                condition=Q(resolved_at__isnull=False),
                name="ticket_agent_resolved",
            ),
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(status__in=["queued", "assigned", "waiting_on_shopper"]),
                name="ticket_open_created",
            ),
            models.Index(
                fields=["queued_at", "id"],
                condition=Q(status="queued", sla_breached=True),
                name="ticket_queued_past_sla",
            ),
            # Search by order number (exact); text and shoppers' names, phones and emails are found
            # through pg_trgm indexes made by migration (tickets 0007), PostgreSQL only.
            models.Index(fields=["order_number"], condition=~Q(order_number=""), name="ticket_order_number"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject or self.body[:40]}"

    @property
    def tracking_token(self) -> str:
        """The shopper's token (HMAC of SECRET_KEY over id and nonce); needs a saved ticket."""
        if self.pk is None:
            raise ValueError("A ticket has a tracking token once it is saved.")
        return tracking_token(self.pk, self.tracking_nonce)


class AuthorKind(models.TextChoices):
    SHOPPER = "shopper", _("Shopper")
    AGENT = "agent", _("Agent")
    SYSTEM = "system", _("System")


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    is_internal = models.BooleanField(default=False, help_text="Internal note: never shown to the shopper.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]
        constraints = [
            # Agents write internal notes, and so does the system (a low satisfaction rating
            # leaves one); a shopper never does.
            models.CheckConstraint(
                condition=~Q(is_internal=True) | Q(author_kind__in=["agent", "system"]),
                name="only_staff_write_internal_notes",
            )
        ]

    def __str__(self) -> str:
        return f"{self.author_kind} on #{self.ticket_id}"


def attachment_storage() -> Storage:
    """The "attachments" storage of settings.STORAGES (local files embedded, any django-storages
    backend in production). A callable, so the choice is read at run time, not frozen into migrations."""
    from django.core.files.storage import storages

    return storages["attachments"]


class Attachment(models.Model):
    """A photo on a message: re-encoded without its metadata (EXIF: location), under a random name
    that no public URL serves. Read only through views that check who may see the ticket."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(storage=attachment_storage, max_length=200)
    # Made by a Celery task after commit (tickets.make_thumbnails); blank until then.
    thumbnail = models.FileField(storage=attachment_storage, max_length=200, blank=True)
    content_type = models.CharField(max_length=40)
    original_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveIntegerField(help_text="Bytes as stored (after re-encoding).")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The thumbnail sweep reads only the few rows still waiting for theirs.
            models.Index(fields=["created_at"], condition=Q(thumbnail=""), name="attachment_needs_thumbnail"),
            # The orphaned-files sweep asks which stored names a row holds (tickets.orphans).
            models.Index(fields=["file"], name="attachment_file"),
            models.Index(fields=["thumbnail"], condition=~Q(thumbnail=""), name="attachment_thumbnail"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name or self.file.name} on message {self.message_id}"
