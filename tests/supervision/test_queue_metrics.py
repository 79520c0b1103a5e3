"""Every queue metric on a constructed timeline, exactly as the README defines it.

The clock is frozen at 10:00 Shanghai time on 25 November; "today" began at local midnight, the
trailing window at 09:30. The jewelry queue's service-level target is 120 s at 80 %; abandoning
within 10 s (the grace) leaves a ticket out of the service level.
"""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings

from routing.services import set_agent_status
from supervision.selectors import agent_board, csat_at, day_start, queue_health
from teams.models import AgentStatus, SpecialistQueue
from tests.factories import AgentFactory, UserFactory
from tests.helpers import shanghai_time, ticket_on_timeline

pytestmark = pytest.mark.django_db

NOW = shanghai_time(25, 10, 0)


def jewelry_at(now=NOW):
    return next(q for q in queue_health(now=now) if q.slug == "jewelry")


@pytest.fixture
def jewelry_day(ana, mei):
    """The jewelry queue's morning, plus noise from other days and another queue."""
    with time_machine.travel(NOW, tick=False):
        made = {
            # Assigned after 60 s, resolved 9 min later: inside the trailing window.
            "a": ticket_on_timeline(
                "jewelry",
                queued=shanghai_time(25, 9, 40),
                assigned=shanghai_time(25, 9, 41),
                resolved=shanghai_time(25, 9, 50),
                agent=ana,
            ),
            # Assigned after 300 s (past the 120 s target), before the trailing window.
            "b": ticket_on_timeline(
                "jewelry", queued=shanghai_time(25, 9, 0), assigned=shanghai_time(25, 9, 5), agent=ana
            ),
            # Waiting 600 s: past the target, so an SLA breach now.
            "c": ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 50)),
            # Waiting 60 s: no breach.
            "d": ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 59)),
            # Assigned after exactly 120 s: within the target (≤).
            "e": ticket_on_timeline(
                "jewelry", queued=shanghai_time(25, 9, 35), assigned=shanghai_time(25, 9, 37), agent=ana
            ),
            # Abandoned after 5 s: inside the grace, out of the service level, still abandoned today.
            "f": ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 45), abandoned=shanghai_time(25, 9, 45, 5)),
            # Abandoned after 120 s, inside the trailing window: counts against the service level.
            "g": ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 31), abandoned=shanghai_time(25, 9, 33)),
            # Queued before midnight, assigned after: assigned today (within 120 s), not offered today.
            "h": ticket_on_timeline(
                "jewelry", queued=shanghai_time(24, 23, 59), assigned=shanghai_time(25, 0, 1), agent=ana
            ),
            # Abandoned after 300 s, before the trailing window: today's service level only.
            "k": ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 20), abandoned=shanghai_time(25, 9, 25)),
            # Assigned yesterday, resolved after midnight: resolved today, handle time 2 h 29 min.
            "l": ticket_on_timeline(
                "jewelry",
                queued=shanghai_time(24, 22, 0),
                assigned=shanghai_time(24, 22, 1),
                resolved=shanghai_time(25, 0, 30),
                agent=ana,
            ),
            # Assigned at exactly 09:30:00 after 60 s: the trailing window includes its start.
            "m": ticket_on_timeline(
                "jewelry", queued=shanghai_time(25, 9, 29), assigned=shanghai_time(25, 9, 30), agent=ana
            ),
            # Two days ago: in no window at all.
            "old": ticket_on_timeline(
                "jewelry",
                queued=shanghai_time(23, 9, 0),
                assigned=shanghai_time(23, 9, 10),
                resolved=shanghai_time(23, 9, 20),
                agent=ana,
            ),
            "old_abandoned": ticket_on_timeline(
                "jewelry", queued=shanghai_time(23, 9, 0), abandoned=shanghai_time(23, 9, 30)
            ),
            # Another queue's tickets never count in jewelry.
            "baby_waiting": ticket_on_timeline("maternal_baby", queued=shanghai_time(25, 8, 0)),
            "baby_assigned": ticket_on_timeline(
                "maternal_baby", queued=shanghai_time(25, 9, 40), assigned=shanghai_time(25, 9, 55), agent=mei
            ),
        }
    return made


def test_today_starts_at_local_midnight_in_the_dashboard_time_zone() -> None:
    assert day_start(NOW) == shanghai_time(25, 0, 0)
    # 23:30 UTC on the 24th is already 07:30 on the 25th in Shanghai.
    assert day_start(shanghai_time(25, 7, 30).astimezone(tz=None)) == shanghai_time(25, 0, 0)


