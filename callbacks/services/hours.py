"""Business hours, holidays and slots: where a callback may be booked.

Slots are cut from each opening range in the policy's time zone at wall-clock times (09:00,
09:30, …) and only then converted to UTC, so across a daylight-saving change a slot stays at
09:00 local and its UTC instant moves by an hour. A local time that does not exist (the hour
skipped in spring) yields no slot.
"""

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from callbacks.defaults import DEFAULT_HOURS
from callbacks.models import ACTIVE_STATUSES, BusinessHours, Callback, CallbackPolicy
from teams.models import SpecialistQueue


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    capacity: int
    booked: int = 0

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.booked, 0)


@dataclass(frozen=True)
class OpeningRange:
    """One opening range on one local date, as UTC instants."""

    opens: datetime
    closes: datetime


def policy_for(queue: SpecialistQueue) -> CallbackPolicy:
    """The queue's callback policy, created with the default hours when the queue has none yet
    (queues added after the data migration). Idempotent; safe when two requests race (the
    one-to-one constraint keeps one row, the loser reads it)."""
    policy = CallbackPolicy.objects.filter(queue=queue).prefetch_related("hours", "holidays").first()
    if policy is not None:
        return policy
    with transaction.atomic():
        policy, created = CallbackPolicy.objects.get_or_create(queue=queue)
        if created:
            BusinessHours.objects.bulk_create(
                [BusinessHours(policy=policy, weekday=d, opens=o, closes=c) for d, o, c in DEFAULT_HOURS]
            )
    return CallbackPolicy.objects.prefetch_related("hours", "holidays").get(pk=policy.pk)


def _exists(local: datetime, tz: ZoneInfo) -> bool:
    """False for a wall-clock time skipped by a daylight-saving change (it does not round-trip)."""
    return local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None)


def opening_ranges(policy: CallbackPolicy, day: date) -> list[OpeningRange]:
    """The policy's opening ranges on a local date (none on a holiday), as UTC instants."""
    if any(holiday.date == day for holiday in policy.holidays.all()):
        return []
    tz = ZoneInfo(policy.time_zone)
    ranges = []
    for hours in policy.hours.all():
        if hours.weekday != day.weekday():
            continue
        opens = datetime.combine(day, hours.opens, tzinfo=tz)
        closes = datetime.combine(day, hours.closes, tzinfo=tz)
        ranges.append(OpeningRange(opens=opens.astimezone(UTC), closes=closes.astimezone(UTC)))
    return sorted(ranges, key=lambda r: r.opens)


def slot_grid(policy: CallbackPolicy, day: date) -> list[tuple[datetime, datetime]]:
    """Every whole slot of a local date, as (start, end) in UTC, in order."""
    tz = ZoneInfo(policy.time_zone)
    step = timedelta(minutes=policy.slot_minutes)
    slots = []
    if any(holiday.date == day for holiday in policy.holidays.all()):
        return []
    for hours in sorted(policy.hours.all(), key=lambda h: h.opens):
        if hours.weekday != day.weekday():
            continue
        # Wall-clock arithmetic on naive local times, converted one by one.
        cursor = datetime.combine(day, hours.opens)
        closes = datetime.combine(day, hours.closes)
        while cursor + step <= closes:
            start_local = cursor.replace(tzinfo=tz)
            end_local = (cursor + step).replace(tzinfo=tz)
            if _exists(start_local, tz) and _exists(end_local, tz):
                slots.append((start_local.astimezone(UTC), end_local.astimezone(UTC)))
            cursor += step
    return slots


def local_today(policy: CallbackPolicy, now: datetime) -> date:
    return now.astimezone(ZoneInfo(policy.time_zone)).date()


def available_slots(
    *,
    queue: SpecialistQueue,
    now: datetime,
    from_day: date | None = None,
    days: int = 7,
    min_notice: bool = True,
    include_full: bool = False,
    exclude_callback_id: int | None = None,
) -> list[Slot]:
    """The queue's bookable slots over `days` local dates from `from_day` (default: today in the
    queue's time zone), within the booking horizon, starting after the minimum notice. Each slot
    carries how many callbacks it still takes. Two queries (policy with hours, active callbacks).
    Read-only: booking re-checks the count under a lock."""
    policy = policy_for(queue)
    today = local_today(policy, now)
    first = max(from_day or today, today)
    horizon = today + timedelta(days=policy.booking_horizon_days)
    if first > horizon:
        return []
    # Counted in days from `first`, never past the horizon: no date arithmetic near date.max.
    last = first + timedelta(days=min(max(days, 1) - 1, (horizon - first).days))
    earliest = now + timedelta(minutes=policy.min_notice_minutes if min_notice else 0)
    grid: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        grid.extend(slot for slot in slot_grid(policy, day) if slot[0] >= earliest)
        day += timedelta(days=1)
    if not grid:
        return []
    starts = [start for start, _ in grid]
    booked = [0] * len(grid)
    taken = Callback.objects.filter(
        queue=queue, status__in=ACTIVE_STATUSES, scheduled_at__gte=grid[0][0], scheduled_at__lt=grid[-1][1]
    )
    if exclude_callback_id is not None:
        taken = taken.exclude(pk=exclude_callback_id)
    for at in taken.values_list("scheduled_at", flat=True):
        index = bisect_left(starts, at + timedelta(microseconds=1)) - 1
        if index >= 0 and grid[index][0] <= at < grid[index][1]:
            booked[index] += 1
    slots = [
        Slot(start=start, end=end, capacity=policy.callbacks_per_slot, booked=count)
        for (start, end), count in zip(grid, booked, strict=True)
    ]
    return slots if include_full else [slot for slot in slots if slot.remaining > 0]


def slot_containing(policy: CallbackPolicy, at: datetime) -> tuple[datetime, datetime] | None:
    """The (start, end) of the slot an instant falls in, or None outside business hours."""
    day = at.astimezone(ZoneInfo(policy.time_zone)).date()
    for start, end in slot_grid(policy, day):
        if start <= at < end:
            return start, end
    return None


def range_containing(policy: CallbackPolicy, at: datetime) -> OpeningRange | None:
    day = at.astimezone(ZoneInfo(policy.time_zone)).date()
    for opening in opening_ranges(policy, day):
        if opening.opens <= at < opening.closes:
            return opening
    return None


def next_open_moment(policy: CallbackPolicy, after: datetime) -> datetime | None:
    """`after` when it falls inside a slot, else the start of the next slot (None: no opening
    within the booking horizon). For automatic retries, which must land in business hours."""
    if slot_containing(policy, after) is not None:
        return after
    day = after.astimezone(ZoneInfo(policy.time_zone)).date()
    for offset in range(policy.booking_horizon_days + 1):
        for start, _end in slot_grid(policy, day + timedelta(days=offset)):
            if start >= after:
                return start
    return None
