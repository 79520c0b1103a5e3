"""Writes on ratings: the shopper rates a resolution; a supervisor follows up a low one."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ConflictError
from core.events import emit
from satisfaction.models import COMMENT_MAX_LENGTH, LOW_SCORE_MAX, Rating
from tickets.events import notify_ticket_changed
from tickets.models import AuthorKind, CloseReason, Message, Ticket, TicketStatus

RATING_CREATED = "rating.created"


class NotRateable(ConflictError):
    """The ticket has no resolution to rate now (open, abandoned, cancelled, or rated too late)."""


class AlreadyRated(ConflictError):
    """This resolution already has a different rating."""


@dataclass(frozen=True)
class RatingResult:
    rating: Rating
    created: bool


def _clean(*, score: object, comment: str) -> tuple[int, str]:
    errors: dict[str, list[str]] = {}
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        errors["score"] = ["Give a whole number from 1 to 5."]
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        errors["comment"] = [f"Ensure this field has no more than {COMMENT_MAX_LENGTH} characters."]
    if errors:
        raise ValidationError(errors)
    assert isinstance(score, int)
    return score, comment


def is_rateable(ticket: Ticket) -> bool:
    """Resolved, or closed after a resolution: abandoned and cancelled inquiries were never served."""
    if ticket.resolved_at is None:
        return False
    return ticket.status == TicketStatus.RESOLVED or (
        ticket.status == TicketStatus.CLOSED and ticket.close_reason == CloseReason.RESOLVED
    )


def rate_ticket(*, ticket_id: int, score: int, comment: str = "") -> RatingResult:
    """Store the shopper's rating of the ticket's latest resolution.

    Atomic. Raises ValidationError (score not 1–5, comment too long), Ticket.DoesNotExist,
    NotRateable (not resolved, or resolved more than CSAT_RATING_WINDOW_DAYS ago) and AlreadyRated
    (this resolution has a different rating). Repeating the same rating returns the first one
    (created=False): a double tap or a retried request is harmless, a change of mind is refused.
    A score of 1–2 leaves an internal note and flags the rating for a supervisor's follow-up; every
    new rating emits "rating.created" inside the transaction (core.events).
    """
    score, comment = _clean(score=score, comment=comment)
    with transaction.atomic():
        # Locked: a reopen (a shopper message) cannot move the ticket between the checks and the insert.
        ticket = Ticket.objects.select_for_update(of=("self",)).filter(pk=ticket_id).first()
        if ticket is None:
            raise Ticket.DoesNotExist(f"No ticket {ticket_id}")
        if not is_rateable(ticket):
            raise NotRateable("This inquiry can be rated once it is resolved.")
        assert ticket.resolved_at is not None
        now = timezone.now()
        if now - ticket.resolved_at > timedelta(days=settings.CSAT_RATING_WINDOW_DAYS):
            raise NotRateable("This inquiry was resolved too long ago to be rated.")
        existing = Rating.objects.filter(ticket=ticket, resolved_at=ticket.resolved_at).first()
        if existing is not None:
            return _replay(existing, score=score, comment=comment)
        rating = Rating(
            ticket=ticket,
            resolved_at=ticket.resolved_at,
            score=score,
            comment=comment,
            agent_id=ticket.assigned_agent_id,
            queue_id=ticket.queue_id,
            created_at=now,
            needs_follow_up=score <= LOW_SCORE_MAX,
        )
        try:
            with transaction.atomic():
                rating.save(force_insert=True)
        except IntegrityError:
            # Backstop where the row lock is a no-op (SQLite): the racing first rating won.
            first = Rating.objects.filter(ticket=ticket, resolved_at=ticket.resolved_at).first()
            if first is None:
                raise
            return _replay(first, score=score, comment=comment)
        if rating.needs_follow_up:
            Message.objects.create(
                ticket=ticket,
                author_kind=AuthorKind.SYSTEM,
                is_internal=True,
                body=_low_rating_note(score=score, comment=comment),
                created_at=now,
            )
            notify_ticket_changed(ticket, kind="message")
        emit(
            RATING_CREATED,
            data={"rating_id": rating.id, "ticket_id": ticket.id, "score": score, "comment": comment},
            ticket_id=ticket.id,
        )
    return RatingResult(rating=rating, created=True)


def _replay(existing: Rating, *, score: int, comment: str) -> RatingResult:
    if existing.score == score and existing.comment == comment:
        return RatingResult(rating=existing, created=False)
    raise AlreadyRated("This resolution has already been rated. Thank you!")


def _low_rating_note(*, score: int, comment: str) -> str:
    # Stored text, read by agents of either language: both, like the queue names.
    head = f"客户满意度低：{score}/5 · Low satisfaction rating: {score}/5"
    return f"{head}\n{comment}" if comment else head


def follow_up_low_rating(*, rating_id: int, by: User) -> Rating:
    """Mark a flagged rating as followed up (it leaves the dashboard's list). Atomic; idempotent:
    the first supervisor's follow-up stands. Raises Rating.DoesNotExist, or ConflictError for a
    rating that was never flagged."""
    with transaction.atomic():
        rating = Rating.objects.select_for_update().filter(pk=rating_id).first()
        if rating is None:
            raise Rating.DoesNotExist(f"No rating {rating_id}")
        if not rating.needs_follow_up:
            raise ConflictError("Only low ratings are followed up.")
        if rating.followed_up_at is None:
            rating.followed_up_at = timezone.now()
            rating.followed_up_by = by
            rating.save(update_fields=["followed_up_at", "followed_up_by"])
    return rating
