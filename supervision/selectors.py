"""Reads for the supervisors' dashboard: queue health, the agent board, sparklines, the audit log.

Each metric is defined once, here, exactly as the README states it. Everything is computed in a
small fixed number of queries (conditional aggregation grouped by queue), however many queues,
agents or tickets there are; tests hold the query counts.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from callbacks.selectors import callback_counts_by_queue
from console import live
from satisfaction.selectors import Csat, CsatBreakdown, count_to_follow_up, csat_breakdown
from supervision.models import QueueSample, SupervisorAction
from teams.models import AgentProfile, AgentSkill, AgentStatus, SkillLevel, SpecialistQueue
from teams.services import SUPERVISORS_GROUP
from tickets.models import CloseReason, Ticket, TicketStatus

TRAILING_WINDOW = timedelta(minutes=30)
HEALTH_CACHE_KEY = "supervision:queue-health:v2"
# The last payload, kept longer: served while another process recomputes (no stampede).
HEALTH_LAST_KEY = "supervision:queue-health:last"
HEALTH_LOCK_KEY = "supervision:queue-health:computing"
HEALTH_LOCK_SECONDS = 10
HEALTH_LAST_SECONDS = 60
# The live version of the dashboard's shared figures: the cached payload's computed-at time,
# present exactly while that payload is the cached one (console.live).
HEALTH_VERSION_GROUP = "queue-health"
SPARKLINE_WINDOW = timedelta(hours=1)
# Satisfaction is shown for today and for today with the six local days before it.
CSAT_DAYS = 7
RESOLVED_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


def day_start(now: datetime) -> datetime:
    """Local midnight (DASHBOARD_TIME_ZONE) of the day `now` falls in, as an aware datetime."""
    zone = ZoneInfo(settings.DASHBOARD_TIME_ZONE)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time.min, tzinfo=zone)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 1)


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


@dataclass(frozen=True)
class WindowFigures:
    """Answer figures over one window (the trailing 30 minutes, or today)."""

    assigned: int
    answered_within_target: int
    abandoned_after_grace: int
    average_speed_of_answer_seconds: float | None

    @property
    def service_level(self) -> float | None:
        """Assigned within target ÷ (assigned + abandoned after the grace period); None when both are 0."""
        return _ratio(self.answered_within_target, self.assigned + self.abandoned_after_grace)


@dataclass(frozen=True)
class QueueHealth:
    queue_id: int
    slug: str
    name: str
    name_zh: str
    kind: str
    service_level_seconds: int
    service_level_target_percent: int
    overflow_seconds: int
    waiting: int
    longest_wait_seconds: float
    sla_breaches_now: int
    offered_today: int
    assigned_today: int
    resolved_today: int
    abandoned_today: int
    average_handle_time_seconds: float | None
    last_30_minutes: WindowFigures
    today: WindowFigures
    agents_online: int
    agents_available: int
    agents_busy: int
    agents_away: int
    occupancy: float | None
    callbacks_due_next_hour: int
    callbacks_overdue: int
    callbacks_missed_today: int
    # Satisfaction (satisfaction.selectors.Csat.as_dict): today and last_7_days.
    csat: dict[str, Any] = field(default_factory=dict)

    @property
    def service_level_below_target(self) -> bool:
        level = self.last_30_minutes.service_level
        return level is not None and level * 100 < self.service_level_target_percent

    @property
    def longest_wait_past_target(self) -> bool:
        return self.longest_wait_seconds > self.service_level_seconds

    @property
    def state(self) -> str:
        """Tile colour: "alert" when both thresholds are crossed, "warn" for one, "ok" for none."""
        crossed = int(self.service_level_below_target) + int(self.longest_wait_past_target)
        return ("ok", "warn", "alert")[crossed]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for window in ("last_30_minutes", "today"):
            data[window]["service_level"] = getattr(self, window).service_level
        data["service_level_below_target"] = self.service_level_below_target
        data["longest_wait_past_target"] = self.longest_wait_past_target
        data["state"] = self.state
        return data


@dataclass(frozen=True)
class AgentRow:
    agent_id: int
    username: str
    display_name: str
    status: str
    status_since: datetime
    open_tickets: int
    # The status was set because no console of the agent was open (presence), not by a person.
    no_console: bool
    capacity: int
    # Offers missed in a row; above zero while Away, the offer sweep set them Away for it.
    missed_offers: int
    handled_today: int
    average_handle_time_seconds: float | None
    languages: list[str]
    primary_skills: list[str] = field(default_factory=list)
    secondary_skills: list[str] = field(default_factory=list)
    csat: dict[str, Any] = field(default_factory=dict)

    @property
    def is_at_capacity(self) -> bool:
        return self.open_tickets >= self.capacity

    def as_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict (a deep copy): this runs for every agent on every refresh.
        return {
            "agent_id": self.agent_id,
            "username": self.username,
            "display_name": self.display_name,
            "status": self.status,
            "status_since": self.status_since.isoformat(),
            "no_console": self.no_console,
            "missed_offers": self.missed_offers,
            "open_tickets": self.open_tickets,
            "capacity": self.capacity,
            "handled_today": self.handled_today,
            "average_handle_time_seconds": self.average_handle_time_seconds,
            "languages": self.languages,
            "primary_skills": self.primary_skills,
            "secondary_skills": self.secondary_skills,
            "csat": self.csat,
        }


@dataclass(frozen=True)
class Health:
    """Everything the dashboard, the health API and /metrics show, taken at one instant."""

    generated_at: datetime
    day_start: datetime
    queues: list[QueueHealth]
    agents: list[AgentRow]
    csat: dict[str, Any] = field(default_factory=dict)  # every queue together
    low_ratings_to_follow_up: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "day_start": self.day_start.isoformat(),
            "time_zone": settings.DASHBOARD_TIME_ZONE,
            "service_level_abandon_grace_seconds": settings.SERVICE_LEVEL_ABANDON_GRACE_SECONDS,
            "queues": [queue.as_dict() for queue in self.queues],
            "agents": [agent.as_dict() for agent in self.agents],
            "csat": self.csat,
            "low_ratings_to_follow_up": self.low_ratings_to_follow_up,
        }


# --- Queue metrics ------------------------------------------------------------------------------


def _ticket_figures(*, queues: list[SpecialistQueue], now: datetime, today: datetime) -> dict[int, Mapping[str, Any]]:
    """One query: every ticket figure per queue.

    Reads only the tickets that can count: waiting now, or touched (queued, first assigned,
    resolved, abandoned) since the earlier of local midnight and 30 minutes ago. Each branch of the
    OR has its own index (ticket_waiting_line, ticket_queued_at, ...), so PostgreSQL reads today's
    rows through a bitmap OR however many months of history sit in the table.
    """
    trailing = now - TRAILING_WINDOW
    since = min(today, trailing)
    grace = timedelta(seconds=settings.SERVICE_LEVEL_ABANDON_GRACE_SECONDS)
    queued = Q(status=TicketStatus.QUEUED)
    abandoned = Q(close_reason=CloseReason.ABANDONED, closed_at__isnull=False)
    resolved = Q(status__in=RESOLVED_STATUSES, resolved_at__isnull=False, first_assigned_at__isnull=False)

    def window(key: str, start: datetime) -> dict[str, Any]:
        assigned = Q(first_assigned_at__gte=start, first_assigned_at__lte=now)
        return {
            f"{key}_assigned": Count("id", filter=assigned),
            f"{key}_within": Count("id", filter=assigned & Q(answer_wait__lte=F("target"))),
            f"{key}_abandoned": Count(
                "id", filter=abandoned & Q(closed_at__gte=start, closed_at__lte=now, abandon_wait__gt=grace)
            ),
            f"{key}_asa": Avg("answer_wait", filter=assigned),
        }

    rows = (
        Ticket.objects.filter(queue__isnull=False)
        .filter(
            queued
            | Q(queued_at__gte=since)
            | Q(first_assigned_at__gte=since)
            | Q(resolved_at__gte=since)
            | Q(closed_at__gte=since, close_reason=CloseReason.ABANDONED)
        )
        .alias(
            entered=Coalesce("queued_at", "created_at"),
            # Each queue's own target, spelled out per queue: portable (SQLite cannot multiply an
            # interval) and it spares the join to the queue table.
            target=Case(
                *[When(queue_id=q.id, then=Value(timedelta(seconds=q.service_level_seconds))) for q in queues],
                default=Value(timedelta(0)),
                output_field=DurationField(),
            ),
            answer_wait=ExpressionWrapper(F("first_assigned_at") - F("entered"), output_field=DurationField()),
            abandon_wait=ExpressionWrapper(F("closed_at") - F("entered"), output_field=DurationField()),
            breach_at=ExpressionWrapper(F("entered") + F("target"), output_field=DateTimeField()),
            handle_time=ExpressionWrapper(F("resolved_at") - F("first_assigned_at"), output_field=DurationField()),
        )
        .values("queue_id")
        .annotate(
            waiting=Count("id", filter=queued),
            oldest_entered=Min("entered", filter=queued),
            breaches=Count("id", filter=queued & Q(breach_at__lte=now)),
            offered_today=Count("id", filter=Q(queued_at__gte=today, queued_at__lte=now)),
            resolved_today=Count("id", filter=resolved & Q(resolved_at__gte=today, resolved_at__lte=now)),
            aht_today=Avg("handle_time", filter=resolved & Q(resolved_at__gte=today, resolved_at__lte=now)),
            abandoned_today=Count("id", filter=abandoned & Q(closed_at__gte=today, closed_at__lte=now)),
            **window("m30", trailing),
            **window("day", today),
        )
        .order_by()
    )
    return {row["queue_id"]: dict(row) for row in rows}


@dataclass
class _Staffing:
    online: int = 0
    available: int = 0
    busy: int = 0
    away: int = 0
    open_tickets: int = 0
    capacity: int = 0

    def add(self, agent: Mapping[str, Any]) -> None:
        if agent["status"] == AgentStatus.AWAY:
            self.away += 1
        if agent["status"] != AgentStatus.ONLINE:
            return
        self.online += 1
        if agent["active_ticket_count"] < agent["capacity"]:
            self.available += 1
        else:
            self.busy += 1
        self.open_tickets += agent["active_ticket_count"]
        self.capacity += agent["capacity"]


def _staffing(queues: list[SpecialistQueue]) -> dict[int, _Staffing]:
    """Two queries: agents (with whether they are supervisors) and which queues their primary
    skills staff. Specialist queues are staffed by primary-skill agents, triage by every agent,
    the escalation queue by supervisors — the same people routing would assign."""
    agents: dict[int, Mapping[str, Any]] = {
        row["id"]: row
        for row in AgentProfile.objects.annotate(
            is_supervisor=Exists(
                User.groups.through.objects.filter(user_id=OuterRef("user_id"), group__name=SUPERVISORS_GROUP)
            )
        ).values("id", "status", "capacity", "active_ticket_count", "is_supervisor")
    }
    staffed_by: dict[int, set[int]] = defaultdict(set)
    for queue_id, agent_id in (
        AgentSkill.objects.filter(level=SkillLevel.PRIMARY, category__queue__isnull=False)
        .values_list("category__queue_id", "agent_id")
        .distinct()
    ):
        staffed_by[queue_id].add(agent_id)
    result: dict[int, _Staffing] = {}
    for queue in queues:
        if queue.kind == SpecialistQueue.Kind.TRIAGE:
            members: set[int] = set(agents)
        elif queue.kind == SpecialistQueue.Kind.ESCALATION:
            members = {agent_id for agent_id, row in agents.items() if row["is_supervisor"]}
        else:
            members = staffed_by.get(queue.id, set())
        staffing = _Staffing()
        for agent_id in members:
            staffing.add(agents[agent_id])
        result[queue.id] = staffing
    return result


def csat_at(now: datetime) -> CsatBreakdown:
    """Satisfaction per queue and agent for today and the last 7 local days. Two queries."""
    today = day_start(now)
    return csat_breakdown(today=today, week=day_start(now - timedelta(days=CSAT_DAYS - 1)), now=now)


def queue_health(*, now: datetime | None = None, csat: CsatBreakdown | None = None) -> list[QueueHealth]:
    """Every queue's metrics at `now` (default: the current time). Seven queries, whatever the size
    (five when the caller passes the satisfaction figures it already read)."""
    now = now or timezone.now()
    today = day_start(now)
    csat = csat or csat_at(now)
    # Specialist queues first, then triage, then the supervisors' own queue.
    order: dict[str, int] = {
        SpecialistQueue.Kind.SPECIALIST: 0,
        SpecialistQueue.Kind.TRIAGE: 1,
        SpecialistQueue.Kind.ESCALATION: 2,
    }
    queues = sorted(SpecialistQueue.objects.all(), key=lambda q: (order.get(q.kind, 3), q.name))
    figures = _ticket_figures(queues=queues, now=now, today=today)
    staffing = _staffing(queues)
    callbacks = callback_counts_by_queue(now=now, day_start=today)
    result = []
    for queue in queues:
        row: Mapping[str, Any] = figures.get(queue.id, {})
        staff = staffing[queue.id]
        counts = callbacks.get(queue.id)
        oldest = row.get("oldest_entered")
        result.append(
            QueueHealth(
                queue_id=queue.id,
                slug=queue.slug,
                name=queue.name,
                name_zh=queue.name_zh,
                kind=queue.kind,
                service_level_seconds=queue.service_level_seconds,
                service_level_target_percent=queue.service_level_target_percent,
                overflow_seconds=queue.overflow_seconds,
                waiting=row.get("waiting", 0),
                longest_wait_seconds=max(0.0, round((now - oldest).total_seconds(), 1)) if oldest else 0.0,
                sla_breaches_now=row.get("breaches", 0),
                offered_today=row.get("offered_today", 0),
                assigned_today=row.get("day_assigned", 0),
                resolved_today=row.get("resolved_today", 0),
                abandoned_today=row.get("abandoned_today", 0),
                average_handle_time_seconds=_seconds(row.get("aht_today")),
                last_30_minutes=_window(row, "m30"),
                today=_window(row, "day"),
                agents_online=staff.online,
                agents_available=staff.available,
                agents_busy=staff.busy,
                agents_away=staff.away,
                occupancy=_ratio(staff.open_tickets, staff.capacity),
                callbacks_due_next_hour=counts.due_next_hour if counts else 0,
                callbacks_overdue=counts.overdue if counts else 0,
                callbacks_missed_today=counts.missed_today if counts else 0,
                csat=csat.by_queue.get(queue.id, Csat()).as_dict(),
            )
        )
    return result


def _window(row: Mapping[str, Any], key: str) -> WindowFigures:
    return WindowFigures(
        assigned=row.get(f"{key}_assigned", 0),
        answered_within_target=row.get(f"{key}_within", 0),
        abandoned_after_grace=row.get(f"{key}_abandoned", 0),
        average_speed_of_answer_seconds=_seconds(row.get(f"{key}_asa")),
    )


# --- Agent board --------------------------------------------------------------------------------


def agent_board(*, now: datetime | None = None, csat: CsatBreakdown | None = None) -> list[AgentRow]:
    """Every agent: status and since when, open tickets against capacity, today's handled
    tickets with their average handle time, and satisfaction. Three queries (today's resolutions
    grouped by agent, skills, agents with their usernames), plus two unless `csat` is passed."""
    now = now or timezone.now()
    today = day_start(now)
    csat = csat or csat_at(now)
    handled = {
        row["assigned_agent_id"]: row
        for row in Ticket.objects.filter(
            resolved_at__gte=today,
            resolved_at__lte=now,
            status__in=RESOLVED_STATUSES,
            assigned_agent__isnull=False,
            first_assigned_at__isnull=False,
        )
        .values("assigned_agent_id")
        .annotate(
            count=Count("id"),
            aht=Avg(ExpressionWrapper(F("resolved_at") - F("first_assigned_at"), output_field=DurationField())),
        )
        .order_by()
    }
    # Plain rows, no model instances: 500 agents as models (and a prefetch queryset per agent)
    # cost more than every query of the page together.
    skills: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for agent_id, slug, level in AgentSkill.objects.order_by("category__slug").values_list(
        "agent_id", "category__slug", "level"
    ):
        skills[agent_id].append((slug, level))
    rows = []
    for agent in AgentProfile.objects.order_by("user__username").values(
        "id",
        "user_id",
        "user__username",
        "display_name",
        "status",
        "status_since",
        "status_set_by_presence",
        "missed_offer_streak",
        "active_ticket_count",
        "capacity",
        "languages",
    ):
        done: Mapping[str, Any] = handled.get(agent["user_id"], {})
        held = skills.get(agent["id"], [])
        rows.append(
            AgentRow(
                agent_id=agent["id"],
                username=agent["user__username"],
                display_name=agent["display_name"] or agent["user__username"],
                status=agent["status"],
                status_since=agent["status_since"],
                no_console=agent["status_set_by_presence"],
                missed_offers=agent["missed_offer_streak"],
                open_tickets=agent["active_ticket_count"],
                capacity=agent["capacity"],
                handled_today=done.get("count", 0),
                average_handle_time_seconds=_seconds(done.get("aht")),
                languages=list(agent["languages"]),
                primary_skills=[slug for slug, level in held if level == SkillLevel.PRIMARY],
                secondary_skills=[slug for slug, level in held if level == SkillLevel.SECONDARY],
                csat=csat.by_agent.get(agent["user_id"], Csat()).as_dict(),
            )
        )
    return rows


# --- The whole picture, cached ------------------------------------------------------------------


def current_health(*, use_cache: bool = True) -> dict[str, Any]:
    """The health payload (queues and agents) as plain JSON data, computed at most once per
    QUEUE_HEALTH_CACHE_SECONDS across all processes (the Django cache). A wallboard, many
    supervisors' pages and a Prometheus scraper then cost one computation per period."""
    seconds = settings.QUEUE_HEALTH_CACHE_SECONDS
    locked = False
    if use_cache and seconds > 0:
        cached: dict[str, Any] | None = cache.get(HEALTH_CACHE_KEY)
        if cached is not None:
            return cached
        # One process recomputes; the others show the last figures meanwhile (their pages re-read
        # again: the version of what they showed is gone, so they can never be told "unchanged").
        locked = bool(cache.add(HEALTH_LOCK_KEY, 1, timeout=HEALTH_LOCK_SECONDS))
        if not locked:
            last: dict[str, Any] | None = cache.get(HEALTH_LAST_KEY)
            if last is not None:
                return last
    try:
        now = timezone.now()
        csat = csat_at(now)
        payload = Health(
            generated_at=now,
            day_start=day_start(now),
            queues=queue_health(now=now, csat=csat),
            agents=agent_board(now=now, csat=csat),
            csat=csat.overall.as_dict(),
            low_ratings_to_follow_up=count_to_follow_up(),
        ).as_dict()
        if seconds > 0:
            # The payload and its live version in one write: they expire together.
            cache.set_many(
                {HEALTH_CACHE_KEY: payload, **live.version_entry(HEALTH_VERSION_GROUP, payload["generated_at"])},
                timeout=seconds,
            )
            cache.set(HEALTH_LAST_KEY, payload, timeout=HEALTH_LAST_SECONDS)
    finally:
        if locked:
            cache.delete(HEALTH_LOCK_KEY)
    return payload