def test_waiting_longest_wait_and_sla_breaches_now(jewelry_day) -> None:
    jewelry = jewelry_at()

    assert jewelry.waiting == 2
    assert jewelry.longest_wait_seconds == 600.0
    assert jewelry.sla_breaches_now == 1  # c waited 600 s; d only 60 s


def test_a_ticket_waiting_exactly_the_target_is_a_breach_as_routing_flags_it(ana) -> None:
    with time_machine.travel(NOW, tick=False):
        ticket_on_timeline("jewelry", queued=NOW - timedelta(seconds=120))  # the target, to the second
        ticket_on_timeline("jewelry", queued=NOW - timedelta(seconds=119))

    jewelry = jewelry_at()

    assert jewelry.sla_breaches_now == 1
    assert jewelry.longest_wait_seconds == 120.0
    assert not jewelry.longest_wait_past_target  # the tile turns at "past", not at the target


def test_todays_counts_offered_assigned_resolved_abandoned(jewelry_day) -> None:
    jewelry = jewelry_at()

    assert jewelry.offered_today == 9  # a b c d e f g k m (h and l were queued yesterday)
    assert jewelry.assigned_today == 5  # a b e h m
    assert jewelry.resolved_today == 2  # a and l
    assert jewelry.abandoned_today == 3  # f (inside the grace still counts) g k


def test_average_speed_of_answer_over_each_window(jewelry_day) -> None:
    jewelry = jewelry_at()

    assert jewelry.last_30_minutes.assigned == 3  # a e m
    assert jewelry.last_30_minutes.average_speed_of_answer_seconds == 80.0  # (60 + 120 + 60) / 3
    assert jewelry.today.average_speed_of_answer_seconds == 132.0  # (60 + 300 + 120 + 120 + 60) / 5


def test_service_level_counts_abandons_after_the_grace_only(jewelry_day) -> None:
    jewelry = jewelry_at()

    m30 = jewelry.last_30_minutes
    assert (m30.answered_within_target, m30.abandoned_after_grace) == (3, 1)  # a e m; g (f within grace)
    assert m30.service_level == 0.75
    today = jewelry.today
    assert (today.answered_within_target, today.abandoned_after_grace) == (4, 2)  # a e h m; g k
    assert today.service_level == pytest.approx(4 / 7, abs=1e-4)


@override_settings(SERVICE_LEVEL_ABANDON_GRACE_SECONDS=200)
def test_a_longer_grace_leaves_more_abandons_out(jewelry_day) -> None:
    jewelry = jewelry_at()

    assert jewelry.last_30_minutes.abandoned_after_grace == 0  # g abandoned after 120 s < 200 s
    assert jewelry.last_30_minutes.service_level == 1.0
    assert jewelry.today.abandoned_after_grace == 1  # only k (300 s)


def test_average_handle_time_is_resolved_minus_first_assigned(jewelry_day) -> None:
    assert jewelry_at().average_handle_time_seconds == (540 + 8940) / 2


def test_the_trailing_window_moves_with_the_clock(jewelry_day) -> None:
    later = jewelry_at(NOW + timedelta(minutes=6))  # the window now starts at 09:36

    assert later.last_30_minutes.assigned == 2  # a (09:41), e (09:37); m (09:30) has left
    assert later.last_30_minutes.abandoned_after_grace == 0  # g (09:33) has left
    assert later.longest_wait_seconds == 960.0
    assert later.sla_breaches_now == 2  # d now waited 420 s


def test_other_queues_count_their_own_tickets_only(jewelry_day) -> None:
    baby = next(q for q in queue_health(now=NOW) if q.slug == "maternal_baby")

    assert (baby.waiting, baby.offered_today, baby.assigned_today) == (1, 2, 1)
    assert baby.longest_wait_seconds == 7200.0
    assert baby.today.average_speed_of_answer_seconds == 900.0


def test_a_quiet_queue_shows_zeros_and_no_rates(db) -> None:
    books = next(q for q in queue_health(now=NOW) if q.slug == "books")

    assert (books.waiting, books.longest_wait_seconds, books.offered_today) == (0, 0.0, 0)
    assert books.last_30_minutes.service_level is None
    assert books.average_handle_time_seconds is None
    assert books.occupancy is None
    assert books.state == "ok"


