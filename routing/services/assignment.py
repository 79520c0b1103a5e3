"""Assignment: give waiting tickets to the best eligible agents, a batch at a time, atomically.

Lock order, everywhere in routing: ticket rows first, then agent rows. A dispatch run claims the
head of a queue's line with SKIP LOCKED (racing runs take different tickets and never wait on
each other), then locks the queue's free agents with a plain FOR UPDATE in id order (so two runs
wanting the same agents queue up instead of deadlocking), matches in memory, and writes the whole
batch: one insert of assignments, one update of tickets, one update per distinct number of new
tickets per agent, one insert of decisions. The unique active-assignment constraint and the
capacity check constraint back this up.
"""

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections, router, transaction
from django.db.models import F, Field
from django.utils import timezone

from core.bulk import (
    Chain,
    Statement,
    column_names,
    convert_rows,
    converters,
    insert_statements,
    lock_clause,
    prep_value,
    select_rows,
    update_statements,
    write,
)
from core.events import Event, emit_many
from routing.models import Assignment, AssignmentReason, RoutingDecision
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


def assign_locked(
    *, ticket: Ticket, agent: AgentProfile, reason: str, candidates: int = 1, started: float | None = None
) -> None:
    """Give a locked ticket to a locked agent. The caller holds both row locks in its transaction."""
    agent.last_assigned_at = _write_assignments(
        [Pick(ticket, agent.pk, agent.user_id, reason, candidates)], started=started
    )
    agent.active_ticket_count += 1


def _write_assignments(picks: list[Pick], *, started: float | None) -> datetime:
    """Write a batch of assignments of locked tickets to locked agents (agents may repeat).
    Returns the time they carry."""
    now = timezone.now()
    latency_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    per_agent: Counter[int] = Counter()
    assignments, decisions = [], []
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
        per_agent[pick.agent_pk] += 1
        assignments.append(Assignment(ticket=ticket, agent_id=pick.agent_user_id, reason=pick.reason, started_at=now))
        decisions.append(
            RoutingDecision(
                ticket=ticket,
                kind=RoutingDecision.Kind.ASSIGN,
                queue_id=ticket.queue_id,
                agent_id=pick.agent_user_id,
                candidates=pick.candidates,
                reason=pick.reason,
                latency_ms=latency_ms,
                created_at=now,
            )
        )
    tickets = [pick.ticket for pick in picks]
    write(
        insert_statements(assignments),
        update_statements(tickets, ASSIGN_FIELDS),
        _count_statements(per_agent, now),
        insert_statements(decisions),
    )
    emit_many(events)
    notify_tickets_changed(tickets, kind="status")
    return now


def _count_statements(per_agent: Mapping[int, int], now: datetime) -> list[Statement]:
    """Add each locked agent's new tickets to its count: one statement per distinct number."""
    conn = connections[router.db_for_write(AgentProfile)]
    a = column_names(AgentProfile, conn)
    table = conn.ops.quote_name(AgentProfile._meta.db_table)
    stamp = AgentProfile._meta.get_field("last_assigned_at").get_db_prep_save(now, conn)
    by_count: dict[int, list[int]] = {}
    for agent_pk, count in per_agent.items():
        by_count.setdefault(count, []).append(agent_pk)
    return [
        Statement(
            f"UPDATE {table} SET {a['active_ticket_count']} = {a['active_ticket_count']} + %s,"
            f" {a['last_assigned_at']} = %s WHERE {a['id']} IN ({', '.join(['%s'] * len(agent_pks))})",
            [count, stamp, *sorted(agent_pks)],
        )
        for count, agent_pks in sorted(by_count.items())
    ]


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


def _lock_free_agents(queue: SpecialistQueue) -> list[FreeAgent]:
    """Lock the online agents with room who may serve this queue, in id order, with their skills
    in its categories (one statement: the agents joined to those skills)."""
    conn = connections[router.db_for_write(AgentProfile)]
    categories = sorted(queue_category_ids(queue.id))
    if queue.kind == SpecialistQueue.Kind.SPECIALIST and not categories:
        return []
    sql, chains = _free_agents_statement(conn.alias, queue.kind, len(categories))
    # In the statement's order: the join's categories, the agent filter, the supervisors' group.
    params: list[Any] = [*categories] if queue.kind == SpecialistQueue.Kind.SPECIALIST else []
    params.append(AgentStatus.ONLINE)
    if queue.kind == SpecialistQueue.Kind.ESCALATION:
        params.append(SUPERVISORS_GROUP)
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        rows = convert_rows(cursor.fetchall(), chains, conn)
    by_pk: dict[int, FreeAgent] = {}
    for pk, user_id, capacity, active, last, languages, category_id, level in rows:
        agent = by_pk.get(pk)
        if agent is None:
            agent = by_pk[pk] = FreeAgent(pk, user_id, capacity, active, last, languages, {})
        if category_id is not None:
            agent.skills[category_id] = level
    return list(by_pk.values())


