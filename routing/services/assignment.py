"""Assignment: give waiting tickets to the best eligible agents, a batch at a time, atomically.

Lock order, everywhere in routing: ticket rows first, then agent rows. A dispatch run claims the
head of a queue's line with SKIP LOCKED (racing runs take different tickets and never wait on
each other), then locks the queue's free agents with a plain FOR UPDATE in id order (so two runs
wanting the same agents queue up instead of deadlocking), matches in memory, and writes the whole
batch in one statement (assignments, tickets, agents' counts, decisions; on SQLite, the embedded
mode, the ORM writes the same rows). The unique active-assignment constraint and the capacity
check constraint back this up.
"""

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from core.events import Event, emit_many
from routing.models import Assignment, AssignmentReason, Offer, RoutingDecision
from routing.services.offer_holds import OfferPick, refused_pairs, wants_offer, write_offers
from teams.models import AgentProfile, AgentSkill, AgentStatus, SkillLevel, SpecialistQueue
from teams.selectors import queue_by_id, queue_category_ids
from teams.services import SUPERVISORS_GROUP
from tickets.domain_events import iso, ticket_event
from tickets.events import notify_tickets_changed
from tickets.models import Ticket, TicketStatus
from tickets.services import set_status

# Tickets taken from the head of a line per transaction.
DISPATCH_BATCH = 50
# One run assigns at most this many and looks at most this far down the line (tickets nobody
# present can take, e.g. for their language, are skipped over).
DISPATCH_LIMIT = 500
DISPATCH_SCAN_LIMIT = 2000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ASSIGN_FIELDS = ["status", "assigned_agent", "first_assigned_at", "handoff_assigned_at", "updated_at"]


@dataclass(frozen=True)
class Eligibility:
    """Who may take a ticket: the rule lives here and only here."""

    queue_kind: str
    category_ids: frozenset[int]
    allow_secondary: bool
    language: str

    def admits(self, languages: list[str], skills: Mapping[int, str]) -> bool:
        """For an online agent of the queue's pool (supervisors for escalation, everyone for
        triage, the queue's skilled agents for a specialist queue) with free capacity."""
        if self.language not in languages:
            return False
        if self.queue_kind != SpecialistQueue.Kind.SPECIALIST:
            return True
        levels = (SkillLevel.PRIMARY, SkillLevel.SECONDARY) if self.allow_secondary else (SkillLevel.PRIMARY,)
        return any(skills.get(category_id) in levels for category_id in self.category_ids)

    def reason(self, ticket: Ticket, skills: Mapping[int, str]) -> str:
        if ticket.handoff_requested_at and ticket.handoff_assigned_at is None:
            return AssignmentReason.HANDOFF
        if (
            self.allow_secondary
            and self.queue_kind == SpecialistQueue.Kind.SPECIALIST
            and not any(skills.get(c) == SkillLevel.PRIMARY for c in self.category_ids)
        ):
            return AssignmentReason.OVERFLOW
        return AssignmentReason.ROUTING


def eligibility_for(ticket: Ticket, queue: SpecialistQueue) -> Eligibility:
    categories = queue_category_ids(queue.id)
    if ticket.category_id is not None and ticket.category_id in categories:
        categories = frozenset({ticket.category_id})
    # Otherwise transferred or overflowed into another queue: that queue's own specialists serve it.
    return Eligibility(
        queue_kind=queue.kind,
        category_ids=categories,
        allow_secondary=ticket.overflowed,
        language=ticket.language,
    )


@dataclass
class FreeAgent:
    """A locked agent row, as a dispatch batch sees and spends it (plain values: a batch may
    look at dozens of agents to assign a handful of tickets)."""

    pk: int
    user_id: int
    capacity: int
    active: int
    last_assigned_at: datetime | None
    languages: list[str]
    skills: dict[int, str]  # category id -> level, for the queue's categories

    def best_first(self) -> tuple[int, datetime, int]:
        """Most free capacity first, then longest since the last assignment (never assigned first)."""
        return (self.active - self.capacity, self.last_assigned_at or _EPOCH, self.pk)


@dataclass
class Pick:
    ticket: Ticket
    agent_pk: int
    agent_user_id: int
    reason: str
    candidates: int


def astuple_pick(pick: Pick) -> tuple[Ticket, int, int, str, int]:
    return (pick.ticket, pick.agent_pk, pick.agent_user_id, pick.reason, pick.candidates)