def forget_health() -> None:
    """Drop the cached payload and its live version together: the next read recomputes it (a
    dashboard serves its kept render while the version stands, without reading the payload)."""
    cache.delete_many([HEALTH_CACHE_KEY, *live.version_entry(HEALTH_VERSION_GROUP, "")])


# --- Sparklines ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sparkline:
    """One queue's recent samples as SVG polyline points (0..width × 0..height, newest at the
    right), with what the axes and the last point need to be read at a glance."""

    waiting_points: str
    service_level_points: str
    max_waiting: int
    samples: int
    # The x axis spans the samples there are (at least SPARKLINE_MIN_SPAN), up to the hour.
    span_minutes: int = 60
    last_waiting: int = 0
    last_service_level: float | None = None
    last_x: float = 0.0
    last_y: float = 0.0
    width: int = 120
    height: int = 28

    @property
    def axis_top(self) -> int:
        """The y axis' top label: the highest count drawn (1 when nobody waited)."""
        return max(self.max_waiting, 1)

    @property
    def value_y(self) -> float:
        """Where the last value's label sits: beside the last point, inside the chart."""
        return min(max(self.last_y + 4, 8), self.height)


SPARKLINE_MIN_SPAN = timedelta(minutes=10)


def sparklines(*, now: datetime | None = None, width: int = 120, height: int = 28) -> dict[int, Sparkline]:
    """The last hour of samples per queue, scaled for inline SVG. One query.

    The x axis runs from the first sample (at least ten minutes back) to now: a queue sampled for
    two minutes is drawn across the chart, not as a dash at its right edge."""
    now = now or timezone.now()
    start = now - SPARKLINE_WINDOW
    series: dict[int, list[tuple[datetime, int, float | None]]] = defaultdict(list)
    for queue_id, minute, waiting, level in (
        QueueSample.objects.filter(minute__gte=start, minute__lte=now)
        .order_by("queue_id", "minute")
        .values_list("queue_id", "minute", "waiting", "service_level")
    ):
        series[queue_id].append((minute, waiting, level))
    result = {}
    for queue_id, samples in series.items():
        first = min(samples[0][0], now - SPARKLINE_MIN_SPAN)
        span = (now - first).total_seconds()
        top = max(waiting for _, waiting, _ in samples) or 1

        def x(minute: datetime, first: datetime = first, span: float = span) -> float:
            return round((minute - first).total_seconds() / span * width, 1)

        def y(waiting: int, top: int = top) -> float:
            return round(height - waiting / top * height, 1)

        waiting_points = " ".join(f"{x(m)},{y(w)}" for m, w, _ in samples)
        level_points = " ".join(
            f"{x(m)},{round(height - level * height, 1)}" for m, _, level in samples if level is not None
        )
        last_minute, last_waiting, _level = samples[-1]
        levels = [level for _, _, level in samples if level is not None]
        result[queue_id] = Sparkline(
            waiting_points=waiting_points,
            service_level_points=level_points,
            max_waiting=max(w for _, w, _ in samples),
            samples=len(samples),
            span_minutes=round(span / 60),
            last_waiting=last_waiting,
            last_service_level=levels[-1] if levels else None,
            last_x=x(last_minute),
            last_y=y(last_waiting),
            width=width,
            height=height,
        )
    return result


