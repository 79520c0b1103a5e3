"""Satisfaction ratings (CSAT): what the shopper said about one resolution of their ticket."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from teams.models import SpecialistQueue
from tickets.models import Ticket

COMMENT_MAX_LENGTH = 1000
# Scores at or below this flag the rating for a supervisor's follow-up (and leave an internal note).
LOW_SCORE_MAX = 2
# Scores at or above this count as "satisfied" (the share of 4–5 the dashboard shows).
SATISFIED_SCORE_MIN = 4


class Rating(models.Model):
    """One rating per resolution: a resolution is told apart by the ticket's resolved_at, which the
    resolve service stamps anew each time, so a reopened and re-resolved ticket may be rated again."""

    # The unique constraint's index (ticket first) serves every lookup by ticket.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ratings", db_index=False)
    resolved_at = models.DateTimeField(help_text="The resolution rated: the ticket's resolved_at at that time.")
    score = models.PositiveSmallIntegerField()
    comment = models.CharField(max_length=COMMENT_MAX_LENGTH, blank=True)
    # Who and where resolved it, kept on the rating: the ticket's agent and queue change when it
    # is reopened, the rating's attribution must not.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ratings_received"
    )
    queue = models.ForeignKey(
        SpecialistQueue, null=True, blank=True, on_delete=models.SET_NULL, related_name="ratings", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A low score asks a supervisor to follow up; done once someone has.
    needs_follow_up = models.BooleanField(default=False)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One rating per resolution, also when two submissions race.
            models.UniqueConstraint(fields=["ticket", "resolved_at"], name="one_rating_per_resolution"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"),
        ]
        indexes = [
            # The dashboard's windows (today, 7 days) are windows of resolutions.
            models.Index(fields=["resolved_at"], name="rating_resolved_at"),
            # Its list of low ratings still to follow up: only those rows are in the index.
            models.Index(
                fields=["created_at"],
                condition=Q(needs_follow_up=True, followed_up_at__isnull=True),
                name="rating_follow_up_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 on #{self.ticket_id}"

    @property
    def is_low(self) -> bool:
        return self.score <= LOW_SCORE_MAX