@cache
def _free_agents_statement(alias: str, kind: str, categories: int) -> tuple[str, list[Chain]]:
    """The statement _lock_free_agents runs for a kind of queue (and number of categories)."""
    conn = connections[alias]
    qn = conn.ops.quote_name
    a = column_names(AgentProfile, conn)
    s = column_names(AgentSkill, conn)
    agents, skills = qn(AgentProfile._meta.db_table), qn(AgentSkill._meta.db_table)
    columns = ["id", "user_id", "capacity", "active_ticket_count", "last_assigned_at", "languages"]
    select = ", ".join(f"{agents}.{a[c]}" for c in columns)
    where = f"{agents}.{a['status']} = %s AND {agents}.{a['active_ticket_count']} < {agents}.{a['capacity']}"
    if kind == SpecialistQueue.Kind.SPECIALIST:
        placeholders = ", ".join(["%s"] * categories)
        sql = (
            f"SELECT {select}, {skills}.{s['category_id']}, {skills}.{s['level']} FROM {agents}"
            f" INNER JOIN {skills} ON {skills}.{s['agent_id']} = {agents}.{a['id']}"
            f" AND {skills}.{s['category_id']} IN ({placeholders}) WHERE {where}"
        )
    else:
        sql = f"SELECT {select}, NULL, NULL FROM {agents} WHERE {where}"
        if kind == SpecialistQueue.Kind.ESCALATION:
            members = qn(get_user_model().groups.through._meta.db_table)
            groups = qn(Group._meta.db_table)
            sql += (
                f" AND {agents}.{a['user_id']} IN (SELECT {members}.{qn('user_id')} FROM {members}"
                f" INNER JOIN {groups} ON {groups}.{qn('id')} = {members}.{qn('group_id')}"
                f" WHERE {groups}.{qn('name')} = %s)"
            )
    sql += f" ORDER BY {agents}.{a['id']}"
    sql += lock_clause(conn, agents)
    fields = [cast(Field, AgentProfile._meta.get_field(c)) for c in columns]
    return sql, converters(fields, conn)


def _match(tickets: Iterable[Ticket], queue: SpecialistQueue, agents: list[FreeAgent]) -> list[Pick]:
    """Each ticket in line order to the best agent it admits, counting what this batch gives."""
    picks = []
    now = timezone.now()
    for ticket in tickets:
        rule = eligibility_for(ticket, queue)
        eligible = [a for a in agents if a.active < a.capacity and rule.admits(a.languages, a.skills)]
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
        picks = _match(tickets, queue, agents)
        if picks:
            _write_assignments(picks, started=started)
    last = tickets[-1]
    assert last.queued_at is not None  # every queued ticket has one
    return len(picks), (last.priority, last.queued_at, last.pk), len(tickets)


def dispatch_queue(*, queue_id: int, limit: int | None = None) -> int:
    """Serve a queue's waiting line, by priority then age, while eligible agents are free.

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


_LINE_ORDER = "{priority} DESC, {queued_at} ASC, {id} ASC"
# Keyset pagination over (priority desc, queued_at asc, id asc).
_LINE_AFTER = "({priority} < %s OR ({priority} = %s AND {queued_at} > %s) OR ({priority} = %s AND {queued_at} = %s AND {id} > %s))"


def _claim_line(queue: SpecialistQueue, *, after: tuple[int, datetime, int] | None, size: int) -> list[Ticket]:
    """Lock the next `size` waiting tickets of the queue's line after `after` (SKIP LOCKED: rows
    another run holds are passed over)."""
    where = "{queue_id} = %s AND {status} = %s"
    params: list[object] = [queue.id, TicketStatus.QUEUED]
    if after is not None:
        priority, queued_at, ticket_id = after
        where += f" AND {_LINE_AFTER}"
        stamp = prep_value(Ticket, "queued_at", queued_at)
        params += [priority, priority, stamp, priority, stamp, ticket_id]
    return select_rows(Ticket, where=where, params=params, order_by=_LINE_ORDER, limit=size, skip_locked=True)