# --- Audit log ----------------------------------------------------------------------------------


def recent_actions(*, limit: int = 20) -> list[SupervisorAction]:
    return list(SupervisorAction.objects.select_related("actor").order_by("-created_at", "-id")[:limit])


# --- Reassign page ------------------------------------------------------------------------------

REASSIGN_LIST_LIMIT = 50


@dataclass(frozen=True)
class PickerAgent:
    """One row of the reassign page's agent picker."""

    profile: AgentProfile
    languages: list[str]
    primary_skills: list[str]
    secondary_skills: list[str]

    @property
    def is_full(self) -> bool:
        return self.profile.active_ticket_count >= self.profile.capacity


def waiting_tickets(*, limit: int = REASSIGN_LIST_LIMIT) -> list[Ticket]:
    """The line across every queue, as agents are served from it: priority, then age."""
    return list(
        Ticket.objects.filter(status=TicketStatus.QUEUED)
        .select_related("queue", "category", "shopper")
        .order_by("-priority", "queued_at", "id")[:limit]
    )


def picker_agents() -> list[PickerAgent]:
    """Every agent with their languages, skills, status and load: two queries."""
    profiles = list(AgentProfile.objects.select_related("user").prefetch_related("skill_set__category"))
    rows = []
    for profile in profiles:
        skills = list(profile.skill_set.all())
        rows.append(
            PickerAgent(
                profile=profile,
                languages=list(profile.languages),
                primary_skills=sorted(s.category.slug for s in skills if s.level == SkillLevel.PRIMARY),
                secondary_skills=sorted(s.category.slug for s in skills if s.level == SkillLevel.SECONDARY),
            )
        )
    status_order: dict[str, int] = {AgentStatus.ONLINE: 0, AgentStatus.AWAY: 1, AgentStatus.OFFLINE: 2}
    rows.sort(key=lambda row: (status_order.get(row.profile.status, 3), row.is_full, str(row.profile).lower()))
    return rows