def assign_locked(
    *, ticket: Ticket, agent: AgentProfile, reason: str, candidates: int = 1, started: float | None = None
) -> None:
    """Give a locked ticket to a locked agent. The caller holds both row locks in its transaction."""
    agent.last_assigned_at = _write_assignments(
        [Pick(ticket, agent.pk, agent.user_id, reason, candidates)], started=started
    )
    agent.active_ticket_count += 1


# The batch in one round trip, whatever its size: the picks travel as arrays (one element per
# ticket) and the statement's text never changes. Its data-modifying parts share one snapshot,
# so none may touch a row another touches: tickets, agents and the two logs are apart.
_WRITE_ASSIGNMENTS = """
WITH picks AS (
    SELECT * FROM unnest(
        %(ticket)s::bigint[], %(agent)s::bigint[], %(agent_user)s::bigint[], %(queue)s::bigint[],
        %(reason)s::varchar[], %(candidates)s::integer[],
        %(first_assigned_at)s::timestamptz[], %(handoff_assigned_at)s::timestamptz[]
    ) AS p (ticket_id, agent_id, agent_user_id, queue_id, reason, candidates, first_assigned_at, handoff_assigned_at)
), assignments AS (
    INSERT INTO routing_assignment (ticket_id, agent_id, reason, started_at, ended_at, end_reason)
    SELECT ticket_id, agent_user_id, reason, %(now)s, NULL, '' FROM picks
), tickets AS (
    UPDATE tickets_ticket AS t
    SET status = %(status)s, assigned_agent_id = p.agent_user_id, first_assigned_at = p.first_assigned_at,
        handoff_assigned_at = p.handoff_assigned_at, updated_at = %(now)s
    FROM picks AS p WHERE t.id = p.ticket_id
), agents AS (
    UPDATE teams_agentprofile AS a
    SET active_ticket_count = a.active_ticket_count + n.picked, last_assigned_at = %(now)s
    FROM (SELECT agent_id, count(*) AS picked FROM picks GROUP BY agent_id) AS n WHERE a.id = n.agent_id
), decisions AS (
    INSERT INTO routing_routingdecision (ticket_id, kind, queue_id, agent_id, candidates, reason, latency_ms, created_at)
    SELECT ticket_id, %(kind)s, queue_id, agent_user_id, candidates, reason, %(latency_ms)s, %(now)s FROM picks
)
SELECT 1
"""


def _write_assignments(picks: list[Pick], *, started: float | None) -> datetime:
    """Write a batch of assignments of locked tickets to locked agents (agents may repeat).
    Returns the time they carry."""
    now = timezone.now()
    latency_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    events: list[Event] = []
    for pick in picks:
        ticket = pick.ticket
        set_status(ticket, TicketStatus.ASSIGNED, at=now, announce=False)
        ticket.assigned_agent_id = pick.agent_user_id
        ticket.updated_at = now
        events.append(ticket_event("ticket.assigned", ticket, reason=pick.reason, assigned_at=iso(now)))
        if ticket.handoff_requested_at and ticket.handoff_assigned_at is None:
            ticket.handoff_assigned_at = now
            events.append(ticket_event("ticket.handoff_assigned", ticket, assigned_at=iso(now)))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _WRITE_ASSIGNMENTS,
                {
                    "ticket": [p.ticket.pk for p in picks],
                    "agent": [p.agent_pk for p in picks],
                    "agent_user": [p.agent_user_id for p in picks],
                    "queue": [p.ticket.queue_id for p in picks],
                    "reason": [p.reason for p in picks],
                    "candidates": [p.candidates for p in picks],
                    "first_assigned_at": [p.ticket.first_assigned_at for p in picks],
                    "handoff_assigned_at": [p.ticket.handoff_assigned_at for p in picks],
                    "status": TicketStatus.ASSIGNED,
                    "kind": RoutingDecision.Kind.ASSIGN,
                    "latency_ms": latency_ms,
                    "now": now,
                },
            )
    else:
        _write_assignments_by_orm(picks, now=now, latency_ms=latency_ms)
    emit_many(events)
    notify_tickets_changed([pick.ticket for pick in picks], kind="status")
    return now


