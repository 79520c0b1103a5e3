"""Sam reads satisfaction on the dashboard, the health API and /metrics, for a known week of ratings.

The clock is frozen at 10:00 Shanghai time on 25 November: "today" began at local midnight, the
7 days at midnight on the 19th. A rating counts in the window its resolution fell in.

Jewelry (all Ana's):               Maternal & baby (Mei's):
  t1 resolved 25th 09:00, rated 5    m1 resolved 25th 09:30, rated 4
  t2 resolved 25th 08:00, rated 2 (low)
  t3 resolved 25th 07:00, not rated
  t4 resolved 22nd 12:00, rated 4
  t5 resolved 18th 23:59, rated 1 (low; before the 7 days)
  t6 resolved 19th 00:00, rated 3 (the 7 days include their first instant)
  t7 resolved 24th 10:00, rated 1 (low); reopened, resolved again 25th 09:10, rated 5
"""

import math
import re
from datetime import datetime

import pytest
import time_machine
from django.test import Client

from satisfaction.models import Rating
from satisfaction.services import rate_ticket
from supervision.models import SupervisorAction
from supervision.selectors import current_health
from teams.models import AgentProfile
from tests.helpers import shanghai_time, ticket_on_timeline
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

NOW = shanghai_time(25, 10, 0)


def resolved_and_rated(
    queue: str, agent: AgentProfile, resolved: datetime, score: int | None, comment: str = ""
) -> Ticket:
    made = ticket_on_timeline(queue, queued=resolved, assigned=resolved, resolved=resolved, agent=agent)
    if score is not None:
        with time_machine.travel(resolved.replace(second=30), tick=False):
            rate_ticket(ticket_id=made.pk, score=score, comment=comment)
    return made


@pytest.fixture
def week(ana, mei) -> dict[str, Ticket]:
    made = {
        "t1": resolved_and_rated("jewelry", ana, shanghai_time(25, 9, 0), 5),
        "t2": resolved_and_rated("jewelry", ana, shanghai_time(25, 8, 0), 2, "戒指有划痕，换货太慢"),
        "t3": resolved_and_rated("jewelry", ana, shanghai_time(25, 7, 0), None),
        "t4": resolved_and_rated("jewelry", ana, shanghai_time(22, 12, 0), 4),
        "t5": resolved_and_rated("jewelry", ana, shanghai_time(18, 23, 59), 1, "too slow"),
        "t6": resolved_and_rated("jewelry", ana, shanghai_time(19, 0, 0), 3),
        "t7": resolved_and_rated("jewelry", ana, shanghai_time(24, 10, 0), 1, "still too big"),
        "m1": resolved_and_rated("maternal_baby", mei, shanghai_time(25, 9, 30), 4),
    }
    # t7 is reopened and resolved again (the routing services' effect on these columns), then rated.
    Ticket.objects.filter(pk=made["t7"].pk).update(resolved_at=shanghai_time(25, 9, 10))
    with time_machine.travel(shanghai_time(25, 9, 20), tick=False):
        rate_ticket(ticket_id=made["t7"].pk, score=5)
    return made


def figures(ratings: int, satisfied: int, resolutions: int, rated: int) -> dict[str, object]:
    return {
        "ratings": ratings,
        "satisfied": satisfied,
        "satisfied_share": round(satisfied / ratings, 4) if ratings else None,
        "resolutions": resolutions,
        "rated_resolutions": rated,
        "response_rate": round(rated / resolutions, 4) if resolutions else None,
    }


JEWELRY = {"today": figures(3, 2, 4, 3), "last_7_days": figures(6, 3, 6, 5)}
BABY = {"today": figures(1, 1, 1, 1), "last_7_days": figures(1, 1, 1, 1)}
EVERYONE = {"today": figures(4, 3, 5, 4), "last_7_days": figures(7, 4, 7, 6)}
NOTHING = {"today": figures(0, 0, 0, 0), "last_7_days": figures(0, 0, 0, 0)}


def health() -> dict:
    with time_machine.travel(NOW, tick=False):
        return current_health(use_cache=False)


def test_csat_per_queue_for_today_and_seven_days(week) -> None:
    queues = {q["slug"]: q["csat"] for q in health()["queues"]}
    assert queues["jewelry"] == JEWELRY
    assert queues["maternal_baby"] == BABY
    assert queues["books"] == NOTHING  # no ratings, no resolutions: no rates rather than 0 %


def test_csat_per_agent_and_for_everyone(week, sam) -> None:
    data = health()
    agents = {a["username"]: a["csat"] for a in data["agents"]}
    assert agents["ana"] == JEWELRY
    assert agents["mei"] == BABY
    assert agents["sam"] == NOTHING
    assert data["csat"] == EVERYONE
    assert data["low_ratings_to_follow_up"] == 3  # t2, t5 and t7's first


def test_a_rating_keeps_the_agent_and_queue_of_the_resolution_it_rates(week, mei) -> None:
    # Re-routed to maternal & baby after Ana resolved it: the rating still counts for Ana's jewelry work.
    from tests.factories import queue

    Ticket.objects.filter(pk=week["t1"].pk).update(queue=queue("maternal_baby"), assigned_agent=mei.user)
    rating = Rating.objects.get(ticket=week["t1"])
    assert rating.queue.slug == "jewelry" and rating.agent.username == "ana"


