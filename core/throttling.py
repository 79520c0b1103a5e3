"""Rate limits counted in fixed windows, with each process taking its share a block at a time.

DRF's own throttles keep every request's timestamp in one cached list, read and written whole on
each request: at the intake limit (6,000 a minute) that list is 6,000 floats pickled twice per
inquiry. A fixed-window counter (INCR with an expiry) costs the same at any rate. Its known
trade-off: a client can fit up to twice the limit into the two seconds around a window boundary.
When the cache cannot be reached the request is let through (and logged): a throttle must not
turn a Redis hiccup into lost inquiries.

A round trip to Redis per request is a real share of an inquiry's cost, so a process counts a block
of requests at once (1/LEASE_DIVISOR of the limit, at least 1) and spends it locally; it goes
back to Redis when the block is spent or the window turns. The total counted never exceeds the
limit's worth of grants: a process is granted only the part of its block that fits. The cost is
a little under-admission: a block a process took but did not spend is lost with the window (at
most 1/LEASE_DIVISOR of the limit per web process and window).
"""

import logging
import threading
import time
from dataclasses import dataclass

from django.core.cache import cache as default_cache
from django.core.cache.backends.base import BaseCache
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle, BaseThrottle, ScopedRateThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from core.caching import count_in_window
from core.env import parse_rate

logger = logging.getLogger(__name__)

LEASE_DIVISOR = 50
# Bound on the blocks a process remembers (one per throttled client and window).
LEASES_MAX = 10_000


class ProcessLeases:
    """The blocks one process holds: "<key>:w<window>" -> requests left in its block."""

    def __init__(self) -> None:
        self._left: dict[str, int] = {}
        self._lock = threading.Lock()

    def spend(self, window_key: str) -> bool:
        with self._lock:
            left = self._left.get(window_key, 0)
            if left > 0:
                self._left[window_key] = left - 1
                return True
        return False

    def keep(self, window_key: str, left: int) -> None:
        with self._lock:
            if len(self._left) >= LEASES_MAX:
                self._left.clear()  # old windows' blocks; a client still active takes a new block
            self._left[window_key] = left

    def reset(self) -> None:
        with self._lock:
            self._left.clear()


leases = ProcessLeases()  # this process's


def reset_leases() -> None:
    """Forget this process's blocks: the next request of every client goes back to the counter."""
    leases.reset()


def _allow_in_window(throttle: SimpleRateThrottle, request: Request, view: APIView) -> bool:
    num_requests, duration = getattr(throttle, "num_requests", None), getattr(throttle, "duration", None)
    if throttle.rate is None or num_requests is None or duration is None:
        return True
    key = throttle.get_cache_key(request, view)
    if key is None:
        return True
    window = int(throttle.timer() // duration)
    throttle.window_ends_at = (window + 1) * duration  # type: ignore[attr-defined]
    window_key = f"{key}:w{window}"
    if leases.spend(window_key):
        return True
    block = max(1, num_requests // LEASE_DIVISOR)
    try:
        total = count_in_window(throttle.cache, window_key, duration + 1, block)
    except Exception:
        logger.warning("Rate limit not checked: the cache did not answer.", exc_info=True)
        return True
    granted = min(block, num_requests - (total - block))  # the part of this block inside the limit
    if granted <= 0:
        return False
    if granted > 1:
        leases.keep(window_key, granted - 1)
    return True


def _wait(throttle: SimpleRateThrottle) -> float:
    return max(0.0, getattr(throttle, "window_ends_at", 0.0) - throttle.timer())


class ScopedWindowRateThrottle(ScopedRateThrottle):
    """DRF's ScopedRateThrottle (the view's throttle_scope), counted in fixed windows."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return _allow_in_window(self, request, view)

    def wait(self) -> float:
        return _wait(self)


class AnonWindowRateThrottle(AnonRateThrottle):
    """DRF's AnonRateThrottle (per client address), counted in fixed windows."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        return _allow_in_window(self, request, view)

    def wait(self) -> float:
        return _wait(self)


# --- The same limits for Django views (the shopper page's forms) ------------------------------


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the window that refused turns


def client_address(request: HttpRequest) -> str:
    """The client's address as DRF's throttles see it (its NUM_PROXIES rule), so a page and the
    API count one client the same way."""
    return str(BaseThrottle().get_ident(request))  # type: ignore[arg-type]


def hit(*, key: str, rate: str, cache: BaseCache | None = None) -> Verdict:
    """Count one request for `key` in its fixed window of `rate` ("30/hour"); refused once the
    window is over the limit. One cache round trip; no per-process blocks (a page's posts are
    few). Fails open, like the API's throttles, when the cache does not answer."""
    limit, duration = parse_rate(rate)
    now = time.time()
    window = int(now // duration)
    try:
        total = count_in_window(cache or default_cache, f"{key}:w{window}", duration + 1)
    except Exception:
        logger.warning("Rate limit not checked: the cache did not answer.", exc_info=True)
        return Verdict(allowed=True)
    if total > limit:
        return Verdict(allowed=False, retry_after=max(1, int((window + 1) * duration - now)))
    return Verdict(allowed=True)
