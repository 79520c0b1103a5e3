"""One rule decides what a time zone is: settings, the intake API and the callback rules use it."""

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from callbacks.models import validate_time_zone
from core.env import env_time_zone
from core.timezones import is_time_zone


@pytest.mark.parametrize("name", ["Asia/Shanghai", "Europe/Berlin", "UTC"])
def test_iana_names_are_time_zones(name: str) -> None:
    assert is_time_zone(name)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "asia/shanghai"])
def test_anything_else_is_not(name: str) -> None:
    assert not is_time_zone(name)


def test_a_bad_time_zone_setting_stops_the_process_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_TIME_ZONE", "Mars/Olympus")
    with pytest.raises(ImproperlyConfigured, match="not an IANA time zone"):
        env_time_zone("DASHBOARD_TIME_ZONE", "Asia/Shanghai")
    monkeypatch.delenv("DASHBOARD_TIME_ZONE")
    assert env_time_zone("DASHBOARD_TIME_ZONE", "Asia/Shanghai") == "Asia/Shanghai"


def test_a_callback_policy_refuses_an_unknown_time_zone() -> None:
    with pytest.raises(ValidationError):
        validate_time_zone("Mars/Olympus")
    validate_time_zone("America/New_York")
