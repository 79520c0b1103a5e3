"""Seed months of ticket history (and the agents who handled it) for the dashboard's benchmark.

    manage.py seed_history --tickets 1000000 --agents 500

PostgreSQL only for large counts: shoppers and tickets go in with COPY (psycopg 3), agents and the
few open tickets with bulk inserts. Only what the health figures read is written: shoppers,
tickets with their timestamps, agents (users, profiles, skills), the active assignments of open
tickets (so routing stays consistent if anyone works the data) — no messages, no routing history.
Never run it on a database you care about: it adds rows, it never deletes any.
"""

import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from routing.models import Assignment, AssignmentReason
from supervision.selectors import day_start
from teams.models import AgentProfile, AgentSkill, AgentStatus, Category, SkillLevel
from teams.selectors import agent_queues_changed
from teams.services import AGENTS_GROUP, ensure_roles
from tickets.models import CloseReason, Shopper, Ticket, TicketStatus

# Without PostgreSQL (COPY) only this many tickets are seeded, with bulk_create.
SQLITE_LIMIT = 20_000
TICKETS_PER_SHOPPER = 4
# Share of offered tickets the shopper abandons before any assignment.
ABANDON_RATE = 0.06
# Relative inquiry volume by local hour: quiet nights, busy evenings (live-stream shopping).
HOURLY_WEIGHTS = [2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 8, 8, 9, 9, 9, 10, 11, 12, 13, 12, 8, 4]
HOURS = list(range(24))
HOURLY_CUMULATIVE = list(accumulate(HOURLY_WEIGHTS))
CATEGORY_WEIGHTS = {
    "apparel": 20,
    "beauty": 14,
    "electronics": 14,
    "home": 10,
    "fresh_food": 10,
    "maternal_baby": 9,
    "books": 6,
    "jewelry": 6,
    "flowers": 5,
    "other": 6,
}
TICKET_COLUMNS = [
    "shopper_id",
    "channel",
    "subject",
    "body",
    "language",
    "category_id",
    "intent",
    "signals",
    "priority",
    "needs_category",
    "status",
    "close_reason",
    "queue_id",
    "assigned_agent_id",
    "overflowed",
    "sla_breached",
    "order_number",
    "order_product_title",
    "order_product_category",
    "order_currency",
    "tracking_nonce",
    "request_fingerprint",
    "created_at",
    "queued_at",
    "first_assigned_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "updated_at",
]


@dataclass(frozen=True)
class Placement:
    category_id: int
    category_slug: str
    queue_id: int
    service_level_seconds: int


class Command(BaseCommand):
    help = "Seed historical tickets across the queues and agents to serve them (PostgreSQL COPY)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=1_000_000)
        parser.add_argument("--agents", type=int, default=500)
        parser.add_argument("--days", type=int, default=90, help="History spread over this many days (default 90).")
        parser.add_argument("--waiting", type=int, default=300, help="Tickets left waiting now (default 300).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (same seed, same history).")

    def handle(self, *args: Any, **options: Any) -> None:
        tickets, agents, days, waiting = options["tickets"], options["agents"], options["days"], options["waiting"]
        for name, value, minimum in (("--tickets", tickets, 1), ("--agents", agents, 1), ("--days", days, 1)):
            if value < minimum:
                raise CommandError(f"{name} must be at least {minimum}.")
        if waiting < 0 or waiting > tickets:
            raise CommandError("--waiting must be between 0 and --tickets.")
        is_postgres = connection.vendor == "postgresql"
        if not is_postgres and tickets > SQLITE_LIMIT:
            raise CommandError(
                f"{tickets:,} tickets need PostgreSQL (COPY); this database is {connection.vendor}. "
                f"Set DATABASE_URL=postgres://..., or seed at most {SQLITE_LIMIT:,} tickets here."
            )
        placements = _placements()
        if not placements:
            raise CommandError("No categories mapped to queues: run migrate first (it installs the taxonomy).")
        rng = random.Random(options["seed"])  # noqa: S311  # synthetic history, reproducible by seed
        started = time.perf_counter()
        run = f"{int(time.time())}-{secrets.token_hex(2)}"

        with transaction.atomic():
            staff = _seed_agents(agents, placements, rng=rng, run=run)
            self.stdout.write(f"agents: {agents:,} ({time.perf_counter() - started:.1f} s)")
            shopper_ids = _seed_shoppers(max(1, tickets // TICKETS_PER_SHOPPER), run=run, copy=is_postgres)
            self.stdout.write(f"shoppers: {len(shopper_ids):,} ({time.perf_counter() - started:.1f} s)")
            history = History(rng=rng, placements=placements, staff=staff, shopper_ids=shopper_ids, days=days)
            open_rows = history.open_tickets(waiting=waiting)
            past = tickets - len(open_rows)
            if is_postgres:
                _copy_tickets(history.closed_tickets(past))
            else:
                Ticket.objects.bulk_create((_ticket(row) for row in history.closed_tickets(past)), batch_size=2000)
            self.stdout.write(f"tickets: {past:,} historical ({time.perf_counter() - started:.1f} s)")
            _insert_open_tickets(open_rows, staff)
            self.stdout.write(f"tickets: {len(open_rows):,} open now ({time.perf_counter() - started:.1f} s)")
        if is_postgres:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE tickets_ticket, tickets_shopper, teams_agentprofile")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {tickets:,} tickets over {days} days and {agents:,} agents in "
                f"{time.perf_counter() - started:.1f} s ({'COPY' if is_postgres else 'bulk_create'})."
            )
        )


