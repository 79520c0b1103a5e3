"""The circuit breaker: after repeated failures the order system is not called at all for a
while (lookups fail at once), then one trial call decides whether it closes again."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.breaker import CircuitBreaker, CircuitOpenError, CircuitState
from orders.contract import OrderNotFound, OrderServiceUnavailable


def failing() -> None:
    raise ConnectionError("down")


def test_the_circuit_opens_after_consecutive_failures_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(name="t", failure_threshold=3, reset_seconds=30)
    for _ in range(2):
        with pytest.raises(ConnectionError):
            breaker.call(failing)
    assert breaker.call(lambda: "ok") == "ok"  # the count starts again
    for _ in range(2):
        with pytest.raises(ConnectionError):
            breaker.call(failing)
    assert breaker.state is CircuitState.CLOSED

    with pytest.raises(ConnectionError):
        breaker.call(failing)

    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: "never called")


def test_answers_that_are_not_failures_keep_the_circuit_closed() -> None:
    breaker = CircuitBreaker(
        name="t", failure_threshold=1, reset_seconds=30, counts_as_failure=lambda exc: not isinstance(exc, KeyError)
    )
    for _ in range(5):
        with pytest.raises(KeyError):
            breaker.call(lambda: dict[str, int]()["missing"])
    assert breaker.state is CircuitState.CLOSED


def test_after_the_reset_time_one_trial_decides_and_concurrent_callers_still_fail_fast() -> None:
    breaker = CircuitBreaker(name="t", failure_threshold=1, reset_seconds=30)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        with pytest.raises(ConnectionError):
            breaker.call(failing)
        clock.shift(timedelta(seconds=29))
        with pytest.raises(CircuitOpenError):
            breaker.call(lambda: "too early")

        clock.shift(timedelta(seconds=2))
        assert breaker.state is CircuitState.HALF_OPEN
        in_trial, release = threading.Event(), threading.Event()

        def slow_trial() -> str:
            in_trial.set()
            release.wait(5)
            return "ok"

        trial = threading.Thread(target=breaker.call, args=(slow_trial,))
        trial.start()
        in_trial.wait(5)
        with pytest.raises(CircuitOpenError):
            breaker.call(lambda: "a second trial")
        release.set()
        trial.join(5)

        assert breaker.state is CircuitState.CLOSED
        assert breaker.call(lambda: "ok") == "ok"


def test_a_failed_trial_opens_the_circuit_for_another_period() -> None:
    breaker = CircuitBreaker(name="t", failure_threshold=2, reset_seconds=30)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(2):
            with pytest.raises(ConnectionError):
                breaker.call(failing)
        clock.shift(timedelta(seconds=31))
        with pytest.raises(ConnectionError):
            breaker.call(failing)  # the trial: one failure is enough
        assert breaker.state is CircuitState.OPEN
        clock.shift(timedelta(seconds=29))
        with pytest.raises(CircuitOpenError):
            breaker.call(lambda: "still open")


def test_the_guarded_call_runs_outside_the_breakers_lock() -> None:
    """A slow call must not hold other threads back (pybreaker's reason for not being used)."""
    breaker = CircuitBreaker(name="t", failure_threshold=3, reset_seconds=30)
    inside, release, quick_done = threading.Event(), threading.Event(), threading.Event()

    def slow() -> None:
        inside.set()
        release.wait(10)

    slow_thread = threading.Thread(target=breaker.call, args=(slow,))
    slow_thread.start()
    assert inside.wait(5)

    def quick_call() -> None:
        breaker.call(lambda: None)
        quick_done.set()

    quick = threading.Thread(target=quick_call)
    quick.start()
    try:
        assert quick_done.wait(5), "the second call waited for the first one"
    finally:
        release.set()
        slow_thread.join(10)
        quick.join(10)


# --- Through the adapter, against the reference service -------------------------------------------


def test_repeated_failures_open_the_circuit_and_lookups_then_fail_without_calling_the_service(
    adapter, order_service
) -> None:
    order_service.fail_status = 503
    for _ in range(3):
        with pytest.raises(OrderServiceUnavailable, match="503"):
            adapter.get_order("JD20261101001")
    served = order_service.requests_served

    with pytest.raises(OrderServiceUnavailable, match="circuit open"):
        adapter.recent_orders("shopper-001")

    assert order_service.requests_served == served
    assert adapter.breaker.state is CircuitState.OPEN


def test_timeouts_open_the_circuit_too(adapter, order_service) -> None:
    order_service.delay_seconds = 2.0
    for _ in range(3):
        with pytest.raises(OrderServiceUnavailable, match="timed out"):
            adapter.get_order("JD20261101001")
    assert adapter.breaker.state is CircuitState.OPEN


def test_the_circuit_closes_again_once_the_service_is_back(adapter, order_service) -> None:
    with time_machine.travel(timezone.now(), tick=True) as clock:
        order_service.fail_status = 500
        for _ in range(3):
            with pytest.raises(OrderServiceUnavailable):
                adapter.get_order("JD20261101001")
        order_service.fail_status = None
        with pytest.raises(OrderServiceUnavailable, match="circuit open"):
            adapter.get_order("JD20261101001")  # back, but the circuit does not know yet

        clock.shift(timedelta(seconds=31))

        assert adapter.get_order("JD20261101001").number == "JD20261101001"  # the trial call
        assert adapter.breaker.state is CircuitState.CLOSED
        assert adapter.recent_orders("shopper-001")[0].number == "JD20261101001"


def test_not_found_answers_never_open_the_circuit(adapter, order_service) -> None:
    for _ in range(10):
        with pytest.raises(OrderNotFound):
            adapter.get_order("JD-NO-SUCH-ORDER")
    assert adapter.breaker.state is CircuitState.CLOSED
