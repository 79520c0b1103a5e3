"""Assignment: give waiting tickets to the best eligible agents, atomically.

Lock order, everywhere in routing: ticket rows first, then agent rows. Tickets are claimed
with SKIP LOCKED (racing workers take different tickets and never wait on each other); the one
agent row is locked with a plain FOR UPDATE and its capacity re-checked under the lock. With
that order no two transactions can wait on each other in a cycle.
"""

import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from routing.models import Assignment, AssignmentReason, RoutingDecision
from teams.models import AgentProfile, AgentStatus, SkillLevel, SpecialistQueue
from teams.selectors import queue_by_id
from teams.services import SUPERVISORS_GROUP
from tickets.models import Ticket, TicketStatus
from tickets.services import set_status

DISPATCH_SCAN_BATCH = 100
AGENT_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class Eligibility:
    """Who may take a ticket: the rule lives here and only here."""

    queue_kind: str
    category_ids: frozenset[int]
    allow_secondary: bool
    language: str

    @property
    def key(self) -> tuple[object, ...]:
        return (self.queue_kind, self.category_ids, self.allow_secondary, self.language)


def eligibility_for(ticket: Ticket, queue: SpecialistQueue) -> Eligibility:
    if ticket.category is not None and ticket.category.queue_id == queue.id:
        categories = frozenset({ticket.category.id})
    else:
        # Transferred or overflowed into another queue: that queue's own specialists serve it.
        categories = frozenset(queue.categories.values_list("id", flat=True))
    return Eligibility(
        queue_kind=queue.kind,
        category_ids=categories,
        allow_secondary=ticket.overflowed,
        language=ticket.language,
    )


def eligible_agents(rule: Eligibility) -> list[AgentProfile]:
    """Online agents below capacity who may take a ticket, best first: most free capacity, then
    longest since their last assignment."""
    agents: QuerySet[AgentProfile] = AgentProfile.objects.filter(
        status=AgentStatus.ONLINE, active_ticket_count__lt=F("capacity")
    )
    if rule.queue_kind == SpecialistQueue.Kind.ESCALATION:
        agents = agents.filter(user__groups__name=SUPERVISORS_GROUP)
    elif rule.queue_kind == SpecialistQueue.Kind.SPECIALIST:
        levels = [SkillLevel.PRIMARY, SkillLevel.SECONDARY] if rule.allow_secondary else [SkillLevel.PRIMARY]
        agents = agents.filter(skill_set__category_id__in=rule.category_ids, skill_set__level__in=levels)
    # Triage: any online agent who speaks the language can set the category.
    agents = (
        agents.annotate(free=F("capacity") - F("active_ticket_count"))
        .order_by("-free", F("last_assigned_at").asc(nulls_first=True), "id")
        .distinct()
    )
    return [agent for agent in agents if rule.language in agent.languages]


def _claim_agent(candidates: list[AgentProfile]) -> AgentProfile | None:
    """Lock the best candidate who still has room (another worker may have filled them)."""
    for agent in candidates[:AGENT_CLAIM_ATTEMPTS]:
        locked = (
            AgentProfile.objects.select_for_update(of=("self",))
            .filter(pk=agent.pk, status=AgentStatus.ONLINE, active_ticket_count__lt=F("capacity"))
            .first()
        )
        if locked is not None:
            return locked
    return None


def assign_locked(
    *, ticket: Ticket, agent: AgentProfile, reason: str, candidates: int = 1, started: float | None = None
) -> Assignment:
    """Give a locked ticket to a locked agent. The caller holds both row locks in its transaction.

    The unique active-assignment constraint and the capacity check constraint back this up.
    """
    now = timezone.now()
    assignment = Assignment.objects.create(ticket=ticket, agent_id=agent.user_id, reason=reason, started_at=now)
    AgentProfile.objects.filter(pk=agent.pk).update(
        active_ticket_count=F("active_ticket_count") + 1, last_assigned_at=now
    )
    agent.active_ticket_count += 1
    agent.last_assigned_at = now
    changed = set_status(ticket, TicketStatus.ASSIGNED, at=now)
    ticket.assigned_agent_id = agent.user_id
    changed.append("assigned_agent")
    if ticket.handoff_requested_at and ticket.handoff_assigned_at is None:
        ticket.handoff_assigned_at = now
        changed.append("handoff_assigned_at")
    ticket.save(update_fields=changed)
    RoutingDecision.objects.create(
        ticket=ticket,
        kind=RoutingDecision.Kind.ASSIGN,
        queue_id=ticket.queue_id,
        agent_id=agent.user_id,
        candidates=candidates,
        reason=reason,
        latency_ms=(time.perf_counter() - started) * 1000 if started else 0.0,
    )
    return assignment


def release_locked(*, ticket: Ticket, end_reason: str) -> int | None:
    """End a locked ticket's active assignment and free its agent's slot. Returns the agent's user id."""
    assignment = Assignment.objects.filter(ticket=ticket, ended_at__isnull=True).first()
    if assignment is None:
        return None
    assignment.ended_at = timezone.now()
    assignment.end_reason = end_reason
    assignment.save(update_fields=["ended_at", "end_reason"])
    AgentProfile.objects.filter(user_id=assignment.agent_id).update(active_ticket_count=F("active_ticket_count") - 1)
    return assignment.agent_id