def _write_assignments_by_orm(picks: list[Pick], *, now: datetime, latency_ms: float) -> None:
    """The same writes through the ORM, for the embedded mode (SQLite)."""
    Assignment.objects.bulk_create(
        Assignment(ticket=p.ticket, agent_id=p.agent_user_id, reason=p.reason, started_at=now) for p in picks
    )
    Ticket.objects.bulk_update([p.ticket for p in picks], ASSIGN_FIELDS)
    by_count: dict[int, list[int]] = {}
    for agent_pk, picked in Counter(p.agent_pk for p in picks).items():
        by_count.setdefault(picked, []).append(agent_pk)
    for picked, agent_pks in sorted(by_count.items()):
        AgentProfile.objects.filter(pk__in=agent_pks).update(
            active_ticket_count=F("active_ticket_count") + picked, last_assigned_at=now
        )
    RoutingDecision.objects.bulk_create(
        RoutingDecision(
            ticket=p.ticket,
            kind=RoutingDecision.Kind.ASSIGN,
            queue_id=p.ticket.queue_id,
            agent_id=p.agent_user_id,
            candidates=p.candidates,
            reason=p.reason,
            latency_ms=latency_ms,
            created_at=now,
        )
        for p in picks
    )


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


# The queue's free agents, locked in id order, each with its skills in the queue's categories
# (a row per skill; specialist queues take only agents with one, escalation only supervisors).
_LOCK_FREE_AGENTS = """
SELECT a.id, a.user_id, a.capacity, a.active_ticket_count, a.last_assigned_at, a.languages, s.category_id, s.level
FROM teams_agentprofile AS a
LEFT JOIN teams_agentskill AS s ON s.agent_id = a.id AND s.category_id = ANY(%(categories)s::bigint[])
WHERE a.status = %(online)s AND a.active_ticket_count < a.capacity
    AND (%(kind)s <> %(specialist)s OR s.id IS NOT NULL)
    AND (%(kind)s <> %(escalation)s OR a.user_id IN (
        SELECT m.user_id FROM auth_user_groups AS m JOIN auth_group AS g ON g.id = m.group_id WHERE g.name = %(supervisors)s
    ))
ORDER BY a.id
FOR UPDATE OF a
"""

_FREE_AGENT_FIELDS = ("id", "user_id", "capacity", "active_ticket_count", "last_assigned_at", "languages")


def _lock_free_agents(queue: SpecialistQueue) -> list[FreeAgent]:
    """Lock the online agents with room who may serve this queue, in id order, with their skills
    in its categories."""
    categories = sorted(queue_category_ids(queue.id))
    if queue.kind == SpecialistQueue.Kind.SPECIALIST and not categories:
        return []
    if connection.vendor != "postgresql":
        return _lock_free_agents_by_orm(queue, categories)
    with connection.cursor() as cursor:
        cursor.execute(
            _LOCK_FREE_AGENTS,
            {
                "categories": categories if queue.kind == SpecialistQueue.Kind.SPECIALIST else [],
                "online": AgentStatus.ONLINE,
                "kind": queue.kind,
                "specialist": SpecialistQueue.Kind.SPECIALIST,
                "escalation": SpecialistQueue.Kind.ESCALATION,
                "supervisors": SUPERVISORS_GROUP,
            },
        )
        rows = cursor.fetchall()
    by_pk: dict[int, FreeAgent] = {}
    for pk, user_id, capacity, active, last, languages, category_id, level in rows:
        agent = by_pk.get(pk)
        if agent is None:
            # jsonb arrives as text: Django's PostgreSQL backend leaves parsing to JSONField.
            agent = by_pk[pk] = FreeAgent(pk, user_id, capacity, active, last, json.loads(languages), {})
        if category_id is not None:
            agent.skills[category_id] = level
    return list(by_pk.values())


def _lock_free_agents_by_orm(queue: SpecialistQueue, categories: list[int]) -> list[FreeAgent]:
    """The same through the ORM, for the embedded mode (SQLite: its single writer serializes)."""
    agents = AgentProfile.objects.filter(status=AgentStatus.ONLINE, active_ticket_count__lt=F("capacity"))
    if queue.kind == SpecialistQueue.Kind.ESCALATION:
        agents = agents.filter(user__groups__name=SUPERVISORS_GROUP)
    free = [
        FreeAgent(pk, user_id, capacity, active, last, languages, {})
        for pk, user_id, capacity, active, last, languages in agents.select_for_update(of=("self",))
        .order_by("id")
        .values_list(*_FREE_AGENT_FIELDS)
    ]
    if queue.kind != SpecialistQueue.Kind.SPECIALIST:
        return free
    by_pk = {agent.pk: agent for agent in free}
    skills = AgentSkill.objects.filter(agent_id__in=by_pk, category_id__in=categories)
    for agent_pk, category_id, level in skills.values_list("agent_id", "category_id", "level"):
        by_pk[agent_pk].skills[category_id] = level
    return [agent for agent in free if agent.skills]


