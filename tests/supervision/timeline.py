"""Build tickets on a constructed timeline: every timestamp given, nothing left to the clock."""

from datetime import datetime
from zoneinfo import ZoneInfo

from teams.models import AgentProfile
from tests.factories import TicketFactory, queue
from tickets.models import CloseReason, Ticket, TicketStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    """A moment in November 2026, Shanghai time (the dashboard's default "today")."""
    return datetime(2026, 11, day, hh, mm, ss, tzinfo=SHANGHAI)


def ticket(
    queue_slug: str,
    *,
    queued: datetime | None,
    assigned: datetime | None = None,
    resolved: datetime | None = None,
    abandoned: datetime | None = None,
    agent: AgentProfile | None = None,
) -> Ticket:
    """A ticket in a queue with the given history: waiting when only queued, assigned (held by
    `agent`) once assigned, resolved once resolved, closed as abandoned when abandoned."""
    status = TicketStatus.QUEUED
    fields: dict[str, object] = {}
    if assigned is not None:
        status = TicketStatus.ASSIGNED
        fields["assigned_agent"] = agent.user if agent else None
    if resolved is not None:
        status = TicketStatus.RESOLVED
    if abandoned is not None:
        status = TicketStatus.CLOSED
        fields["close_reason"] = CloseReason.ABANDONED
    return TicketFactory(
        queue=queue(queue_slug),
        status=status,
        created_at=queued or abandoned,
        queued_at=queued,
        first_assigned_at=assigned,
        resolved_at=resolved,
        closed_at=abandoned,
        **fields,
    )
