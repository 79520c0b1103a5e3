"""Reads for the console's screens: plain data with every relation the templates touch loaded."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin, User
from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When

from classification.models import ClassificationDecision
from console.history_text import reason_text
from console.priority import attach_priority_reasons
from console.push import SUPERVISORS_GROUP, agent_group, queue_group
from routing.models import Assignment, AssignmentReason, RoutingDecision
from routing.selectors import agent_queue_ids, is_supervisor, tickets_readable_by, tickets_visible_to
from teams.models import AgentProfile, SpecialistQueue
from tickets.models import Attachment, AuthorKind, Message, Ticket, TicketStatus
from tickets.states import HOLDS_AGENT

WORK_PERMISSION = "tickets.work_tickets"
# Screens show at most this many rows per list; the rest waits its turn (and the count says so).
LIST_LIMIT = 100


def can_work_tickets(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated or not isinstance(user, PermissionsMixin):
        return False
    return user.has_perm(WORK_PERMISSION)


def live_groups_for(user: User) -> list[str] | None:
    """The channel-layer groups whose hints this user's console listens to (None: not a worker)."""
    if not can_work_tickets(user):
        return None
    groups = [agent_group(user.pk), *(queue_group(queue_id) for queue_id in sorted(agent_queue_ids(user)))]
    if is_supervisor(user):
        groups.append(SUPERVISORS_GROUP)
    return groups


def agent_profile_of(user: User) -> AgentProfile | None:
    return AgentProfile.objects.filter(user=user).first()