def _placements() -> list[Placement]:
    return [
        Placement(c.id, c.slug, c.queue.id, c.queue.service_level_seconds)
        for c in Category.objects.select_related("queue").filter(queue__isnull=False).order_by("slug")
        if c.queue is not None
    ]


@dataclass
class Staff:
    """Seeded agents: who serves each queue, and how many more open tickets each may still take."""

    by_queue: dict[int, list[int]]  # queue id -> agent user ids
    profile_of: dict[int, AgentProfile]  # user id -> profile
    room: dict[int, int]  # user id -> free capacity for open tickets (online agents only)


def _seed_agents(count: int, placements: list[Placement], *, rng: random.Random, run: str) -> Staff:
    group = ensure_roles()[AGENTS_GROUP]
    password = make_password(None)  # unusable: seeded agents cannot sign in
    now = timezone.now()
    users = User.objects.bulk_create(
        User(username=f"seed-{run}-{n:04d}", password=password, date_joined=now) for n in range(count)
    )
    User.groups.through.objects.bulk_create(User.groups.through(user_id=u.id, group_id=group.id) for u in users)
    statuses = rng.choices([AgentStatus.ONLINE, AgentStatus.AWAY, AgentStatus.OFFLINE], weights=[60, 15, 25], k=count)
    profiles = AgentProfile.objects.bulk_create(
        AgentProfile(
            user=user,
            display_name=f"Agent {n:04d}",
            languages=["zh", "en"] if rng.random() < 0.3 else ["zh"],
            capacity=rng.choice([3, 4, 5]),
            status=status,
            status_since=now - timedelta(minutes=rng.randint(1, 480)),
        )
        for n, (user, status) in enumerate(zip(users, statuses, strict=True))
    )
    by_category = {p.category_slug: p for p in placements}
    slugs = list(by_category)
    weights = [CATEGORY_WEIGHTS.get(slug, 5) for slug in slugs]
    skills = []
    by_queue: dict[int, list[int]] = {}
    for profile in profiles:
        primary = set(rng.choices(slugs, weights=weights, k=rng.choice([1, 1, 2])))
        secondary = rng.choice([s for s in slugs if s not in primary])
        for slug in primary:
            skills.append(
                AgentSkill(agent=profile, category_id=by_category[slug].category_id, level=SkillLevel.PRIMARY)
            )
            by_queue.setdefault(by_category[slug].queue_id, []).append(profile.user_id)
        skills.append(
            AgentSkill(agent=profile, category_id=by_category[secondary].category_id, level=SkillLevel.SECONDARY)
        )
    AgentSkill.objects.bulk_create(skills)
    agent_queues_changed()  # the bulk insert sends no signal
    for queue_id, members in by_queue.items():
        by_queue[queue_id] = sorted(set(members))
    room = {p.user_id: p.capacity for p in profiles if p.status == AgentStatus.ONLINE}
    return Staff(by_queue=by_queue, profile_of={p.user_id: p for p in profiles}, room=room)


