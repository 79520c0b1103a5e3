"""Slots follow each queue's business hours in its own time zone, skip holidays and closed days,
respect the per-slot limit, and keep local wall-clock times across daylight-saving changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from callbacks.models import BusinessHours, CallbackPolicy, Holiday
from callbacks.services import available_slots, book_callback, policy_for
from teams.models import SpecialistQueue
from tests.factories import queue
from tests.helpers import at_shanghai

pytestmark = pytest.mark.django_db


def local(slot_start: datetime, tz: str = "Asia/Shanghai") -> str:
    return slot_start.astimezone(ZoneInfo(tz)).strftime("%a %H:%M")


def test_every_existing_queue_has_default_hours_from_the_data_migration() -> None:
    policy = CallbackPolicy.objects.get(queue=queue("jewelry"))
    assert policy.time_zone == "Asia/Shanghai"
    hours = {(h.weekday, h.opens, h.closes) for h in policy.hours.all()}
    assert (0, time(9), time(18)) in hours and (5, time(10), time(16)) in hours
    assert not any(weekday == 6 for weekday, _, _ in hours)  # Sunday closed
    assert CallbackPolicy.objects.count() == SpecialistQueue.objects.count()


def test_a_queue_added_later_gets_a_policy_on_demand() -> None:
    fresh = SpecialistQueue.objects.create(slug="watches", name="Watches")
    assert not CallbackPolicy.objects.filter(queue=fresh).exists()
    policy = policy_for(fresh)
    assert policy.hours.count() == 6
    assert policy_for(fresh).pk == policy.pk  # idempotent


def test_slots_start_after_the_minimum_notice_and_stay_inside_business_hours(clock: object) -> None:
    # Monday 10:00 in Shanghai; 15 minutes' notice: the first slot is 10:30.
    slots = available_slots(queue=queue("jewelry"), now=at_shanghai(23, 10), days=1)
    assert [local(s.start) for s in slots][:2] == ["Mon 10:30", "Mon 11:00"]
    assert local(slots[-1].start) == "Mon 17:30" and local(slots[-1].end) == "Mon 18:00"
    assert all(s.remaining == 4 for s in slots)


def test_sundays_and_holidays_have_no_slots_and_saturday_has_short_hours(clock: object) -> None:
    policy = policy_for(queue("jewelry"))
    Holiday.objects.create(policy=policy, date=date(2026, 11, 25), name="Company day")
    slots = available_slots(queue=queue("jewelry"), now=at_shanghai(23, 10), days=7)
    days = {s.start.astimezone(ZoneInfo("Asia/Shanghai")).date() for s in slots}
    assert date(2026, 11, 25) not in days  # the holiday
    assert date(2026, 11, 29) not in days  # Sunday
    saturday = [local(s.start) for s in slots if s.start.astimezone(ZoneInfo("Asia/Shanghai")).weekday() == 5]
    assert saturday[0] == "Sat 10:00" and saturday[-1] == "Sat 15:30"


def test_a_slot_takes_only_its_limit_of_callbacks_then_disappears(clock: object, booked) -> None:
    policy = policy_for(queue("jewelry"))
    policy.callbacks_per_slot = 2
    policy.save()
    two_pm = at_shanghai(23, 14)
    booked(two_pm)
    booked(two_pm + timedelta(minutes=10))  # same 14:00–14:30 slot
    slots = available_slots(queue=queue("jewelry"), now=at_shanghai(23, 10), days=1, include_full=True)
    full = next(s for s in slots if s.start == two_pm)
    assert (full.booked, full.remaining) == (2, 0)
    assert two_pm not in [s.start for s in available_slots(queue=queue("jewelry"), now=at_shanghai(23, 10), days=1)]
    with pytest.raises(ValidationError) as refused:
        booked(two_pm + timedelta(minutes=20))
    assert refused.value.message_dict == {"scheduled_at": ["This slot is full; pick another time."]}


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (at_shanghai(23, 9, 30), "This time is in the past."),
        (at_shanghai(23, 19), "This time is outside the queue's business hours."),
        (at_shanghai(29, 11), "This time is outside the queue's business hours."),  # Sunday
        (at_shanghai(23, 8) + timedelta(days=20), "Callbacks can be booked up to 14 days ahead."),
    ],
)
def test_a_time_outside_what_is_bookable_is_refused_with_the_reason(clock: object, booked, when, message) -> None:
    with pytest.raises(ValidationError) as refused:
        booked(when)
    assert refused.value.message_dict["scheduled_at"] == [message]


def test_a_holiday_is_named_when_refused(clock: object, booked) -> None:
    Holiday.objects.create(policy=policy_for(queue("jewelry")), date=date(2026, 11, 24), name="Store anniversary")
    with pytest.raises(ValidationError) as refused:
        booked(at_shanghai(24, 11))
    assert "holiday (Store anniversary)" in refused.value.message_dict["scheduled_at"][0]


def test_a_window_must_end_by_closing_time(clock: object, booked) -> None:
    with pytest.raises(ValidationError) as refused:
        booked(at_shanghai(23, 17, 30), window_end=at_shanghai(23, 18, 30))
    assert refused.value.message_dict == {"window_end": ["The window must end by closing time."]}
    callback = booked(at_shanghai(23, 17), window_end=at_shanghai(23, 18))
    assert callback.window_end == at_shanghai(23, 18)


def _berlin_queue() -> SpecialistQueue:
    policy = policy_for(queue("flowers"))
    policy.time_zone = "Europe/Berlin"
    policy.save()
    policy.hours.all().delete()
    BusinessHours.objects.bulk_create(
        [BusinessHours(policy=policy, weekday=d, opens=time(9), closes=time(12)) for d in range(7)]
    )
    return queue("flowers")


def test_slots_keep_local_wall_clock_times_across_the_spring_daylight_saving_change() -> None:
    # Berlin moves from UTC+1 to UTC+2 in the night to Sunday 29 March 2026.
    flowers = _berlin_queue()
    with time_machine.travel(datetime(2026, 3, 27, 6, 0, tzinfo=UTC), tick=False):
        slots = available_slots(queue=flowers, now=datetime(2026, 3, 27, 6, 0, tzinfo=UTC), days=4)
    first_of_day: dict[date, datetime] = {}
    for slot in slots:
        first_of_day.setdefault(slot.start.astimezone(ZoneInfo("Europe/Berlin")).date(), slot.start)
    saturday, sunday = first_of_day[date(2026, 3, 28)], first_of_day[date(2026, 3, 29)]
    assert saturday.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") == "09:00"
    assert sunday.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") == "09:00"
    # Same local time, different UTC instants: 08:00Z before the change, 07:00Z after.
    assert (saturday.hour, sunday.hour) == (8, 7)
    assert saturday.tzinfo is not None and saturday.utcoffset() == timedelta(0)


def test_slots_keep_local_wall_clock_times_across_the_autumn_change_in_new_york() -> None:
    policy = policy_for(queue("books"))
    policy.time_zone = "America/New_York"
    policy.save()
    # New York leaves daylight saving on Sunday 1 November 2026 (UTC-4 → UTC-5).
    with time_machine.travel(datetime(2026, 10, 29, 12, 0, tzinfo=UTC), tick=False):
        slots = available_slots(queue=queue("books"), now=datetime(2026, 10, 29, 12, 0, tzinfo=UTC), days=7)
    friday = [s for s in slots if s.start.astimezone(ZoneInfo("America/New_York")).date() == date(2026, 10, 30)]
    monday = [s for s in slots if s.start.astimezone(ZoneInfo("America/New_York")).date() == date(2026, 11, 2)]
    assert friday[0].start == datetime(2026, 10, 30, 13, 0, tzinfo=UTC)  # 09:00 EDT
    assert monday[0].start == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert len(friday) == len(monday) == 18


def test_a_local_hour_skipped_by_daylight_saving_yields_no_slot() -> None:
    policy = policy_for(queue("home"))
    policy.time_zone = "Europe/Berlin"
    policy.save()
    policy.hours.all().delete()
    BusinessHours.objects.create(policy=policy, weekday=6, opens=time(1), closes=time(4))  # Sunday night
    with time_machine.travel(datetime(2026, 3, 27, 6, 0, tzinfo=UTC), tick=False):
        slots = available_slots(queue=queue("home"), now=datetime(2026, 3, 27, 6, 0, tzinfo=UTC), days=3)
    local_starts = [s.start.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") for s in slots]
    # 02:00–03:00 does not exist that night; the slots touching it are left out.
    assert local_starts == ["01:00", "03:00", "03:30"]


def test_a_callback_booked_across_the_change_is_stored_in_utc_and_shown_in_local_time(emma) -> None:
    flowers = _berlin_queue()
    from tests.factories import TicketFactory

    ticket = TicketFactory.create(shopper=emma, queue=flowers, status="queued", language="en")
    with time_machine.travel(datetime(2026, 3, 27, 6, 0, tzinfo=UTC), tick=False):
        callback = book_callback(
            ticket=ticket,
            scheduled_at=datetime(2026, 3, 30, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")),
            phone=emma.phone,
        )
    callback.refresh_from_db()
    assert callback.scheduled_at == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert callback.scheduled_at.tzinfo == UTC or callback.scheduled_at.utcoffset() == timedelta(0)
    sms = callback.notifications.get(channel="sms")
    assert "Mon 30 Mar 2026, 10:00 (Europe/Berlin)" in sms.body