def _with_wait(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    last_shopper_message = (
        Message.objects.filter(ticket=OuterRef("pk"), author_kind=AuthorKind.SHOPPER)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return tickets.select_related("assigned_agent__agent_profile").annotate(
        last_shopper_message_at=Subquery(last_shopper_message)
    )


def waiting_since(ticket: Ticket) -> datetime | None:
    """Since when the shopper has been waiting on us (None: we are waiting on the shopper)."""
    if ticket.status == TicketStatus.QUEUED:
        return ticket.queued_at or ticket.created_at
    if ticket.status == TicketStatus.ASSIGNED:
        last: datetime | None = getattr(ticket, "last_shopper_message_at", None)
        return last or ticket.created_at
    return None


@dataclass(frozen=True)
class TicketList:
    tickets: list[Ticket]
    total: int

    @property
    def is_truncated(self) -> bool:
        return self.total > len(self.tickets)


def _listed(tickets: QuerySet[Ticket]) -> TicketList:
    rows = list(tickets[:LIST_LIMIT])
    for ticket in rows:
        ticket.waiting_since = waiting_since(ticket)  # type: ignore[attr-defined]
    attach_priority_reasons(rows)
    total = len(rows) if len(rows) < LIST_LIMIT else tickets.count()
    return TicketList(tickets=rows, total=total)


@dataclass(frozen=True)
class QueueLines:
    """What every agent of the same queues sees alike: the line waiting in them, and for a
    supervisor the tickets other agents hold (a supervisor sees every queue)."""

    waiting: TicketList
    # Supervisors only.
    with_others: TicketList | None


def my_tickets(user: User) -> TicketList:
    """The agent's open tickets, those needing a reply first."""
    mine = (
        _with_wait(tickets_visible_to(user))
        .filter(assigned_agent=user, status__in=HOLDS_AGENT)
        .order_by(
            Case(When(status=TicketStatus.ASSIGNED, then=Value(0)), default=Value(1), output_field=IntegerField()),
            "-priority",
            "created_at",
        )
    )
    return _listed(mine)


def queue_lines(user: User) -> QueueLines:
    """The line in the agent's queues (every queue for a supervisor), and who holds the rest."""
    visible = _with_wait(tickets_visible_to(user))
    waiting = visible.filter(status=TicketStatus.QUEUED).order_by("-priority", "queued_at", "id")
    with_others = None
    if is_supervisor(user):
        others = (
            visible.filter(status__in=HOLDS_AGENT)
            .exclude(assigned_agent=user)
            .order_by("-priority", "first_assigned_at", "id")
        )
        with_others = _listed(others)
    return QueueLines(waiting=_listed(waiting), with_others=with_others)


def visible_ticket(user: User, ticket_id: int) -> Ticket | None:
    """The ticket when this user may see it; None otherwise (pages answer 404 either way)."""
    return tickets_visible_to(user).select_related("assigned_agent__agent_profile").filter(pk=ticket_id).first()


def readable_ticket(user: User, ticket_id: int) -> Ticket | None:
    """The ticket when this user may read it: visible_ticket's, plus those the agent once held."""
    return tickets_readable_by(user).select_related("assigned_agent__agent_profile").filter(pk=ticket_id).first()


def may_work(user: User, ticket: Ticket) -> bool:
    """Reply, transfer, escalate, resolve: the agent who holds the ticket, or a supervisor."""
    return ticket.assigned_agent_id == user.pk or is_supervisor(user)


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    label: str
    queue: SpecialistQueue | None
    agent: User | None
    detail: str
    is_assignment: bool = False
    ended_at: datetime | None = None


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    messages: list[Message]
    classification: ClassificationDecision | None
    history: list[HistoryEntry]
    shopper_ticket_count: int


def ticket_detail(ticket: Ticket) -> TicketDetail:
    """Conversation, latest classification and the routing history (oldest first) of one ticket."""
    messages = list(
        ticket.messages.select_related("author__agent_profile")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    classification = (
        ClassificationDecision.objects.filter(ticket=ticket).select_related("category").order_by("-created_at", "-id")
    ).first()
    history: list[HistoryEntry] = [
        HistoryEntry(
            at=decision.created_at,
            label=decision.get_kind_display(),
            queue=decision.queue,
            agent=decision.agent,
            detail=_decision_detail(decision),
        )
        for decision in RoutingDecision.objects.filter(ticket=ticket).select_related("queue", "agent__agent_profile")
    ]
    history += [
        HistoryEntry(
            at=assignment.started_at,
            label=assignment.get_reason_display(),
            queue=None,
            agent=assignment.agent,
            detail=reason_text(assignment.end_reason),
            is_assignment=True,
            ended_at=assignment.ended_at,
        )
        for assignment in Assignment.objects.filter(ticket=ticket).select_related("agent__agent_profile")
    ]
    history.sort(key=lambda entry: (entry.at, entry.is_assignment))
    return TicketDetail(
        ticket=ticket,
        messages=messages,
        classification=classification,
        history=history,
        shopper_ticket_count=Ticket.objects.filter(shopper_id=ticket.shopper_id).count(),
    )


def _decision_detail(decision: RoutingDecision) -> str:
    """An assignment decision's reason is an AssignmentReason value: show its (translated) label."""
    if decision.reason in AssignmentReason.values:
        return str(AssignmentReason(decision.reason).label)
    return reason_text(decision.reason)


def transfer_queues() -> list[SpecialistQueue]:
    return list(SpecialistQueue.objects.order_by("kind", "name"))


def transfer_agents(user: User) -> list[AgentProfile]:
    """Agents a ticket may be handed to by name (not the agent themself), with their load."""
    return list(AgentProfile.objects.select_related("user").exclude(user=user).order_by("user__username"))


def visible_attachment(user: User, ticket_id: int, attachment_id: int) -> Attachment | None:
    """A photo on a ticket this user may read (None otherwise: the view answers 404)."""
    if not tickets_readable_by(user).filter(pk=ticket_id).exists():
        return None
    return Attachment.objects.filter(pk=attachment_id, message__ticket_id=ticket_id).first()


def next_ticket_for(user: User, *, after: int | None = None) -> Ticket | None:
    """The next ticket awaiting this agent's reply (top priority, then oldest), other than `after`."""
    tickets = Ticket.objects.filter(assigned_agent=user, status=TicketStatus.ASSIGNED)
    if after is not None:
        tickets = tickets.exclude(pk=after)
    return tickets.order_by("-priority", "created_at", "id").first()
