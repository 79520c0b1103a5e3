"""The order system as the console sees it: lookups and the after-sales actions.

Callers depend on OrderSystem, never on HTTP: the console's panel, and later the after-sales
executor and proactive service. get_order_system() gives the process's configured implementation.
"""

import threading
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from django.conf import settings

from orders.contract import CouponResult, ItemLine, Order, OrderServiceUnavailable, RefundResult, ReshipResult


class OrderSystem(Protocol):
    """Every method raises OrderServiceUnavailable (down, slow, circuit open), OrderNotFound, or
    (actions) OrderActionRejected. Actions take an idempotency key: the same key again returns
    the first answer (with replayed=True) and changes nothing, so a retried refund never pays twice.
    """

    def recent_orders(self, shopper_external_id: str, *, limit: int = 10) -> list[Order]:
        """The shopper's latest orders, newest first; [] for a shopper the storefront does not know."""
        ...

    def get_order(self, number: str) -> Order:
        """One order with its items, amounts, payment and shipping state and every tracking event."""
        ...

    def refund(
        self,
        *,
        order_number: str,
        items: Sequence[ItemLine],
        amount: Decimal,
        idempotency_key: str,
        reason: str = "",
    ) -> RefundResult: ...

    def reship(
        self,
        *,
        order_number: str,
        items: Sequence[ItemLine],
        idempotency_key: str,
        reason: str = "",
    ) -> ReshipResult: ...

    def issue_coupon(
        self,
        *,
        order_number: str,
        amount: Decimal,
        idempotency_key: str,
        reason: str = "",
    ) -> CouponResult: ...


class UnconfiguredOrderSystem:
    """ORDER_API_URL is empty: every call is "unavailable" (the console still works)."""

    def _unavailable(self) -> OrderServiceUnavailable:
        return OrderServiceUnavailable("not configured (ORDER_API_URL is empty)")

    def recent_orders(self, shopper_external_id: str, *, limit: int = 10) -> list[Order]:
        raise self._unavailable()

    def get_order(self, number: str) -> Order:
        raise self._unavailable()

    def refund(
        self, *, order_number: str, items: Sequence[ItemLine], amount: Decimal, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        raise self._unavailable()

    def reship(
        self, *, order_number: str, items: Sequence[ItemLine], idempotency_key: str, reason: str = ""
    ) -> ReshipResult:
        raise self._unavailable()

    def issue_coupon(
        self, *, order_number: str, amount: Decimal, idempotency_key: str, reason: str = ""
    ) -> CouponResult:
        raise self._unavailable()


_lock = threading.Lock()
_instances: dict[tuple[object, ...], OrderSystem] = {}


def get_order_system() -> OrderSystem:
    """The process's order system: one per configuration, so its pooled HTTP client, circuit
    breaker and cache are shared by every request and task of the process (and a test that
    changes the settings gets a fresh one)."""
    from orders.http import HttpOrderSystem

    config = (
        settings.ORDER_API_URL,
        settings.ORDER_API_TOKEN,
        settings.ORDER_API_TIMEOUT,
        settings.ORDER_API_ACTION_TIMEOUT,
        settings.ORDER_API_CACHE_SECONDS,
        settings.ORDER_API_BREAKER_FAILURES,
        settings.ORDER_API_BREAKER_RESET_SECONDS,
        settings.ORDER_API_MAX_CONNECTIONS,
    )
    with _lock:
        system = _instances.get(config)
        if system is None:
            if not settings.ORDER_API_URL:
                system = UnconfiguredOrderSystem()
            else:
                system = HttpOrderSystem(
                    base_url=settings.ORDER_API_URL,
                    token=settings.ORDER_API_TOKEN,
                    timeout=settings.ORDER_API_TIMEOUT,
                    action_timeout=settings.ORDER_API_ACTION_TIMEOUT,
                    cache_seconds=settings.ORDER_API_CACHE_SECONDS,
                    breaker_failures=settings.ORDER_API_BREAKER_FAILURES,
                    breaker_reset_seconds=settings.ORDER_API_BREAKER_RESET_SECONDS,
                    max_connections=settings.ORDER_API_MAX_CONNECTIONS,
                )
            _instances[config] = system
        return system


def forget_order_systems() -> None:
    """Drop every instance (tests: a fresh breaker and client)."""
    with _lock:
        for system in _instances.values():
            close = getattr(system, "close", None)
            if close is not None:
                close()
        _instances.clear()
