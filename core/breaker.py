"""A circuit breaker for calls to another system (the storefront's order API).

After `failure_threshold` consecutive failures the circuit opens: calls fail at once, without
waiting on a system that is down, for `reset_seconds`. Then one trial call goes through
(half-open): success closes the circuit, failure opens it for another period.

Why not pybreaker: it holds its lock for the whole guarded call, so every thread of a process
waits on the slowest request (its issue #3; the PRs removing that were never merged). Here the
lock only guards the bookkeeping, never the call.

State is per process, in memory: sharing it (in Redis) would cost a round trip on every call
and make the guarded system's availability depend on Redis. Each process learns that the other
system is down after `failure_threshold` calls, each bounded by the caller's timeout.

The clock is the wall clock (time.time), so tests can move it with time-machine.
"""

import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(Exception):
    """The circuit is open (or its one trial call is in flight): the call was not attempted."""

    def __init__(self, name: str, retry_in: float) -> None:
        super().__init__(f"circuit {name!r} is open; next trial in {max(retry_in, 0):.1f} s")
        self.retry_in = max(retry_in, 0.0)


class CircuitBreaker:
    def __init__(
        self,
        *,
        name: str,
        failure_threshold: int,
        reset_seconds: float,
        counts_as_failure: Callable[[BaseException], bool] = lambda exc: True,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._counts_as_failure = counts_as_failure
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> CircuitState:
        with self._lock:
            if self._state is CircuitState.OPEN and time.time() >= self._opened_at + self.reset_seconds:
                return CircuitState.HALF_OPEN
            return self._state

    @property
    def failures(self) -> int:
        return self._failures

    def call(self, func: Callable[[], T]) -> T:
        """Run func unless the circuit is open; an exception for which counts_as_failure is
        false (e.g. "not found": the other system answered) counts as a success."""
        is_trial = self._admit()
        try:
            result = func()
        except BaseException as exc:
            if self._counts_as_failure(exc):
                self._record_failure(is_trial)
            else:
                self._record_success(is_trial)
            raise
        self._record_success(is_trial)
        return result

    def reset(self) -> None:
        with self._lock:
            self._state = CircuitState.CLOSED
            self._failures = 0
            self._trial_in_flight = False

    # Bookkeeping, each step under the lock (never the call itself).

    def _admit(self) -> bool:
        """True when this call is the half-open trial; raises when the circuit is open."""
        with self._lock:
            if self._state is CircuitState.CLOSED:
                return False
            now = time.time()
            reopens_at = self._opened_at + self.reset_seconds
            # One trial at a time: concurrent callers keep failing fast until it reports back.
            if now < reopens_at or self._trial_in_flight:
                raise CircuitOpenError(self.name, reopens_at - now)
            self._state = CircuitState.HALF_OPEN
            self._trial_in_flight = True
            return True

    def _record_success(self, is_trial: bool) -> None:
        with self._lock:
            if is_trial:
                self._trial_in_flight = False
            self._state = CircuitState.CLOSED
            self._failures = 0

    def _record_failure(self, is_trial: bool) -> None:
        with self._lock:
            if is_trial:
                self._trial_in_flight = False
            self._failures += 1
            if is_trial or self._failures >= self.failure_threshold:
                self._state = CircuitState.OPEN
                self._opened_at = time.time()
