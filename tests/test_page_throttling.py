"""Rate limits for Django views (core.throttling.hit): the limit holds within a window, the next
window starts afresh, the refused client is told how long to wait; rates from the environment
are checked at start-up (core.env.env_rate)."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured

from core.env import env_rate, parse_rate
from core.throttling import hit

HOUR_START = 1_900_000_000 // 3600 * 3600


def at(seconds_into_hour: float) -> datetime:
    return datetime.fromtimestamp(HOUR_START + seconds_into_hour, UTC)


def test_the_limit_holds_in_a_window_and_the_next_window_starts_afresh() -> None:
    cache = LocMemCache("page-throttle", {})
    with time_machine.travel(at(3000), tick=False):
        verdicts = [hit(key="k", rate="3/hour", cache=cache) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].retry_after == 600
    with time_machine.travel(at(3600), tick=False):
        assert hit(key="k", rate="3/hour", cache=cache).allowed
    assert hit(key="other", rate="3/hour", cache=cache).allowed


@pytest.mark.parametrize(("rate", "parsed"), [("30/hour", (30, 3600)), ("5/m", (5, 60)), (" 1 / day ", (1, 86400))])
def test_rates_read_as_drf_writes_them(rate: str, parsed: tuple[int, int]) -> None:
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "30", "thirty/hour", "0/hour", "30/fortnight", "-1/minute"])
def test_a_bad_rate_in_the_environment_stops_start_up(monkeypatch, rate: str) -> None:
    monkeypatch.setenv("SOME_RATE", rate or "x")
    with pytest.raises(ImproperlyConfigured, match="SOME_RATE"):
        env_rate("SOME_RATE", "30/hour")
