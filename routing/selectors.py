"""Reads for routing."""

import math
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet

from routing.models import Assignment, DeclineReason, Offer
from teams.models import SpecialistQueue
from teams.selectors import AGENT_QUEUES
from tickets.models import Ticket, TicketStatus


def celery_queue_names() -> list[str]:
    """Every Celery queue a worker serving all of the product must consume."""
    fixed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    fixed.add(settings.CELERY_TASK_DEFAULT_QUEUE)
    specialist = [queue.celery_queue for queue in SpecialistQueue.objects.order_by("slug")]
    return sorted(fixed) + specialist


def is_supervisor(user: User) -> bool:
    return user.has_perm("teams.supervise_queues")


def agent_queue_ids(user: User) -> set[int]:
    """The queues whose waiting tickets an agent may see: their skills' queues and triage (kept
    across requests until a skill, category or queue changes: teams.selectors.AGENT_QUEUES)."""

    def read() -> frozenset[int]:
        return frozenset(
            SpecialistQueue.objects.filter(
                Q(categories__skill_set__agent__user=user) | Q(kind=SpecialistQueue.Kind.TRIAGE)
            ).values_list("id", flat=True)
        )

    return set(AGENT_QUEUES.get(user.pk, read))


def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    """Supervisors see every ticket; an agent sees their own and those waiting in their queues."""
    tickets = Ticket.objects.select_related("queue", "category", "shopper", "assigned_agent")
    if is_supervisor(user):
        return tickets
    return tickets.filter(Q(assigned_agent=user) | Q(status=TicketStatus.QUEUED, queue_id__in=agent_queue_ids(user)))


def tickets_readable_by(user: User) -> QuerySet[Ticket]:
    """What the user may open to read: what they may see (tickets_visible_to), and for an agent
    also every ticket they once held that has since moved on (transferred, reassigned, returned to
    its queue). Reading is all: actions still ask tickets_visible_to and may_work."""
    if is_supervisor(user):
        return tickets_visible_to(user)
    worked_on = Assignment.objects.filter(agent=user).values("ticket_id")
    tickets = Ticket.objects.select_related("queue", "category", "shopper", "assigned_agent")
    return tickets.filter(
        Q(assigned_agent=user) | Q(status=TicketStatus.QUEUED, queue_id__in=agent_queue_ids(user)) | Q(pk__in=worked_on)
    )


@dataclass(frozen=True)
class OfferFigures:
    """How offers were answered since a moment: what the supervisor's dashboard shows."""

    offered: int
    accepted: int
    declined: int
    expired: int
    accept_mean_seconds: float | None
    accept_p90_seconds: float | None
    declines_by_reason: list[tuple[str, int]]

    @property
    def answered(self) -> int:
        return self.accepted + self.declined + self.expired

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted among offers that ended by the agent's doing (withdrawals do not count)."""
        return self.accepted / self.answered if self.answered else None


# The time-to-accept figures read at most this many accepted offers (the latest).
OFFER_FIGURES_SAMPLE = 10_000


def offer_figures(*, since: datetime) -> OfferFigures:
    """Offers made since `since`: three queries over the offered_at index (counts by state, the
    accepted offers' answer times, declines by reason)."""
    recent = Offer.objects.filter(offered_at__gte=since)
    by_state = dict(recent.values_list("state").annotate(n=Count("id")).order_by())
    waits = sorted(
        (ended - offered).total_seconds()
        for offered, ended in recent.filter(state=Offer.State.ACCEPTED)
        .order_by("-offered_at")
        .values_list("offered_at", "ended_at")[:OFFER_FIGURES_SAMPLE]
        if ended is not None
    )
    labels = dict(DeclineReason.choices)
    declines = [
        (str(labels.get(reason, "")) if reason else "", n)
        for reason, n in recent.filter(state=Offer.State.DECLINED)
        .values_list("decline_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "decline_reason")
    ]
    return OfferFigures(
        offered=sum(by_state.values()),
        accepted=by_state.get(Offer.State.ACCEPTED, 0),
        declined=by_state.get(Offer.State.DECLINED, 0),
        expired=by_state.get(Offer.State.EXPIRED, 0),
        accept_mean_seconds=sum(waits) / len(waits) if waits else None,
        accept_p90_seconds=waits[min(len(waits) - 1, math.ceil(0.9 * len(waits)) - 1)] if waits else None,
        declines_by_reason=declines,
    )
