"""Rate limits counted in fixed windows: one Redis round trip per request.

DRF's own throttles keep every request's timestamp in one cached list, read and written whole on
each request: at the intake limit (6,000 a minute) that list is 6,000 floats pickled twice per
inquiry. A fixed-window counter (INCR with an expiry) costs the same at any rate. Its known
trade-off: a client can fit up to twice the limit into the two seconds around a window boundary.
When the cache cannot be reached the request is let through (and logged): a throttle must not
turn a Redis hiccup into lost inquiries.
"""

import logging

from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from cxconsole.caching import count_in_window

logger = logging.getLogger(__name__)


def _allow_in_window(throttle: SimpleRateThrottle, request: Request, view: APIView) -> bool:
    num_requests, duration = getattr(throttle, "num_requests", None), getattr(throttle, "duration", None)
    if throttle.rate is None or num_requests is None or duration is None:
        return True
    key = throttle.get_cache_key(request, view)
    if key is None:
        return True
    window = int(throttle.timer() // duration)
    throttle.window_ends_at = (window + 1) * duration  # type: ignore[attr-defined]
    try:
        count = count_in_window(throttle.cache, f"{key}:w{window}", duration + 1)
    except Exception:
        logger.warning("Rate limit not checked: the cache did not answer.", exc_info=True)
        return True
    return count <= num_requests


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
