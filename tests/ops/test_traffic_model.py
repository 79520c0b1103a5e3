"""The simulator's traffic model: the same seed plays the same shoppers, and the work model holds
its one documented claim about specialists. No server needed."""

import itertools
import random

import pytest

from ops.simulation.model import (
    DAILY_CURVE,
    Corpus,
    TrafficConfig,
    WorkConfig,
    agent_decision,
    breaks,
    describe,
    handle_seconds,
    plan_arrivals,
    rate_at,
)

CORPUS = Corpus(
    [
        (lang, cat, f"{lang}-{cat}-{n}")
        for lang in ("zh", "en")
        for cat in TrafficConfig().category_mix
        for n in range(3)
    ]
)
SMALL = TrafficConfig(seed=7, rate_per_minute=20, duration_seconds=60)


def test_the_same_seed_plans_the_same_shoppers():
    assert plan_arrivals(SMALL, CORPUS) == plan_arrivals(SMALL, CORPUS)


def test_a_small_run_for_a_seed_has_this_exact_summary():
    assert describe(plan_arrivals(SMALL, CORPUS)) == {
        "inquiries": 23,
        "last_at": 55.862,
        "languages": {"en": 12, "zh": 11},
        "categories": {
            "apparel": 2,
            "beauty": 1,
            "books": 1,
            "electronics": 3,
            "flowers": 2,
            "fresh_food": 5,
            "home": 3,
            "jewelry": 3,
            "maternal_baby": 3,
        },
        "ask_for_person": 5,
        "write_back": 10,
        "book_callback": 3,
        "rate": 12,
    }


def test_another_seed_plans_other_shoppers():
    other = TrafficConfig(seed=8, rate_per_minute=20, duration_seconds=60)
    assert plan_arrivals(other, CORPUS) != plan_arrivals(SMALL, CORPUS)


def test_each_shopper_writes_in_their_language_about_their_category():
    for arrival in plan_arrivals(SMALL, CORPUS):
        assert arrival.body.startswith(f"{arrival.language}-{arrival.category}-")


def test_the_plan_stops_at_the_duration_and_at_the_count():
    assert all(a.at < 60 for a in plan_arrivals(SMALL, CORPUS))
    capped = TrafficConfig(seed=7, rate_per_minute=600, duration_seconds=600, max_inquiries=12)
    assert len(plan_arrivals(capped, CORPUS)) == 12


def test_arrivals_follow_the_daily_curve():
    # One simulated day per 240 s starting at midnight: the evening peak outnumbers the small hours.
    day = TrafficConfig(seed=3, rate_per_minute=120, duration_seconds=240, day_seconds=240, start_hour=0)
    per_hour = [0] * 24
    for arrival in plan_arrivals(day, CORPUS):
        per_hour[int(arrival.at / 10)] += 1
    assert sum(per_hour[19:23]) > 5 * sum(per_hour[2:6])
    assert rate_at(day, 21 * 10) / rate_at(day, 3 * 10) == pytest.approx(DAILY_CURVE[21] / DAILY_CURVE[3])


def test_the_mean_rate_over_a_day_is_the_configured_rate():
    day = TrafficConfig(rate_per_minute=60, day_seconds=24, start_hour=0)
    assert sum(rate_at(day, h + 0.5) for h in range(24)) / 24 == pytest.approx(1.0)


def test_a_generalist_takes_the_configured_factor_longer():
    work = WorkConfig(seed=5, generalist_factor=1.7)
    specialist = handle_seconds(work, ticket_key="12", agent="ana", turn=0, is_specialist=True)
    generalist = handle_seconds(work, ticket_key="12", agent="ana", turn=0, is_specialist=False)
    assert generalist == pytest.approx(1.7 * specialist)


def test_handle_times_do_not_depend_on_the_order_work_arrives_in():
    work = WorkConfig(seed=5)
    keys = [(str(i), agent) for i in range(20) for agent in ("ana", "bo")]
    forward = {k: handle_seconds(work, ticket_key=k[0], agent=k[1], turn=0, is_specialist=True) for k in keys}
    random.Random(1).shuffle(keys)  # noqa: S311 - a test's shuffle
    shuffled = {k: handle_seconds(work, ticket_key=k[0], agent=k[1], turn=0, is_specialist=True) for k in keys}
    assert forward == shuffled


def test_handle_times_average_near_the_configured_mean():
    work = WorkConfig(seed=2, handle_mean_seconds=30)
    draws = [handle_seconds(work, ticket_key=str(i), agent="li", turn=0, is_specialist=True) for i in range(4000)]
    assert sum(draws) / len(draws) == pytest.approx(30, rel=0.05)


def test_escalations_and_transfers_come_at_their_shares():
    work = WorkConfig(seed=4, escalate_share=0.1, transfer_share=0.2)
    decisions = [agent_decision(work, ticket_key=str(i), agent="kai") for i in range(5000)]
    assert decisions.count("escalate") / 5000 == pytest.approx(0.1, abs=0.015)
    assert decisions.count("transfer") / 5000 == pytest.approx(0.2, abs=0.02)


def test_breaks_fall_inside_the_run_and_do_not_overlap():
    plan = breaks(WorkConfig(seed=9, break_every_seconds=60, break_mean_seconds=20), agent="tom", horizon=600)
    assert plan and all(start < 600 for start, _ in plan)
    assert all(a[0] + a[1] <= b[0] for a, b in itertools.pairwise(plan))
    assert breaks(WorkConfig(break_every_seconds=0), agent="tom", horizon=600) == []


def test_a_staffed_mix_follows_the_rosters_primary_skills():
    from ops.simulation.model import staffed_mix

    mix = staffed_mix([["jewelry"], ["jewelry"], ["fresh_food", "flowers"], ["books"]])

    assert mix == {"books": 0.25, "flowers": 0.125, "fresh_food": 0.125, "jewelry": 0.5}
    plan = plan_arrivals(TrafficConfig(seed=5, rate_per_minute=120, duration_seconds=60, category_mix=mix), CORPUS)
    assert {a.category for a in plan} <= set(mix)
    assert describe(plan)["categories"]["jewelry"] > describe(plan)["categories"]["books"]
