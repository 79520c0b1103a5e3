"""A tiny per-process time-to-live cache for hot, rarely changing reads (category slugs,
a client's permission), so the intake path does not pay a query for them on every request."""

import threading
import time
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def ttl_cache(seconds: float) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        values: dict[Hashable, tuple[float, Any]] = {}
        lock = threading.Lock()

        @wraps(func)
        def wrapper(*args: Hashable) -> Any:
            now = time.monotonic()
            hit = values.get(args)
            if hit is not None and hit[0] > now:
                return hit[1]
            value = func(*args)
            with lock:
                values[args] = (now + seconds, value)
            return value

        wrapper.cache_clear = values.clear  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
