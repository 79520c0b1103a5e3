"""Who serves what: product categories, specialist queues, agents and their skills."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ZH = "zh", "中文"
    EN = "en", "English"


class Category(models.Model):
    """A product category: the unit of specialist knowledge (jewelry, maternal_baby, ...)."""

    slug = models.SlugField(max_length=40, unique=True)
    name_zh = models.CharField(max_length=60)
    name_en = models.CharField(max_length=60)
    # The category -> queue mapping that routing follows; editable in the admin.
    queue = models.ForeignKey(
        "SpecialistQueue",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="categories",
        help_text="The specialist queue that serves this category.",
    )

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return f"{self.name_en} / {self.name_zh}"


def localized_name(name: str, name_zh: str, language: str | None = None) -> str:
    """The Chinese name for a Chinese reader when there is one, else the English name."""
    language = language or get_language() or ""
    return name_zh if name_zh and language.startswith("zh") else name


class SpecialistQueue(models.Model):
    class Kind(models.TextChoices):
        SPECIALIST = "specialist", _("Specialist")
        TRIAGE = "triage", _("General triage")
        ESCALATION = "escalation", _("Supervisors (escalation)")

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    name_zh = models.CharField(max_length=80, blank=True, help_text="Chinese name; blank shows the English one.")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SPECIALIST)
    service_level_seconds = models.PositiveIntegerField(default=120, help_text="Target time from queued to assigned.")
    # The dashboard colours a queue's tile when its service level falls below this share.
    service_level_target_percent = models.PositiveSmallIntegerField(
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Share of tickets that should be assigned within the service-level time (1-100 %).",
    )
    overflow_seconds = models.PositiveIntegerField(
        default=300,
        help_text="After this wait, agents with a secondary skill (then the secondary queue) may take it.",
    )
    secondary_queue = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="overflow_sources"
    )

    class Mode(models.TextChoices):
        PUSH = "push", _("Push: assign at once")
        OFFER = "offer", _("Offer: the agent accepts or declines")

    # Push gives a ticket to the chosen agent at once; offer reserves a slot of theirs and waits for
    # Accept (routing.services.offers), so a ticket only reaches a person who is looking.
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.PUSH)
    offer_timeout_seconds = models.PositiveSmallIntegerField(
        default=20,
        validators=[MinValueValidator(5), MaxValueValidator(600)],
        help_text="How long an agent has to accept an offer before it goes to the next one (5-600 s).",
    )
    # None follows the queue's mode: push queues keep their immediate handoff, offer queues offer it.
    handoff_offer = models.BooleanField(
        null=True,
        blank=True,
        choices=[
            (None, _("Same as the queue's mode")),
            (True, _("Always offer a handoff")),
            (False, _("Always push a handoff")),
        ],
        help_text="How a shopper's request for a person reaches an agent.",
    )
    handoff_offer_timeout_seconds = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
        help_text="The shorter time to accept a handoff offer (5-120 s).",
    )

    class Meta:
        ordering = ["slug"]
        permissions = [("supervise_queues", "Can watch queue health and act as a supervisor")]
        constraints = [
            models.CheckConstraint(
                condition=Q(service_level_target_percent__gte=1, service_level_target_percent__lte=100),
                name="queue_service_level_target_is_a_percentage",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A queue's overflow chain must end: a cycle would pass waiting tickets round for ever."""
        seen = {self.pk} if self.pk else set()
        nxt = self.secondary_queue
        while nxt is not None:
            if nxt.pk in seen or nxt.pk == self.pk:
                raise ValidationError(
                    {
                        "secondary_queue": _(
                            "This secondary queue leads back to %(queue)s: overflow would go round in a circle."
                        )
                        % {"queue": self.slug or _("this queue")}
                    }
                )
            seen.add(nxt.pk)
            nxt = nxt.secondary_queue

    @property
    def offers_work(self) -> bool:
        return self.mode == self.Mode.OFFER

    @property
    def offers_handoffs(self) -> bool:
        return self.offers_work if self.handoff_offer is None else self.handoff_offer

    @property
    def may_offer(self) -> bool:
        """Whether dispatch may make offers in this queue (else it runs exactly as push always did)."""
        return self.offers_work or self.offers_handoffs

    @property
    def label(self) -> str:
        """The name in the active language (the reader's: an agent's console, a shopper's message)."""
        return localized_name(self.name, self.name_zh)

    @property
    def celery_queue(self) -> str:
        """The Celery queue that runs assignment work for this specialist queue."""
        return f"assign.{self.slug}"


class AgentStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile")
    display_name = models.CharField(max_length=80, blank=True)
    languages = models.JSONField(default=list, help_text='Language codes, e.g. ["zh", "en"].')
    capacity = models.PositiveSmallIntegerField(default=3, help_text="Max concurrent tickets.")
    # Maintained by routing under a row lock, in the same transaction as the assignment rows;
    # the check constraints below are the database's backstop against over-assignment.
    active_ticket_count = models.PositiveSmallIntegerField(default=0, editable=False)
    status = models.CharField(max_length=10, choices=AgentStatus.choices, default=AgentStatus.OFFLINE)
    status_since = models.DateTimeField(default=timezone.now)
    # Presence: when a console of this agent last spoke (websocket connect or heartbeat), and
    # whether the current status was set because no console was open (not chosen by a person).
    last_seen_at = models.DateTimeField(null=True, blank=True)
    status_set_by_presence = models.BooleanField(default=False)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # Live offers to this agent (each also counted in active_ticket_count: it holds a slot), kept
    # under the same row lock; the console looks the offers up only when this is above zero.
    pending_offer_count = models.PositiveSmallIntegerField(default=0, editable=False)
    # Offers that timed out in a row; an accept, a decline or going Online resets it. Reaching
    # OFFER_MISSES_BEFORE_AWAY sets the agent Away, and the dashboard says why.
    missed_offer_streak = models.PositiveSmallIntegerField(default=0, editable=False)
    time_zone = models.CharField(max_length=64, default="Asia/Shanghai")
    # The console's interface language; blank follows the browser (Accept-Language).
    ui_language = models.CharField(
        max_length=10,
        blank=True,
        default="",
        choices=[("en", "English"), ("zh-hans", "简体中文")],
        help_text="Console language; blank follows the browser.",
    )
    skills = models.ManyToManyField(Category, through="AgentSkill", related_name="agents")

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="agent_capacity_at_least_one"),
            models.CheckConstraint(
                condition=Q(active_ticket_count__lte=F("capacity")),
                name="agent_never_over_capacity",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()

    def clean(self) -> None:
        # Lowering capacity below the open tickets would break the capacity constraint.
        if self.capacity is not None and self.capacity < self.active_ticket_count:
            raise ValidationError(
                {
                    "capacity": f"This agent holds {self.active_ticket_count} open tickets; capacity cannot go below that."
                }
            )


class SkillLevel(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    SECONDARY = "secondary", _("Secondary")


class AgentSkill(models.Model):
    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="skill_set")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="skill_set")
    level = models.CharField(max_length=10, choices=SkillLevel.choices, default=SkillLevel.PRIMARY)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "category"], name="one_skill_per_agent_category")]

    def __str__(self) -> str:
        return f"{self.agent}: {self.category.slug} ({self.level})"


class ApiToken(models.Model):
    """An API credential of a user (a storefront client, an agent's integration, a wallboard).

    Only the SHA-256 digest of the token is stored: a copy of the database opens no API. Tokens
    are long random strings, so a fast hash is enough (no password stretching); the token itself
    is shown once, when it is issued (teams.services.issue_api_token).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, to tell a user's tokens apart in the admin; not enough to use one.
    prefix = models.CharField(max_length=8, editable=False)
    name = models.CharField(max_length=80, blank=True, help_text="What uses this token, e.g. storefront-web.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["user_id", "created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user_id})"