def try_assign(
    ticket_id: int, *, queue: SpecialistQueue, cache: dict[tuple[object, ...], bool] | None = None
) -> bool | None:
    """One claim attempt for one waiting ticket, in its own short transaction.

    True: assigned. False: nobody eligible is free (remembered in cache by eligibility).
    None: the ticket is no longer waiting here, or another worker holds it.
    """
    started = time.perf_counter()
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("category")
            .filter(pk=ticket_id, status=TicketStatus.QUEUED, queue=queue)
            .first()
        )
        if ticket is None:
            return None
        rule = eligibility_for(ticket, queue)
        if cache is not None and cache.get(rule.key) is False:
            return False
        candidates = eligible_agents(rule)
        agent = _claim_agent(candidates)
        if agent is None:
            if cache is not None:
                cache[rule.key] = False
            return False
        reason = _reason_for(ticket, agent, rule)
        assign_locked(ticket=ticket, agent=agent, reason=reason, candidates=len(candidates), started=started)
    return True


def _reason_for(ticket: Ticket, agent: AgentProfile, rule: Eligibility) -> str:
    if ticket.handoff_requested_at and ticket.handoff_assigned_at is None:
        return AssignmentReason.HANDOFF
    if (
        rule.allow_secondary
        and not agent.skill_set.filter(category_id__in=rule.category_ids, level=SkillLevel.PRIMARY).exists()
    ):
        return AssignmentReason.OVERFLOW
    return AssignmentReason.ROUTING


def _anyone_free(queue: SpecialistQueue) -> bool:
    free = AgentProfile.objects.filter(status=AgentStatus.ONLINE, active_ticket_count__lt=F("capacity"))
    if queue.kind == SpecialistQueue.Kind.SPECIALIST:
        free = free.filter(skill_set__category__queue=queue)
    return free.exists()


def dispatch_queue(*, queue_id: int, limit: int = 200) -> int:
    """Serve a queue's waiting line, by priority then age, while eligible agents are free.

    Safe with any number of concurrent callers (tickets are claimed with SKIP LOCKED, agents
    re-checked under lock). Called by the routing.dispatch_queue task on the queue's own Celery
    queue, after routing, when agents come online or free capacity, and by the periodic sweep.
    Returns how many tickets it assigned.
    """
    queue = SpecialistQueue.objects.filter(pk=queue_id).first()
    if queue is None or not _anyone_free(queue):
        return 0
    assigned = 0
    no_agent: dict[tuple[object, ...], bool] = {}
    last_seen: tuple[int, object, int] | None = None
    while assigned < limit:
        batch = list(_waiting_line(queue, after=last_seen)[:DISPATCH_SCAN_BATCH])
        if not batch:
            break
        for ticket_id, _priority, _queued_at in batch:
            if try_assign(ticket_id, queue=queue, cache=no_agent):
                assigned += 1
                if assigned >= limit:
                    break
        last_seen = (batch[-1][1], batch[-1][2], batch[-1][0])
        if not _anyone_free(queue):
            break
    return assigned


def assign_ticket(*, ticket_id: int) -> bool:
    """Assign one freshly routed ticket, on its specialist queue's Celery queue.

    When nothing waits ahead of it in its queue this is one claim attempt for this ticket alone
    (no scan of the line); otherwise the queue is served in order, so it never jumps the line.
    """
    # One query: where the ticket waits, and whether anything waits ahead of it there.
    ahead = Ticket.objects.filter(queue_id=OuterRef("queue_id"), status=TicketStatus.QUEUED).filter(
        Q(priority__gt=OuterRef("priority")) | Q(priority=OuterRef("priority"), queued_at__lt=OuterRef("queued_at"))
    )
    row = (
        Ticket.objects.filter(pk=ticket_id, status=TicketStatus.QUEUED)
        .values("queue_id")
        .annotate(has_ahead=Exists(ahead))
        .first()
    )
    if row is None or row["queue_id"] is None:
        return False
    queue = queue_by_id(row["queue_id"])
    if queue is None:
        return False
    if row["has_ahead"]:
        return dispatch_queue(queue_id=queue.id) > 0
    return bool(try_assign(ticket_id, queue=queue))


def _waiting_line(queue: SpecialistQueue, *, after: tuple[int, object, int] | None) -> QuerySet:
    line = Ticket.objects.filter(queue=queue, status=TicketStatus.QUEUED)
    if after is not None:
        priority, queued_at, ticket_id = after
        # Keyset pagination over (priority desc, queued_at asc, id asc).
        line = line.filter(
            Q(priority__lt=priority)
            | Q(priority=priority, queued_at__gt=queued_at)
            | Q(priority=priority, queued_at=queued_at, id__gt=ticket_id)
        )
    return line.order_by("-priority", "queued_at", "id").values_list("id", "priority", "queued_at")