# --- Agent board: aggregates and exceptions -----------------------------------------------------

# The dashboard lists at most this many agents needing attention, then "+N more" (the agent list).
AGENT_BOARD_ROWS = 12
AGENT_LIST_PAGE_SIZE = 25
AGENT_SEARCH_MAX_LENGTH = 80

# Every agent is in exactly one of these, by their status and load: the dashboard's counts and the
# agent list's filters read these same conditions.
STATUS_BUCKETS: dict[str, Q] = {
    "available": Q(status=AgentStatus.ONLINE, active_ticket_count__lt=F("capacity")),
    "busy": Q(status=AgentStatus.ONLINE, active_ticket_count__gte=F("capacity")),
    "away": Q(status=AgentStatus.AWAY, status_set_by_presence=False),
    "away_no_console": Q(status=AgentStatus.AWAY, status_set_by_presence=True),
    "offline": Q(status=AgentStatus.OFFLINE),
}
# Why an agent needs a supervisor's eye, most urgent first (an agent shows under the first that
# holds): the offer sweep set them away after unanswered offers; presence set them away (no
# console open); not online while holding open tickets (their shoppers wait on them).
ATTENTION_REASONS: dict[str, Q] = {
    "missed_offers": Q(status=AgentStatus.AWAY, missed_offer_streak__gt=0),
    "no_console": Q(status=AgentStatus.AWAY, status_set_by_presence=True),
    "holding_tickets": ~Q(status=AgentStatus.ONLINE) & Q(active_ticket_count__gt=0),
}
NEEDS_ATTENTION = Q()
for _condition in ATTENTION_REASONS.values():
    NEEDS_ATTENTION |= _condition
