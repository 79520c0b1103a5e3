"""The health payload in Prometheus' text exposition format (version 0.0.4), for GET /metrics.

Written by hand: a few gauges need no client library. Every figure is a gauge (today's counters
restart at local midnight); an undefined rate (no tickets in the window) is NaN, as Prometheus
expects, rather than a made-up 0.
"""

import math
from collections.abc import Iterator
from datetime import datetime
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# name, help, how to read it from a queue's payload: (labels, value) pairs
_QueueMetric = tuple[str, str, list[tuple[dict[str, str], str]]]

_QUEUE_METRICS: list[_QueueMetric] = [
    ("cx_queue_waiting", "Tickets waiting in the queue now.", [({}, "waiting")]),
    ("cx_queue_longest_wait_seconds", "Age of the oldest waiting ticket.", [({}, "longest_wait_seconds")]),
    (
        "cx_queue_sla_breaches",
        "Waiting tickets that have waited past the service-level time.",
        [({}, "sla_breaches_now")],
    ),
    ("cx_queue_offered_today", "Tickets that entered the queue since local midnight.", [({}, "offered_today")]),
    ("cx_queue_assigned_today", "Tickets first assigned since local midnight.", [({}, "assigned_today")]),
    ("cx_queue_resolved_today", "Tickets resolved since local midnight.", [({}, "resolved_today")]),
    (
        "cx_queue_abandoned_today",
        "Tickets abandoned before any assignment since local midnight.",
        [({}, "abandoned_today")],
    ),
    (
        "cx_queue_average_speed_of_answer_seconds",
        "Mean of first assigned minus queued, over tickets assigned in the window.",
        [
            ({"window": "30m"}, "last_30_minutes.average_speed_of_answer_seconds"),
            ({"window": "today"}, "today.average_speed_of_answer_seconds"),
        ],
    ),
    (
        "cx_queue_service_level_ratio",
        "Assigned within target / (assigned + abandoned after the grace period), in the window.",
        [({"window": "30m"}, "last_30_minutes.service_level"), ({"window": "today"}, "today.service_level")],
    ),
    ("cx_queue_service_level_target_seconds", "The queue's service-level time.", [({}, "service_level_seconds")]),
    (
        "cx_queue_service_level_target_ratio",
        "The queue's service-level target share.",
        [({}, "service_level_target_ratio")],
    ),
    (
        "cx_queue_average_handle_time_seconds",
        "Mean of resolved minus first assigned, today.",
        [({}, "average_handle_time_seconds")],
    ),
    (
        "cx_queue_agents",
        "Agents staffing the queue, by state.",
        [({"state": s}, f"agents_{s}") for s in ("online", "available", "busy", "away")],
    ),
    ("cx_queue_occupancy_ratio", "Open tickets / total capacity of the queue's online agents.", [({}, "occupancy")]),
    (
        "cx_queue_callbacks",
        "Callbacks of the queue: due in the next hour, overdue, missed today.",
        [({"state": s}, f"callbacks_{s}") for s in ("due_next_hour", "overdue", "missed_today")],
    ),
]

# Satisfaction, per queue and per agent, over windows of resolutions: today and the last 7 days.
_CSAT_WINDOWS = (("today", "today"), ("7d", "last_7_days"))
_CSAT_METRICS = [
    ("csat_ratings", "Satisfaction ratings of the resolutions in the window.", "ratings"),
    ("csat_satisfied_ratio", "Share of those ratings scoring 4 or 5.", "satisfied_share"),
    ("csat_response_ratio", "Resolutions in the window that were rated / resolutions in the window.", "response_rate"),
]
_QUEUE_METRICS += [
    (
        f"cx_queue_{name}",
        help_text,
        [({"window": label}, f"csat.{window}.{key}") for label, window in _CSAT_WINDOWS],
    )
    for name, help_text, key in _CSAT_METRICS
]

_AGENT_METRICS = [
    ("cx_agent_open_tickets", "Tickets the agent holds now.", "open_tickets"),
    ("cx_agent_capacity", "Tickets the agent may hold at once.", "capacity"),
    ("cx_agent_handled_today", "Tickets the agent resolved since local midnight.", "handled_today"),
    (
        "cx_agent_average_handle_time_seconds",
        "Mean handle time of the agent's tickets resolved today.",
        "average_handle_time_seconds",
    ),
]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _number(value: Any) -> str:
    if value is None:
        return "NaN"
    if isinstance(value, bool):
        return "1" if value else "0"
    number = float(value)
    if math.isnan(number):
        return "NaN"
    return str(int(number)) if number.is_integer() else repr(number)


def _dig(data: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        data = data[key]
    return data


def render(health: dict[str, Any]) -> str:
    """Prometheus text for a payload from supervision.selectors.current_health()."""
    return "".join(_lines(health))


def _lines(health: dict[str, Any]) -> Iterator[str]:
    queues = [
        {**queue, "service_level_target_ratio": queue["service_level_target_percent"] / 100}
        for queue in health["queues"]
    ]
    for name, help_text, series in _QUEUE_METRICS:
        yield f"# HELP {name} {help_text}\n# TYPE {name} gauge\n"
        for queue in queues:
            for labels, path in series:
                yield f"{name}{_labels({'queue': queue['slug'], **labels})} {_number(_dig(queue, path))}\n"
    for name, help_text, key in _AGENT_METRICS:
        yield f"# HELP {name} {help_text}\n# TYPE {name} gauge\n"
        for agent in health["agents"]:
            yield f"{name}{_labels({'agent': agent['username']})} {_number(agent[key])}\n"
    for name, help_text, key in _CSAT_METRICS:
        yield f"# HELP cx_agent_{name} {help_text}\n# TYPE cx_agent_{name} gauge\n"
        for agent in health["agents"]:
            for label, window in _CSAT_WINDOWS:
                agent_labels = _labels({"agent": agent["username"], "window": label})
                yield f"cx_agent_{name}{agent_labels} {_number(agent['csat'][window][key])}\n"
    yield "# HELP cx_csat_low_ratings_to_follow_up Ratings of 1-2 no supervisor has followed up yet.\n"
    yield "# TYPE cx_csat_low_ratings_to_follow_up gauge\n"
    yield f"cx_csat_low_ratings_to_follow_up {_number(health['low_ratings_to_follow_up'])}\n"
    yield "# HELP cx_agent_status 1 for the agent's current status.\n# TYPE cx_agent_status gauge\n"
    for agent in health["agents"]:
        yield f"cx_agent_status{_labels({'agent': agent['username'], 'status': agent['status']})} 1\n"
    generated = datetime.fromisoformat(health["generated_at"]).timestamp()
    yield "# HELP cx_health_generated_timestamp_seconds When these figures were computed (Unix time).\n"
    yield f"# TYPE cx_health_generated_timestamp_seconds gauge\ncx_health_generated_timestamp_seconds {_number(round(generated, 3))}\n"