def _seed_shoppers(count: int, *, run: str, copy: bool) -> list[int]:
    now = timezone.now()
    rows = ((f"seed-{run}-{n}", "", "", "", "zh", "Asia/Shanghai", now) for n in range(count))
    columns = ["external_id", "name", "phone", "email", "language", "time_zone", "created_at"]
    if copy:
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY tickets_shopper ({', '.join(columns)}) FROM STDIN") as load,
        ):
            for row in rows:
                load.write_row(row)
    else:
        Shopper.objects.bulk_create((Shopper(**dict(zip(columns, row, strict=True))) for row in rows), batch_size=2000)
    return list(Shopper.objects.filter(external_id__startswith=f"seed-{run}-").values_list("id", flat=True))


class History:
    """Ticket rows with believable timestamps: volume by hour of day, waits around the service
    level, a few abandons, handle times of minutes, older tickets closed."""

    def __init__(
        self, *, rng: random.Random, placements: list[Placement], staff: Staff, shopper_ids: list[int], days: int
    ) -> None:
        self.rng = rng
        self.placements = [p for p in placements if staff.by_queue.get(p.queue_id)] or placements
        self.weights = [CATEGORY_WEIGHTS.get(p.category_slug, 5) for p in self.placements]
        self.staff = staff
        self.shopper_ids = shopper_ids
        self.now = timezone.now()
        self.zone = ZoneInfo(settings.DASHBOARD_TIME_ZONE)
        self.first_day = day_start(self.now) - timedelta(days=days)
        self.days = days

    def _moments(self, count: int) -> Iterator[datetime]:
        """`count` past moments in time order, as a live system inserts them: spread evenly over
        the days (today only up to 30 minutes ago), busier by hour of day. Time order matters for
        the benchmark: one day's tickets then sit together in the table, as in production."""
        latest = self.now - timedelta(minutes=30)
        days = [self.first_day.astimezone(self.zone) + timedelta(days=d) for d in range(self.days + 1)]
        days = [day for day in days if day < latest]
        # A full day weighs 1; today only the share of its hourly volume already behind us.
        total = sum(HOURLY_WEIGHTS)
        shares = []
        for day in days:
            elapsed = sum(w for hour, w in enumerate(HOURLY_WEIGHTS) if day.replace(hour=hour) < latest)
            shares.append(elapsed / total)
        cumulative = list(accumulate(shares))
        made = 0
        for n, day in enumerate(days):
            upto = count if n == len(days) - 1 else round(count * cumulative[n] / cumulative[-1])
            moments: list[datetime] = []
            while len(moments) < upto - made:
                hour = self.rng.choices(HOURS, cum_weights=HOURLY_CUMULATIVE)[0]
                moment = day.replace(hour=hour) + timedelta(seconds=self.rng.uniform(0, 3600))
                if moment < latest:
                    moments.append(moment)
            made = upto
            yield from sorted(moments)

    def _row(self, *, placement: Placement, created: datetime, status: str, **stamps: Any) -> tuple[Any, ...]:
        values = {
            "shopper_id": self.rng.choice(self.shopper_ids),
            "channel": "chat",
            "subject": "",
            "body": f"Seeded {placement.category_slug} inquiry",
            "language": "zh",
            "category_id": placement.category_id,
            "intent": "other",
            "signals": "[]",
            "priority": 0,
            "needs_category": False,
            "status": status,
            "close_reason": "",
            "queue_id": placement.queue_id,
            "assigned_agent_id": None,
            "overflowed": False,
            "sla_breached": False,
            "order_number": "",
            "order_product_title": "",
            "order_product_category": placement.category_slug,
            "order_currency": "",
            "tracking_nonce": secrets.token_urlsafe(16),
            "request_fingerprint": "",
            "created_at": created,
            "queued_at": created + timedelta(seconds=self.rng.uniform(0.2, 3)),
            "first_assigned_at": None,
            "first_response_at": None,
            "resolved_at": None,
            "closed_at": None,
            "updated_at": created,
        }
        values.update(stamps)
        return tuple(values[column] for column in TICKET_COLUMNS)

    def closed_tickets(self, count: int) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        placements = rng.choices(self.placements, weights=self.weights, k=count)
        for placement, created in zip(placements, self._moments(count), strict=True):
            queued = created + timedelta(seconds=rng.uniform(0.2, 3))
            if rng.random() < ABANDON_RATE:
                closed = queued + timedelta(seconds=rng.expovariate(1 / 90))
                yield self._row(
                    placement=placement,
                    created=created,
                    status=TicketStatus.CLOSED,
                    queued_at=queued,
                    close_reason=CloseReason.ABANDONED,
                    closed_at=closed,
                    updated_at=closed,
                )
                continue
            wait = rng.expovariate(1 / (placement.service_level_seconds * 0.6))
            assigned = queued + timedelta(seconds=wait)
            responded = assigned + timedelta(seconds=rng.uniform(20, 240))
            resolved = assigned + timedelta(seconds=rng.lognormvariate(6.3, 0.6))  # median ≈ 9 min
            agent = rng.choice(self.staff.by_queue.get(placement.queue_id) or list(self.staff.profile_of))
            is_closed = resolved < self.now - timedelta(days=2)
            if resolved > self.now:  # an old ticket cannot be resolved in the future: resolve it now
                resolved = self.now - timedelta(seconds=rng.uniform(1, 60))
            yield self._row(
                placement=placement,
                created=created,
                status=TicketStatus.CLOSED if is_closed else TicketStatus.RESOLVED,
                queued_at=queued,
                first_assigned_at=assigned,
                first_response_at=min(responded, resolved),
                resolved_at=resolved,
                closed_at=resolved + timedelta(days=2) if is_closed else None,
                close_reason=CloseReason.RESOLVED if is_closed else "",
                assigned_agent_id=agent,
                sla_breached=wait > placement.service_level_seconds,
                updated_at=resolved,
            )

    def open_tickets(self, *, waiting: int) -> list[tuple[Any, ...]]:
        """Waiting tickets (queued in the last hour or so) and those online agents hold now."""
        rng = self.rng
        rows = []
        for placement in rng.choices(self.placements, weights=self.weights, k=waiting):
            created = self.now - timedelta(seconds=rng.expovariate(1 / (placement.service_level_seconds * 1.5)))
            rows.append(self._row(placement=placement, created=created, status=TicketStatus.QUEUED, queued_at=created))
        for user_id, room in self.staff.room.items():
            profile = self.staff.profile_of[user_id]
            queues = [q for q, members in self.staff.by_queue.items() if user_id in members]
            for _ in range(rng.randint(0, room)):
                placement = rng.choice([p for p in self.placements if p.queue_id in queues] or self.placements)
                created = self.now - timedelta(seconds=rng.uniform(60, 1800))
                assigned = created + timedelta(seconds=rng.uniform(1, 50))
                rows.append(
                    self._row(
                        placement=placement,
                        created=created,
                        status=TicketStatus.ASSIGNED,
                        queued_at=created,
                        first_assigned_at=assigned,
                        assigned_agent_id=profile.user_id,
                    )
                )
        return rows