def test_tiles_turn_red_when_both_thresholds_are_crossed(jewelry_day) -> None:
    jewelry = jewelry_at()

    assert jewelry.service_level_below_target  # 75 % < 80 %
    assert jewelry.longest_wait_past_target  # 600 s > 120 s
    assert jewelry.state == "alert"
    SpecialistQueue.objects.filter(slug="jewelry").update(service_level_target_percent=70, service_level_seconds=900)
    assert jewelry_at().state == "ok"


def test_agents_online_available_busy_away_and_occupancy(ana, bo, mei, sam) -> None:
    zed = AgentFactory.create(user=UserFactory.create(username="zed"), skills=["jewelry"], capacity=2)
    type(ana).objects.filter(pk=ana.pk).update(active_ticket_count=1)
    type(zed).objects.filter(pk=zed.pk).update(active_ticket_count=2)
    set_agent_status(agent=bo, status=AgentStatus.AWAY)

    health = {q.slug: q for q in queue_health(now=NOW)}

    jewelry = health["jewelry"]
    assert (jewelry.agents_online, jewelry.agents_available, jewelry.agents_busy, jewelry.agents_away) == (2, 1, 1, 1)
    assert jewelry.occupancy == 0.6  # (1 + 2) open ÷ (3 + 2) capacity of the online agents
    assert health["maternal_baby"].agents_online == 1
    assert health["supervisors"].agents_online == 1  # Sam
    assert health["triage"].agents_online == 4  # every online agent can triage


def test_agent_board_shows_status_load_and_todays_handling(jewelry_day, ana, mei) -> None:
    board = {row.username: row for row in agent_board(now=NOW)}

    assert board["ana"].handled_today == 2  # a and l
    assert board["ana"].average_handle_time_seconds == (540 + 8940) / 2
    assert board["ana"].primary_skills == ["jewelry"]
    assert board["mei"].handled_today == 0 and board["mei"].average_handle_time_seconds is None
    assert board["mei"].status == AgentStatus.ONLINE


def test_the_metrics_take_a_fixed_number_of_queries(django_assert_num_queries, jewelry_day, ana) -> None:
    # Satisfaction is read once (two queries) and shared by the queue tiles and the agent board.
    with django_assert_num_queries(2):
        csat = csat_at(NOW)
    with django_assert_num_queries(5):
        queue_health(now=NOW, csat=csat)
    with django_assert_num_queries(3):
        agent_board(now=NOW, csat=csat)
    with django_assert_num_queries(7):
        queue_health(now=NOW)
    # More queues, agents and tickets: still the same number of queries.
    extra = SpecialistQueue.objects.create(slug="luxury", name="Luxury")
    for n in range(5):
        AgentFactory(user=UserFactory(username=f"extra{n}"), skills=["jewelry", "books"])
        ticket_on_timeline("luxury", queued=shanghai_time(25, 9, 50 + n))
    with django_assert_num_queries(2):
        csat = csat_at(NOW)
    with django_assert_num_queries(5):
        assert any(q.queue_id == extra.id and q.waiting == 5 for q in queue_health(now=NOW, csat=csat))
    with django_assert_num_queries(3):
        agent_board(now=NOW, csat=csat)


def test_callbacks_due_overdue_and_missed_come_from_the_callbacks_app(jewelry_day) -> None:
    from callbacks.models import Callback, CallbackStatus

    def callback(at, status=CallbackStatus.SCHEDULED, **fields):
        # One ticket per callback: a ticket has at most one active callback.
        base = ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 50))
        return Callback.objects.create(
            ticket=base,
            queue=base.queue,
            booked_by="agent",
            phone="+8613800138000",
            scheduled_at=at,
            status=status,
            **fields,
        )

    callback(shanghai_time(25, 10, 30))  # due within the hour
    callback(shanghai_time(25, 11, 30))  # later: not yet
    callback(shanghai_time(25, 9, 45))  # past its time, not started: overdue
    callback(shanghai_time(25, 8, 0), status=CallbackStatus.MISSED, missed_at=shanghai_time(25, 8, 40))  # missed today
    callback(
        shanghai_time(24, 8, 0), status=CallbackStatus.MISSED, missed_at=shanghai_time(24, 8, 40)
    )  # missed yesterday

    jewelry = jewelry_at()

    assert (jewelry.callbacks_due_next_hour, jewelry.callbacks_overdue, jewelry.callbacks_missed_today) == (1, 1, 1)
    books = next(q for q in queue_health(now=NOW) if q.slug == "books")
    assert (books.callbacks_due_next_hour, books.callbacks_overdue, books.callbacks_missed_today) == (0, 0, 0)
