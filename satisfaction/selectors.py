"""Reads of ratings: CSAT figures per queue and per agent, and the low ratings to follow up.

A window is a window of resolutions: a rating counts in the window its resolution fell in, so
the count of ratings, the share of 4–5 and the response rate describe the same work.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from satisfaction.models import SATISFIED_SCORE_MIN, Rating
from tickets.models import CloseReason, Ticket, TicketStatus


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


@dataclass(frozen=True)
class CsatFigures:
    """One window's satisfaction figures for a queue, an agent, or everyone."""

    ratings: int = 0  # ratings of resolutions in the window
    satisfied: int = 0  # of those, scores 4–5
    resolutions: int = 0  # tickets whose latest resolution is in the window
    rated_resolutions: int = 0  # of those, rated for that resolution

    @property
    def satisfied_share(self) -> float | None:
        """Scores of 4–5 ÷ ratings; None without ratings."""
        return _ratio(self.satisfied, self.ratings)

    @property
    def response_rate(self) -> float | None:
        """Rated resolutions ÷ resolutions; None without resolutions."""
        return _ratio(self.rated_resolutions, self.resolutions)

    def __add__(self, other: "CsatFigures") -> "CsatFigures":
        return CsatFigures(
            self.ratings + other.ratings,
            self.satisfied + other.satisfied,
            self.resolutions + other.resolutions,
            self.rated_resolutions + other.rated_resolutions,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ratings": self.ratings,
            "satisfied": self.satisfied,
            "satisfied_share": self.satisfied_share,
            "resolutions": self.resolutions,
            "rated_resolutions": self.rated_resolutions,
            "response_rate": self.response_rate,
        }


@dataclass(frozen=True)
class Csat:
    """Today and the last 7 days (today and the six days before)."""

    today: CsatFigures = CsatFigures()
    last_7_days: CsatFigures = CsatFigures()

    def __add__(self, other: "Csat") -> "Csat":
        return Csat(self.today + other.today, self.last_7_days + other.last_7_days)

    def as_dict(self) -> dict[str, Any]:
        return {"today": self.today.as_dict(), "last_7_days": self.last_7_days.as_dict()}


@dataclass(frozen=True)
class CsatBreakdown:
    by_queue: dict[int, Csat]  # queue id → figures
    by_agent: dict[int, Csat]  # agent's user id → figures
    overall: Csat


def _sum(parts: Iterable[Csat]) -> Csat:
    total = Csat()
    for part in parts:
        total = total + part
    return total


def csat_breakdown(*, today: datetime, week: datetime, now: datetime) -> CsatBreakdown:
    """CSAT per queue and per agent for resolutions in [today, now] and [week, now]. Two queries
    (ratings, and resolutions with whether each is rated), grouped by queue and agent together."""
    cells: dict[tuple[int | None, int | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    satisfied = Q(score__gte=SATISFIED_SCORE_MIN)
    in_day = Q(resolved_at__gte=today)
    for rating_row in (
        Rating.objects.filter(resolved_at__gte=week, resolved_at__lte=now)
        .values("queue_id", "agent_id")
        .annotate(
            week_ratings=Count("id"),
            week_satisfied=Count("id", filter=satisfied),
            day_ratings=Count("id", filter=in_day),
            day_satisfied=Count("id", filter=in_day & satisfied),
        )
        .order_by()
    ):
        key = (rating_row["queue_id"], rating_row["agent_id"])
        cells[key].update(
            week_ratings=rating_row["week_ratings"],
            week_satisfied=rating_row["week_satisfied"],
            day_ratings=rating_row["day_ratings"],
            day_satisfied=rating_row["day_satisfied"],
        )
    rated = Exists(Rating.objects.filter(ticket_id=OuterRef("pk"), resolved_at=OuterRef("resolved_at")))
    for ticket_row in (
        Ticket.objects.filter(resolved_at__gte=week, resolved_at__lte=now)
        .filter(Q(status=TicketStatus.RESOLVED) | Q(status=TicketStatus.CLOSED, close_reason=CloseReason.RESOLVED))
        .alias(rated=rated)
        .values("queue_id", "assigned_agent_id")
        .annotate(
            week_resolutions=Count("id"),
            week_rated=Count("id", filter=Q(rated=True)),
            day_resolutions=Count("id", filter=in_day),
            day_rated=Count("id", filter=in_day & Q(rated=True)),
        )
        .order_by()
    ):
        key = (ticket_row["queue_id"], ticket_row["assigned_agent_id"])
        cells[key].update(
            week_resolutions=ticket_row["week_resolutions"],
            week_rated=ticket_row["week_rated"],
            day_resolutions=ticket_row["day_resolutions"],
            day_rated=ticket_row["day_rated"],
        )

    by_queue: dict[int, list[Csat]] = defaultdict(list)
    by_agent: dict[int, list[Csat]] = defaultdict(list)
    everything: list[Csat] = []
    for (queue_id, agent_id), c in cells.items():
        figures = Csat(
            today=CsatFigures(c["day_ratings"], c["day_satisfied"], c["day_resolutions"], c["day_rated"]),
            last_7_days=CsatFigures(c["week_ratings"], c["week_satisfied"], c["week_resolutions"], c["week_rated"]),
        )
        everything.append(figures)
        if queue_id is not None:
            by_queue[queue_id].append(figures)
        if agent_id is not None:
            by_agent[agent_id].append(figures)
    return CsatBreakdown(
        by_queue={k: _sum(v) for k, v in by_queue.items()},
        by_agent={k: _sum(v) for k, v in by_agent.items()},
        overall=_sum(everything),
    )


def ratings_to_follow_up(*, limit: int = 20) -> list[Rating]:
    """Low ratings nobody has followed up yet, oldest first (they have waited longest). One query."""
    return list(
        Rating.objects.filter(needs_follow_up=True, followed_up_at__isnull=True)
        .select_related("ticket", "agent__agent_profile", "queue")
        .order_by("created_at", "id")[:limit]
    )


def count_to_follow_up() -> int:
    return Rating.objects.filter(needs_follow_up=True, followed_up_at__isnull=True).count()