def _match(
    tickets: Iterable[Ticket],
    queue: SpecialistQueue,
    agents: list[FreeAgent],
    refused: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset(),
) -> list[Pick]:
    """Each ticket in line order to the best agent it admits, counting what this batch gives;
    never to an agent who declined or missed this ticket's offer lately (`refused`)."""
    picks = []
    now = timezone.now()
    for ticket in tickets:
        rule = eligibility_for(ticket, queue)
        eligible = [
            a
            for a in agents
            if a.active < a.capacity
            and rule.admits(a.languages, a.skills)
            and (not refused or (ticket.pk, a.user_id) not in refused)
        ]
        if not eligible:
            continue
        agent = min(eligible, key=FreeAgent.best_first)
        picks.append(Pick(ticket, agent.pk, agent.user_id, rule.reason(ticket, agent.skills), len(eligible)))
        agent.active += 1
        agent.last_assigned_at = now
    return picks


def _dispatch_batch(
    queue: SpecialistQueue, *, after: tuple[int, datetime, int] | None, size: int
) -> tuple[int, tuple[int, datetime, int] | None, int]:
    """One transaction: claim the next `size` tickets of the line, give what can be given.
    Returns (assigned, where the line was read up to, tickets read); 0 read = line exhausted,
    and None for the position means nobody is free."""
    started = time.perf_counter()
    with transaction.atomic():
        tickets = _claim_line(queue, after=after, size=size)
        if not tickets:
            return 0, after, 0
        agents = _lock_free_agents(queue)
        if not agents:
            return 0, None, len(tickets)
        if queue.may_offer:
            now = timezone.now()
            picks = _match(tickets, queue, agents, refused_pairs([t.pk for t in tickets], now=now))
            offers = [p for p in picks if wants_offer(queue, p.ticket)]
            write_offers(queue, [OfferPick(*astuple_pick(p)) for p in offers], now=now)
            picks = [p for p in picks if not wants_offer(queue, p.ticket)]
            if picks:
                _write_assignments(picks, started=started)
            picks.extend(offers)
        else:
            picks = _match(tickets, queue, agents)
            if picks:
                _write_assignments(picks, started=started)
    last = tickets[-1]
    assert last.queued_at is not None  # noqa: S101  # every queued ticket has one
    return len(picks), (last.priority, last.queued_at, last.pk), len(tickets)


def dispatch_queue(*, queue_id: int, limit: int | None = None) -> int:
    """Serve a queue's waiting line, by priority then age, while eligible agents are free.

    In an offer-mode queue (or for a handoff where the queue offers those) the chosen agent gets an
    offer instead (routing.services.offers): the count includes offers made.

    Safe with any number of concurrent callers. Run by the routing.dispatch_queue task on the
    queue's own Celery queue (kicked after routing, when agents come online or free capacity,
    and by the periodic sweep) and inline for a handoff (limit=1). Returns how many it assigned.
    """
    queue = queue_by_id(queue_id)
    if queue is None:
        return 0
    limit = DISPATCH_LIMIT if limit is None else limit
    assigned = scanned = 0
    after: tuple[int, datetime, int] | None = None
    while assigned < limit and scanned < DISPATCH_SCAN_LIMIT:
        count, after, read = _dispatch_batch(queue, after=after, size=min(DISPATCH_BATCH, limit - assigned))
        assigned += count
        scanned += read
        if read < DISPATCH_BATCH or after is None:  # the line is read to its end, or nobody is free
            break
    return assigned


def _claim_line(queue: SpecialistQueue, *, after: tuple[int, datetime, int] | None, size: int) -> list[Ticket]:
    """Lock the next `size` waiting tickets of the queue's line after `after`, by priority then
    age (SKIP LOCKED: rows another run holds are passed over, so racing runs never wait)."""
    line = Ticket.objects.filter(queue_id=queue.id, status=TicketStatus.QUEUED)
    if queue.may_offer:  # a ticket on offer waits for its agent's answer, not for another agent
        line = line.exclude(Exists(Offer.objects.filter(ticket_id=OuterRef("pk"), state=Offer.State.PENDING)))
    if after is not None:  # keyset pagination over (priority desc, queued_at asc, id asc)
        priority, queued_at, ticket_id = after
        line = line.filter(
            Q(priority__lt=priority)
            | Q(priority=priority, queued_at__gt=queued_at)
            | Q(priority=priority, queued_at=queued_at, id__gt=ticket_id)
        )
    line = line.order_by("-priority", "queued_at", "id").select_for_update(skip_locked=True, of=("self",))
    return list(line[:size])
