"""Only supervisors see queue health: the page, its fragment, the JSON API and /metrics."""

import math
import re

import pytest
import time_machine
from django.test import Client, override_settings
from rest_framework.test import APIClient

from supervision.selectors import forget_health
from teams.services import issue_api_token
from tests.helpers import shanghai_time, ticket_on_timeline

pytestmark = pytest.mark.django_db

PAGES = ["/console/dashboard/", "/console/dashboard/live/"]
PROMETHEUS_LINE = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (NaN|-?[0-9.e+]+)$')


def test_agents_are_refused_the_page_the_fragment_the_api_and_metrics(ana, signed_in) -> None:
    client = signed_in(ana)

    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 403
        assert "for supervisors" in response.content.decode()
    assert client.get("/api/v1/queues/health/").status_code == 403
    assert client.get("/metrics").status_code == 403
    # ...and every action.
    assert client.post("/console/dashboard/reassign/", {"ticket": 1, "queue": 1, "reason": "x"}).status_code == 403
    assert client.post(f"/console/dashboard/agents/{ana.id}/status/", {"status": "offline"}).status_code == 403
    assert client.get(f"/console/dashboard/agents/{ana.id}/").status_code == 403


def test_signed_out_visitors_are_sent_to_log_in_or_get_401() -> None:
    for path in PAGES:
        response = Client().get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert APIClient().get("/api/v1/queues/health/").status_code in (401, 403)
    metrics = APIClient().get("/metrics")
    assert metrics.status_code == 401
    assert metrics["WWW-Authenticate"].startswith("Bearer")


def test_the_header_shows_the_dashboard_link_to_supervisors_only(ana, sam, signed_in) -> None:
    assert "/console/dashboard/" in signed_in(sam).get("/console/").content.decode()
    assert "/console/dashboard/" not in signed_in(ana).get("/console/").content.decode()


def test_a_supervisor_reads_the_same_numbers_on_the_api_as_the_selectors(sam, ana, signed_in) -> None:
    with time_machine.travel(shanghai_time(25, 10, 0), tick=False):
        ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 50))
        ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 40), assigned=shanghai_time(25, 9, 41), agent=ana)
        data = signed_in(sam).get("/api/v1/queues/health/").json()

    jewelry = next(q for q in data["queues"] if q["slug"] == "jewelry")
    assert jewelry["waiting"] == 1
    assert jewelry["longest_wait_seconds"] == 600.0
    assert jewelry["last_30_minutes"]["service_level"] == 1.0
    assert jewelry["last_30_minutes"]["average_speed_of_answer_seconds"] == 60.0
    assert jewelry["state"] == "warn"  # waiting past the 120 s target; service level fine
    assert {"callbacks_due_next_hour", "callbacks_overdue", "callbacks_missed_today"} <= set(jewelry)
    assert data["time_zone"] == "Asia/Shanghai"
    assert {a["username"] for a in data["agents"]} == {"ana", "sam"}


def test_the_health_payload_is_cached_for_a_moment(sam, signed_in, settings) -> None:
    settings.QUEUE_HEALTH_CACHE_SECONDS = 60
    client = signed_in(sam)
    first = client.get("/api/v1/queues/health/").json()
    ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 50))

    assert client.get("/api/v1/queues/health/").json() == first  # served from the cache
    forget_health()
    again = client.get("/api/v1/queues/health/").json()
    assert next(q for q in again["queues"] if q["slug"] == "jewelry")["waiting"] == 1


def test_a_supervisor_token_reads_the_api_and_metrics(sam) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=sam.user)}")

    assert client.get("/api/v1/queues/health/").status_code == 200
    assert client.get("/metrics").status_code == 200


@override_settings(METRICS_TOKEN="scrape-secret-123")
def test_prometheus_scrapes_with_the_metrics_token_and_gets_valid_text(ana) -> None:
    ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 50))
    assert APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401

    response = APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-123")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert line.startswith(("# HELP ", "# TYPE "))
            continue
        assert PROMETHEUS_LINE.match(line), line
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    assert samples['cx_queue_waiting{queue="jewelry"}'] == 1
    assert samples['cx_queue_agents{queue="jewelry",state="online"}'] == 1
    assert math.isnan(samples['cx_queue_service_level_ratio{queue="jewelry",window="30m"}'])  # nothing answered yet
    assert samples['cx_queue_service_level_target_ratio{queue="jewelry"}'] == 0.8
    assert samples['cx_agent_status{agent="ana",status="online"}'] == 1


def test_the_metrics_token_is_not_accepted_when_none_is_configured(ana) -> None:
    assert APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_the_live_fragment_costs_the_same_few_queries_however_many_agents(
    sam, ana, signed_in, django_assert_max_num_queries
) -> None:
    from supervision.services import sample_queue_health
    from tests.factories import AgentFactory, UserFactory

    client = signed_in(sam)
    sample_queue_health()
    # 20, plus: the storefront webhook endpoints that need attention (1), the after-sales figures
    # (4), the category names of skills (1, once, then cached), the offers card (3), the proactive
    # service's figures (3).
    with django_assert_max_num_queries(32) as few:
        assert client.get("/console/dashboard/live/").status_code == 200
    for n in range(8):  # away with no console open: each one is on the board
        AgentFactory(
            user=UserFactory(username=f"more{n}"),
            skills=["jewelry", "books"],
            status="away",
            status_set_by_presence=True,
        )
        ticket_on_timeline("books", queued=shanghai_time(25, 9, 50 + n))
    forget_health()
    with django_assert_max_num_queries(len(few)):
        page = client.get("/console/dashboard/live/").content.decode()
    assert page.count('data-agent="more') == 8


def test_the_published_schema_describes_exactly_what_the_api_returns(sam, ana, signed_in) -> None:
    from supervision.api import (
        AgentRowSerializer,
        CsatFiguresSerializer,
        HealthSerializer,
        QueueHealthSerializer,
        WindowFiguresSerializer,
    )

    data = signed_in(sam).get("/api/v1/queues/health/").json()
    queue = data["queues"][0]
    assert set(data) == set(HealthSerializer().fields)
    assert set(queue) == set(QueueHealthSerializer().fields)
    assert set(queue["today"]) == set(WindowFiguresSerializer().fields)
    assert set(data["agents"][0]) == set(AgentRowSerializer().fields)
    assert set(queue["csat"]) == set(data["agents"][0]["csat"]) == set(data["csat"]) == {"today", "last_7_days"}
    assert set(queue["csat"]["today"]) == set(CsatFiguresSerializer().fields)
    schema = signed_in(sam).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "QueueHealth" in schema["components"]["schemas"]