def test_the_health_api_carries_the_csat(week, sam, signed_in) -> None:
    with time_machine.travel(NOW, tick=False):
        data = signed_in(sam).get("/api/v1/queues/health/").json()
    jewelry = next(q for q in data["queues"] if q["slug"] == "jewelry")
    assert jewelry["csat"] == JEWELRY
    assert data["csat"] == EVERYONE


def samples(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_expose_csat_per_queue_and_agent(week, sam, signed_in) -> None:
    with time_machine.travel(NOW, tick=False):
        text = signed_in(sam).get("/metrics").content.decode()
    got = samples(text)

    assert got['cx_queue_csat_ratings{queue="jewelry",window="today"}'] == 3
    assert got['cx_queue_csat_ratings{queue="jewelry",window="7d"}'] == 6
    assert got['cx_queue_csat_satisfied_ratio{queue="jewelry",window="today"}'] == 0.6667
    assert got['cx_queue_csat_satisfied_ratio{queue="jewelry",window="7d"}'] == 0.5
    assert got['cx_queue_csat_response_ratio{queue="jewelry",window="today"}'] == 0.75
    assert got['cx_queue_csat_response_ratio{queue="jewelry",window="7d"}'] == 0.8333
    assert got['cx_agent_csat_ratings{agent="mei",window="today"}'] == 1
    assert got['cx_agent_csat_satisfied_ratio{agent="ana",window="7d"}'] == 0.5
    assert math.isnan(got['cx_queue_csat_satisfied_ratio{queue="books",window="today"}'])
    assert got["cx_csat_low_ratings_to_follow_up"] == 3
    for name in ("cx_queue_csat_ratings", "cx_agent_csat_response_ratio", "cx_csat_low_ratings_to_follow_up"):
        assert f"# TYPE {name} gauge" in text


def test_the_dashboard_shows_csat_and_the_low_ratings_oldest_first(week, sam, signed_in) -> None:
    with time_machine.travel(NOW, tick=False):
        page = signed_in(sam).get("/console/dashboard/").content.decode()
    table = page[page.index('id="satisfaction"') : page.index('id="low-ratings"')]
    jewelry_row = re.search(r'data-csat="queue-jewelry">(.*?)</tr>', table, re.S)
    assert jewelry_row is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", jewelry_row.group(1))
    assert cells == ["3", "67%", "75%", "6", "50%", "83%"]
    assert 'data-csat="agent-ana"' in table and 'data-csat="agent-mei"' in table
    assert 'data-csat="agent-sam"' not in table  # no work this week: no row of dashes

    flagged = page[page.index('id="low-ratings"') : page.index('id="recent-actions"')]
    shown = [int(t) for t in re.findall(r'data-rating="(\d+)"', flagged)]
    expected = list(Rating.objects.filter(needs_follow_up=True).order_by("created_at").values_list("id", flat=True))
    assert shown == expected and len(shown) == 3
    assert "戒指有划痕，换货太慢" in flagged and f"/console/tickets/{week['t2'].pk}/" in flagged


def test_the_dashboard_costs_the_same_queries_however_many_ratings(
    week, sam, ana, signed_in, django_assert_max_num_queries
) -> None:
    client = signed_in(sam)
    with time_machine.travel(NOW, tick=False):
        with django_assert_max_num_queries(32) as few:
            assert client.get("/console/dashboard/live/").status_code == 200
        for hour in range(10):
            resolved_and_rated("books", ana, shanghai_time(25, 1 + hour % 8, hour), 1 + hour % 5, "meh")

        from supervision.selectors import forget_health

        forget_health()
        with django_assert_max_num_queries(len(few)):
            client.get("/console/dashboard/live/")


def test_a_supervisor_marks_a_low_rating_followed_up_and_the_log_says_so(week, sam, signed_in) -> None:
    low = Rating.objects.get(ticket=week["t2"])
    client = signed_in(sam)

    response = client.post(f"/console/dashboard/ratings/{low.id}/follow-up/", {"reason": "已致电客户并补发优惠券"})

    assert response.status_code == 302
    low.refresh_from_db()
    assert low.followed_up_by == sam.user and low.followed_up_at is not None
    action = SupervisorAction.objects.get(action=SupervisorAction.Kind.FOLLOW_UP_RATING)
    assert action.actor == sam.user and action.reason == "已致电客户并补发优惠券"
    with time_machine.travel(NOW, tick=False):
        page = client.get("/console/dashboard/").content.decode()
    assert f'data-rating="{low.id}"' not in page
    # A second click changes nothing and logs nothing.
    assert client.post(f"/console/dashboard/ratings/{low.id}/follow-up/").status_code == 302
    assert SupervisorAction.objects.filter(action=SupervisorAction.Kind.FOLLOW_UP_RATING).count() == 1


def test_following_up_refuses_agents_unknown_ratings_and_good_ratings(week, sam, ana, signed_in) -> None:
    low = Rating.objects.get(ticket=week["t2"])
    assert signed_in(ana).post(f"/console/dashboard/ratings/{low.id}/follow-up/").status_code == 403
    assert Client().post(f"/console/dashboard/ratings/{low.id}/follow-up/").status_code == 302  # to log in
    assert signed_in(sam).post("/console/dashboard/ratings/987654/follow-up/").status_code == 404
    good = Rating.objects.get(ticket=week["t1"])
    assert signed_in(sam).post(f"/console/dashboard/ratings/{good.id}/follow-up/").status_code == 409
    assert not Rating.objects.filter(followed_up_at__isnull=False).exists()
