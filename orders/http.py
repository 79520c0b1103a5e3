"""The order system over the storefront's HTTP order API (docs/order-api.md).

- One pooled httpx client per process (keep-alive: a lookup reuses an open connection instead
  of paying a TCP handshake), rebuilt after a fork so Celery's prefork children never share a
  socket with their parent.
- Timeouts on every request: short for lookups (a page waits on them), longer for actions.
- A circuit breaker (core.breaker, per process): after repeated failures calls fail at once.
  "Not found" and a rejected action are answers, not failures.
- Lookups are cached briefly in Django's cache (Redis in production, shared by the processes);
  an action forgets the order it changed. A cache that is down only costs the cache.
- No retries here, except a connection that could not be opened (nothing was sent): a caller
  that must retry an action does so later with the same idempotency key.
"""

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from django.core.cache import cache

from core.breaker import CircuitBreaker, CircuitOpenError
from orders.contract import (
    CouponResult,
    ItemLine,
    MalformedResponse,
    Order,
    OrderActionRejected,
    OrderNotFound,
    OrderServiceUnavailable,
    RefundResult,
    ReshipResult,
    parse_coupon,
    parse_order,
    parse_refund,
    parse_reship,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

CACHE_PREFIX = "orders:v1:"
REPLAYED_HEADER = "Idempotent-Replayed"


class HttpOrderSystem:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: float,
        action_timeout: float,
        cache_seconds: int,
        breaker_failures: int,
        breaker_reset_seconds: float,
        max_connections: int,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.action_timeout = action_timeout
        self.cache_seconds = cache_seconds
        self.max_connections = max_connections
        self.breaker = CircuitBreaker(
            name="order-api",
            failure_threshold=breaker_failures,
            reset_seconds=breaker_reset_seconds,
            counts_as_failure=lambda exc: isinstance(exc, OrderServiceUnavailable),
        )
        self._client: httpx.Client | None = None
        self._client_pid = 0
        self._client_lock = threading.Lock()

    # --- Lookups -------------------------------------------------------------------------------

    def recent_orders(self, shopper_external_id: str, *, limit: int = 10) -> list[Order]:
        data = self._cached(
            f"shopper:{_digest(shopper_external_id)}:{limit}",
            lambda: self._request("GET", "/orders", params={"shopper": shopper_external_id, "limit": limit})[0],
        )
        orders = data.get("orders") if isinstance(data, dict) else None
        if not isinstance(orders, list):
            raise MalformedResponse("GET /orders: no 'orders' list")
        return [parse_order(order) for order in orders]

    def get_order(self, number: str) -> Order:
        data = self._cached(f"order:{_digest(number)}", lambda: self._request("GET", f"/orders/{_segment(number)}")[0])
        return parse_order(data)

    # --- Actions -------------------------------------------------------------------------------

    def refund(
        self, *, order_number: str, items: Sequence[ItemLine], amount: Decimal, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        body = {"items": [line.as_json() for line in items], "amount": str(amount), "reason": reason}
        data, replayed = self._action(order_number, "refunds", body, idempotency_key)
        return parse_refund(data, replayed=replayed)

    def reship(
        self, *, order_number: str, items: Sequence[ItemLine], idempotency_key: str, reason: str = ""
    ) -> ReshipResult:
        body = {"items": [line.as_json() for line in items], "reason": reason}
        data, replayed = self._action(order_number, "reshipments", body, idempotency_key)
        return parse_reship(data, replayed=replayed)

    def issue_coupon(
        self, *, order_number: str, amount: Decimal, idempotency_key: str, reason: str = ""
    ) -> CouponResult:
        body = {"amount": str(amount), "reason": reason}
        data, replayed = self._action(order_number, "coupons", body, idempotency_key)
        return parse_coupon(data, replayed=replayed)

    def _action(self, order_number: str, kind: str, body: dict[str, Any], key: str) -> tuple[dict[str, Any], bool]:
        if not key:
            raise ValueError("an action needs an idempotency key")
        data, headers = self._request(
            "POST",
            f"/orders/{_segment(order_number)}/{kind}",
            json=body,
            headers={"Idempotency-Key": key},
            timeout=self.action_timeout,
        )
        self._forget(f"order:{_digest(order_number)}")
        return data, headers.get(REPLAYED_HEADER, "").lower() == "true"

    # --- HTTP ----------------------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        pid = os.getpid()
        with self._client_lock:
            if self._client is None or self._client_pid != pid:
                # A client inherited through fork shares its sockets with the parent: never reuse it.
                headers = {"Accept": "application/json", "User-Agent": "cxconsole-orders/1"}
                if self.token:
                    headers["Authorization"] = f"Bearer {self.token}"
                self._client = httpx.Client(
                    base_url=self.base_url,
                    headers=headers,
                    timeout=self.timeout,
                    limits=httpx.Limits(
                        max_connections=self.max_connections, max_keepalive_connections=self.max_connections
                    ),
                    # Retries only a connection that could not be opened: nothing was sent.
                    transport=httpx.HTTPTransport(retries=1),
                )
                self._client_pid = pid
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None and self._client_pid == os.getpid():
                self._client.close()
            self._client = None

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> tuple[dict[str, Any], httpx.Headers]:
        def send() -> tuple[dict[str, Any], httpx.Headers]:
            try:
                response = self._http().request(
                    method, path, params=params, json=json, headers=headers, timeout=timeout or self.timeout
                )
            except httpx.TimeoutException as exc:
                raise OrderServiceUnavailable(f"{method} {path}: timed out ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                raise OrderServiceUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
            return _answer(method, path, response), response.headers

        try:
            return self.breaker.call(send)
        except CircuitOpenError as exc:
            raise OrderServiceUnavailable(f"circuit open: {exc}") from exc
        except OrderServiceUnavailable as exc:
            logger.warning("Order API unavailable: %s", exc.reason)
            raise

    # --- Cache ---------------------------------------------------------------------------------

    def _cached(self, key: str, fetch: Callable[[], T]) -> T:
        if self.cache_seconds <= 0:
            return fetch()
        full_key = CACHE_PREFIX + key
        try:
            hit = cache.get(full_key)
        except Exception:  # the cache being down must not take the lookup with it
            logger.warning("Cache unavailable for order lookups", exc_info=True)
            return fetch()
        if hit is not None:
            return hit
        value = fetch()
        try:
            cache.set(full_key, value, self.cache_seconds)
        except Exception:
            logger.warning("Cache unavailable for order lookups", exc_info=True)
        return value

    def _forget(self, key: str) -> None:
        try:
            cache.delete(CACHE_PREFIX + key)
        except Exception:
            logger.warning("Cache unavailable: %s not forgotten", key, exc_info=True)


def _answer(method: str, path: str, response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a 2xx; otherwise the typed error the status means."""
    status = response.status_code
    if 200 <= status < 300:
        try:
            data = response.json()
        except ValueError as exc:
            raise MalformedResponse(f"{method} {path}: {status} without a JSON body") from exc
        if not isinstance(data, dict):
            raise MalformedResponse(f"{method} {path}: the body is not a JSON object")
        return data
    code, message = _error_of(response)
    if status == 404:
        raise OrderNotFound(message or f"{path} not found")
    if status in (400, 409, 422):
        raise OrderActionRejected(code or str(status), message)
    # 401/403 (our credentials), 408, 429, 5xx and anything unexpected: not an answer to act on.
    raise OrderServiceUnavailable(f"{method} {path}: HTTP {status} {code} {message}".strip())


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error") or {}
        return str(error.get("code", "")), str(error.get("message", ""))
    except (ValueError, AttributeError):
        return "", response.text[:200]


def _segment(value: str) -> str:
    return quote(value, safe="")


def _digest(value: str) -> str:
    """Cache keys from ids the storefront chose (any characters, any length)."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]
