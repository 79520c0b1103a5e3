"""One rule for "is this a time zone": an IANA name the system's time zone database knows."""

from functools import cache
from zoneinfo import available_timezones


@cache
def _names() -> frozenset[str]:
    return frozenset(available_timezones())  # a directory walk: once per process


def is_time_zone(name: str) -> bool:
    return name in _names()