def _ticket(row: tuple[Any, ...]) -> Ticket:
    values = dict(zip(TICKET_COLUMNS, row, strict=True))
    values["signals"] = []  # COPY takes the JSON text "[]"; the ORM wants the list
    return Ticket(**values)


def _copy_tickets(rows: Iterator[tuple[Any, ...]]) -> None:
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY tickets_ticket ({', '.join(TICKET_COLUMNS)}) FROM STDIN") as load,
    ):
        for row in rows:
            load.write_row(row)


def _insert_open_tickets(rows: list[tuple[Any, ...]], staff: Staff) -> None:
    """Open tickets with ids (bulk_create returns them): the assigned ones get their active
    Assignment and count against their agent's capacity, as routing would have left them."""
    tickets = Ticket.objects.bulk_create(_ticket(row) for row in rows)
    held = [t for t in tickets if t.status == TicketStatus.ASSIGNED]
    Assignment.objects.bulk_create(
        Assignment(
            ticket=t, agent_id=t.assigned_agent_id, reason=AssignmentReason.ROUTING, started_at=t.first_assigned_at
        )
        for t in held
        if t.first_assigned_at is not None and t.assigned_agent_id is not None
    )
    counts: dict[int, int] = {}
    for t in held:
        if t.assigned_agent_id is not None:
            counts[t.assigned_agent_id] = counts.get(t.assigned_agent_id, 0) + 1
    profiles = []
    for user_id, open_count in counts.items():
        profile = staff.profile_of[user_id]
        profile.active_ticket_count = open_count
        profile.last_assigned_at = timezone.now()
        profiles.append(profile)
    AgentProfile.objects.bulk_update(profiles, ["active_ticket_count", "last_assigned_at"], batch_size=500)