AGENT_FILTERS: dict[str, Q] = {**STATUS_BUCKETS, "attention": NEEDS_ATTENTION}


@dataclass(frozen=True)
class AttentionRow:
    agent_id: int
    username: str
    display_name: str
    languages: list[str]
    status: str
    status_since: datetime
    no_console: bool
    missed_offers: int
    open_tickets: int
    capacity: int
    reason: str


@dataclass(frozen=True)
class AgentBoardSummary:
    """The dashboard's agent board: how many agents are in each status, and the few who need
    attention, so its size does not grow with the number of agents."""

    total: int
    counts: dict[str, int]
    needing_attention: int
    rows: list[AttentionRow]

    @property
    def more(self) -> int:
        return self.needing_attention - len(self.rows)


def agent_board_summary(*, limit: int = AGENT_BOARD_ROWS) -> AgentBoardSummary:
    """Counts by status bucket and the first `limit` agents needing attention (most urgent reason,
    then longest in that state). Two queries, whatever the number of agents."""
    counts = AgentProfile.objects.aggregate(
        total=Count("id"),
        attention=Count("id", filter=NEEDS_ATTENTION),
        **{key: Count("id", filter=condition) for key, condition in STATUS_BUCKETS.items()},
    )
    reason = Case(
        *[When(condition, then=Value(key)) for key, condition in ATTENTION_REASONS.items()],
        default=Value(""),
    )
    urgency = Case(
        *[When(condition, then=Value(rank)) for rank, condition in enumerate(ATTENTION_REASONS.values())],
        default=Value(len(ATTENTION_REASONS)),
    )
    rows = [
        AttentionRow(
            agent_id=row["id"],
            username=row["user__username"],
            display_name=row["display_name"] or row["user__username"],
            languages=list(row["languages"]),
            status=row["status"],
            status_since=row["status_since"],
            no_console=row["status_set_by_presence"],
            missed_offers=row["missed_offer_streak"],
            open_tickets=row["active_ticket_count"],
            capacity=row["capacity"],
            reason=row["reason"],
        )
        for row in AgentProfile.objects.filter(NEEDS_ATTENTION)
        .annotate(reason=reason, urgency=urgency)
        .order_by("urgency", "status_since", "id")
        .values(
            "id",
            "user__username",
            "display_name",
            "languages",
            "status",
            "status_since",
            "status_set_by_presence",
            "missed_offer_streak",
            "active_ticket_count",
            "capacity",
            "reason",
        )[:limit]
    ]
    return AgentBoardSummary(
        total=counts["total"],
        counts={key: counts[key] for key in STATUS_BUCKETS},
        needing_attention=counts["attention"],
        rows=rows,
    )


def agent_list_rows(*, query: str = "", bucket: str = "") -> QuerySet[AgentProfile]:
    """The supervisors' agent list, unordered (keyset_page orders it by id): every agent, or those
    whose username or name contains `query`, or those in one status bucket or needing attention."""
    rows = AgentProfile.objects.select_related("user")
    if bucket in AGENT_FILTERS:
        rows = rows.filter(AGENT_FILTERS[bucket])
    query = query.strip()
    if query:
        rows = rows.filter(Q(user__username__icontains=query) | Q(display_name__icontains=query))
    return rows
