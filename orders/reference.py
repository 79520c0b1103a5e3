"""A small reference storefront order service: docs/order-api.md, served on loopback.

For development, the embedded demo (runembedded starts it in a thread) and the adapter's tests.
Orders live in memory, seeded with the demo shoppers' orders (ops' seed_demo: shopper-001 …
shopper-008, orders JD20261101001 and JD20261101007), dated relative to the start. Actions honour
Idempotency-Key: the same key and body again answers the first result (`Idempotent-Replayed:
true`) and pays nothing; the same key with another body is refused (422). A refund can never
exceed what is left to refund, per item or in money.

Knobs for tests (attributes of ReferenceOrderService): `delay_seconds` before answering,
`fail_status` to answer every request with that status, `delay_after_action_seconds` to commit an
action and only then stall (a response lost after the money moved).
"""

import copy
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_LIST_LIMIT = 50


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _order(
    now: datetime,
    *,
    number: str,
    shopper: str,
    placed_days_ago: float,
    items: list[tuple[str, str, str, int, str]],
    state: str,
    shipping_fee: str = "0.00",
    carrier: str = "SF Express 顺丰速运",
    promised_in_days: int = 3,
    route: list[tuple[str, str, str]] | None = None,
) -> dict[str, Any]:
    """One seeded order. state: paid (not shipped), in_transit, late, delivered, delivery_failed."""
    placed = now - timedelta(days=placed_days_ago)
    paid_at = placed + timedelta(minutes=2)
    shipped_at = placed + timedelta(hours=20)
    promised = (placed + timedelta(days=promised_in_days)).date()
    lines: list[dict[str, Any]] = [
        {
            "id": str(index),
            "sku": sku,
            "title": title,
            "category": category,
            "quantity": quantity,
            "unit_price": price,
            "refunded_quantity": 0,
        }
        for index, (sku, title, category, quantity, price) in enumerate(items, start=1)
    ]
    items_total = sum((Decimal(price) * quantity for _sku, _title, _category, quantity, price in items), Decimal(0))
    total = items_total + Decimal(shipping_fee)
    steps = route or [
        ("picked_up", "深圳 Shenzhen", "Picked up by the courier"),
        ("in_transit", "广州转运中心 Guangzhou hub", "Departed the sorting hub"),
        ("in_transit", "上海转运中心 Shanghai hub", "Arrived at the destination hub"),
        ("out_for_delivery", "上海 Shanghai", "Out for delivery"),
    ]
    events: list[dict[str, Any]] = []
    if state != "paid":
        count = {"in_transit": 2, "late": 3, "delivery_failed": 4}.get(state, len(steps))
        for index, (status, location, description) in enumerate(steps[:count]):
            events.append(
                {
                    "at": _iso(shipped_at + timedelta(hours=6 * index)),
                    "status": status,
                    "location": location,
                    "description": description,
                }
            )
    delivered_at = None
    if state == "delivered":
        delivered_at = min(now - timedelta(hours=1), shipped_at + timedelta(hours=6 * len(events)))
        events.append(
            {"at": _iso(delivered_at), "status": "delivered", "location": steps[-1][1], "description": "Signed for"}
        )
    if state == "delivery_failed":
        events.append(
            {
                "at": _iso(shipped_at + timedelta(hours=6 * len(events))),
                "status": "delivery_failed",
                "location": steps[-1][1],
                "description": "Nobody home; will retry",
            }
        )
    shipping_status = {
        "paid": "not_shipped",
        "in_transit": "in_transit",
        "late": "in_transit",
        "delivered": "delivered",
        "delivery_failed": "delivery_failed",
    }[state]
    return {
        "number": number,
        "shopper": shopper,
        "placed_at": _iso(placed),
        "status": {"paid": "paid", "delivered": "delivered"}.get(state, "shipped"),
        "currency": "CNY",
        "amounts": {
            "items": _money(items_total),
            "shipping": shipping_fee,
            "discount": "0.00",
            "total": _money(total),
            "paid": _money(total),
            "refunded": "0.00",
        },
        "payment": {"status": "paid", "method": "alipay", "paid_at": _iso(paid_at)},
        "shipping": {
            "status": shipping_status,
            "carrier": "" if state == "paid" else carrier,
            "tracking_number": "" if state == "paid" else f"SF{number[-9:]}",
            "shipped_at": None if state == "paid" else _iso(shipped_at),
            "delivered_at": _iso(delivered_at) if delivered_at else None,
            "promised_delivery_date": promised.isoformat(),
        },
        "items": lines,
        "tracking_events": events,
    }


def demo_orders(now: datetime) -> list[dict[str, Any]]:
    """The demo shoppers' orders (seed_demo's shoppers; its two named orders among them)."""
    cold_chain = [
        ("picked_up", "烟台 Yantai cold store", "Picked up (cold chain, 0–4 °C)"),
        ("in_transit", "上海冷链中心 Shanghai cold hub", "Arrived at the cold-chain hub"),
        ("out_for_delivery", "上海 Shanghai", "Out for delivery"),
    ]
    return [
        _order(
            now,
            number="JD20261101001",
            shopper="shopper-001",
            placed_days_ago=6,
            state="delivered",
            items=[("JW-18K-RING-7", "18K金钻石戒指 (7号)", "jewelry", 1, "3999.00")],
        ),
        _order(
            now,
            number="JD20261020114",
            shopper="shopper-001",
            placed_days_ago=21,
            state="delivered",
            items=[("JW-PEARL-STUD", "淡水珍珠耳钉", "jewelry", 1, "899.00")],
        ),
        _order(
            now,
            number="JD20261101002",
            shopper="shopper-002",
            placed_days_ago=4,
            state="delivered",
            items=[("MB-STROLLER-L", "Lightweight stroller", "maternal_baby", 1, "1299.00")],
        ),
        _order(
            now,
            number="JD20261026051",
            shopper="shopper-002",
            placed_days_ago=12,
            state="delivered",
            items=[("MB-DIAPER-M", "Diapers size M (64)", "maternal_baby", 2, "99.50")],
        ),
        _order(
            now,
            number="JD20261101003",
            shopper="shopper-003",
            placed_days_ago=2,
            state="delivered",
            shipping_fee="12.00",
            carrier="京东冷链 JD Cold Chain",
            route=cold_chain,
            items=[
                ("FF-CHERRY-2KG", "智利车厘子 JJ级 2kg", "fresh_food", 1, "268.00"),
                ("FF-BLUEBERRY", "蓝莓 125g×4", "fresh_food", 1, "59.90"),
            ],
        ),
        _order(
            now,
            number="JD20261101004",
            shopper="shopper-004",
            placed_days_ago=2.5,
            state="late",
            promised_in_days=1,
            items=[("FL-ROSE-33", "33 red roses bouquet", "flowers", 1, "329.00")],
        ),
        _order(
            now,
            number="JD20261101005",
            shopper="shopper-005",
            placed_days_ago=1,
            state="in_transit",
            items=[("BT-SERUM-30", "修护精华液 30ml", "beauty", 1, "680.00")],
        ),
        _order(
            now,
            number="JD20261101006",
            shopper="shopper-006",
            placed_days_ago=5,
            state="delivered",
            items=[("AP-JEANS-28", "Slim jeans, waist 28", "apparel", 1, "259.00")],
        ),
        _order(
            now,
            number="JD20261101007",
            shopper="shopper-007",
            placed_days_ago=5,
            state="delivered",
            items=[
                ("EL-MI14-256", "小米14 256GB", "electronics", 1, "3999.00"),
                ("EL-CHARGER-90W", "90W 快充充电器", "electronics", 1, "149.00"),
            ],
        ),
        _order(
            now,
            number="JD20261103021",
            shopper="shopper-007",
            placed_days_ago=0.3,
            state="paid",
            items=[("EL-CASE-MI14", "小米14 手机壳", "electronics", 2, "39.00")],
        ),
        _order(
            now,
            number="JD20261101008",
            shopper="shopper-008",
            placed_days_ago=7,
            state="delivery_failed",
            items=[("BK-COOK-01", "The Home Cookbook", "books", 1, "98.00")],
        ),
    ]


def bench_orders(now: datetime, count: int) -> list[dict[str, Any]]:
    """Synthetic fresh-food orders for benchmarks: BENCH000001… of shoppers bench-shopper-000001…,
    each delivered a few hours ago (inside the 48 h fresh-guarantee window)."""
    return [
        _order(
            now,
            number=f"BENCH{n:06d}",
            shopper=f"bench-shopper-{n:06d}",
            placed_days_ago=1.2,
            state="delivered",
            items=[("FF-CHERRY-2KG", "智利车厘子 JJ级 2kg", "fresh_food", 1, "268.00")],
        )
        for n in range(1, count + 1)
    ]


class ReferenceOrderService:
    """The service itself: state, rules and an HTTP server around them (start/stop)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, token: str = "", now: datetime | None = None) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the reference order service listens on loopback only, not {host!r}")
        self.host = host
        self.port = port
        self.token = token
        self.delay_seconds = 0.0
        self.fail_status: int | None = None
        self.delay_after_action_seconds = 0.0
        self.requests_served = 0
        self.connections_opened = 0
        self._lock = threading.Lock()
        self._orders: dict[str, dict[str, Any]] = {}
        # (action kind, Idempotency-Key) -> (fingerprint of order and body, status, answer)
        self._idempotent: dict[tuple[str, str], tuple[str, int, dict[str, Any]]] = {}
        self.refunds: list[dict[str, Any]] = []
        self.reshipments: list[dict[str, Any]] = []
        self.coupons: list[dict[str, Any]] = []
        self._open_sockets: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for order in demo_orders(now or datetime.now(UTC)):
            self.add_order(order)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add_order(self, order: dict[str, Any]) -> None:
        with self._lock:
            self._orders[order["number"]] = copy.deepcopy(order)

    # --- Serving -----------------------------------------------------------------------------

    def start(self) -> "ReferenceOrderService":
        self._server = _Server((self.host, self.port), _Handler, service=self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="reference-orders")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        # Kept-alive connections would go on being served by their threads: close them, as a
        # real outage would.
        with self._lock:
            for sock in list(self._open_sockets):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open_sockets.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # --- Reads -------------------------------------------------------------------------------

    def list_orders(self, shopper: str, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            mine = [o for o in self._orders.values() if o["shopper"] == shopper]
            mine.sort(key=lambda o: o["placed_at"], reverse=True)
            summaries = []
            for order in mine[:limit]:
                summary = copy.deepcopy(order)
                summary["tracking_events"] = summary["tracking_events"][-1:]
                summaries.append(summary)
            return summaries

    def order(self, number: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._orders.get(number)
            return copy.deepcopy(found) if found else None

    # --- Actions (under one lock: two retries of one key never both pay) -----------------------

    def act(self, kind: str, number: str, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], bool]:
        """(HTTP status, answer, replayed)."""
        fingerprint = hashlib.sha256(json.dumps([number, body], sort_keys=True).encode()).hexdigest()
        with self._lock:
            seen = self._idempotent.get((kind, key))
            if seen is not None:
                if seen[0] != fingerprint:
                    return 422, _error("idempotency_key_reused", "This key was used for another request."), False
                return seen[1], copy.deepcopy(seen[2]), True
            order = self._orders.get(number)
            if order is None:
                return 404, _error("order_not_found", f"No order {number}."), False
            try:
                answer = {"refunds": self._refund, "reshipments": self._reship, "coupons": self._coupon}[kind](
                    order, body
                )
            except _Refused as refused:
                return 422, _error(refused.code, refused.message), False
            self._idempotent[(kind, key)] = (fingerprint, 201, answer)
            return 201, copy.deepcopy(answer), False

    def _lines(
        self, order: dict[str, Any], body: dict[str, Any], *, may_be_empty: bool = False
    ) -> list[tuple[dict[str, Any], int]]:
        raw = body.get("items")
        if may_be_empty and raw == []:
            return []
        if not isinstance(raw, list) or not raw:
            raise _Refused("invalid_items", "Name at least one item of the order.")
        by_id = {item["id"]: item for item in order["items"]}
        lines = []
        for line in raw:
            item = by_id.get(str(line.get("item_id"))) if isinstance(line, dict) else None
            quantity = line.get("quantity") if isinstance(line, dict) else None
            if item is None or not isinstance(quantity, int) or quantity < 1:
                raise _Refused("invalid_items", f"Not an item line of this order: {line!r}.")
            lines.append((item, quantity))
        return lines

    def _refund(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        # No items: an amount-only refund (the shipping fee of a late delivery).
        lines = self._lines(order, body, may_be_empty=True)
        try:
            amount = Decimal(str(body.get("amount")))
        except ArithmeticError as exc:
            raise _Refused("invalid_amount", "The amount is not a number.") from exc
        amounts = order["amounts"]
        refundable = Decimal(amounts["paid"]) - Decimal(amounts["refunded"])
        if amount <= 0 or amount > refundable:
            raise _Refused("amount_exceeds_refundable", f"At most {_money(refundable)} {order['currency']} is left.")
        for item, quantity in lines:
            if item["refunded_quantity"] + quantity > item["quantity"]:
                raise _Refused(
                    "item_already_refunded",
                    f"Item {item['id']} has only {item['quantity'] - item['refunded_quantity']} left to refund.",
                )
        for item, quantity in lines:
            item["refunded_quantity"] += quantity
        amounts["refunded"] = _money(Decimal(amounts["refunded"]) + amount)
        fully = Decimal(amounts["refunded"]) >= Decimal(amounts["paid"])
        order["payment"]["status"] = "refunded" if fully else "partially_refunded"
        refund = {
            "refund_id": f"RF-{len(self.refunds) + 1:06d}",
            "order_number": order["number"],
            "amount": _money(amount),
            "currency": order["currency"],
            "status": "succeeded",
            "created_at": _iso(datetime.now(UTC)),
            "items": [{"item_id": item["id"], "quantity": quantity} for item, quantity in lines],
        }
        self.refunds.append(refund)
        return refund

    def _reship(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        lines = self._lines(order, body)
        reshipment = {
            "reshipment_id": f"RS-{len(self.reshipments) + 1:06d}",
            "order_number": order["number"],
            "status": "created",
            "created_at": _iso(datetime.now(UTC)),
            "items": [{"item_id": item["id"], "quantity": quantity} for item, quantity in lines],
        }
        self.reshipments.append(reshipment)
        return reshipment

    def _coupon(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        try:
            amount = Decimal(str(body.get("amount")))
        except ArithmeticError as exc:
            raise _Refused("invalid_amount", "The amount is not a number.") from exc
        if amount <= 0:
            raise _Refused("invalid_amount", "A coupon is worth more than nothing.")
        now = datetime.now(UTC)
        coupon = {
            "coupon_code": f"CX{len(self.coupons) + 1:06d}",
            "order_number": order["number"],
            "amount": _money(amount),
            "currency": order["currency"],
            "expires_at": _iso(now + timedelta(days=30)),
            "created_at": _iso(now),
        }
        self.coupons.append(coupon)
        return coupon


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, *, service: ReferenceOrderService) -> None:
        self.service = service
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the adapter's pooled client reuses connections
    # Headers and body go out in two writes: without this, Nagle's algorithm holds the body back
    # until the client's delayed ACK (~40 ms per request).
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.service._lock:
            self.server.service.connections_opened += 1
            self.server.service._open_sockets.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.service._lock:
                self.server.service._open_sockets.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the demo's console
        return

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        service = self.server.service
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        with service._lock:
            service.requests_served += 1
        if service.delay_seconds:
            time.sleep(service.delay_seconds)
        if service.fail_status:
            return self._send(service.fail_status, _error("unavailable", "The order system is failing (test knob)."))
        if service.token and self.headers.get("Authorization") != f"Bearer {service.token}":
            return self._send(401, _error("unauthorized", "Send Authorization: Bearer <token>."))
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/") if p]
        if method == "GET" and parts == ["healthz"]:
            return self._send(200, {"ok": True})
        if method == "GET" and parts == ["orders"]:
            query = parse_qs(url.query)
            shopper = (query.get("shopper") or [""])[0]
            if not shopper:
                return self._send(400, _error("shopper_required", "Pass ?shopper=<external id>."))
            try:
                limit = min(max(int((query.get("limit") or ["10"])[0]), 1), MAX_LIST_LIMIT)
            except ValueError:
                return self._send(400, _error("invalid_limit", "limit is a number from 1 to 50."))
            return self._send(200, {"shopper": shopper, "orders": service.list_orders(shopper, limit)})
        if method == "GET" and len(parts) == 2 and parts[0] == "orders":
            order = service.order(parts[1])
            if order is None:
                return self._send(404, _error("order_not_found", f"No order {parts[1]}."))
            return self._send(200, order)
        if (
            method == "POST"
            and len(parts) == 3
            and parts[0] == "orders"
            and parts[2] in ("refunds", "reshipments", "coupons")
        ):
            key = self.headers.get("Idempotency-Key", "").strip()
            if not key or len(key) > 255:
                return self._send(400, _error("idempotency_key_required", "Send an Idempotency-Key header (≤ 255)."))
            try:
                body = json.loads(raw_body or b"{}")
            except ValueError:
                return self._send(400, _error("invalid_json", "The body is not JSON."))
            if not isinstance(body, dict):
                return self._send(400, _error("invalid_json", "The body is not a JSON object."))
            status, answer, replayed = service.act(parts[2], parts[1], key, body)
            if status == 201 and not replayed and service.delay_after_action_seconds:
                time.sleep(service.delay_after_action_seconds)  # done, but the answer comes late
            return self._send(200 if replayed else status, answer, replayed=replayed)
        return self._send(404, _error("not_found", f"No route {method} {url.path}."))

    def _send(self, status: int, body: dict[str, Any], *, replayed: bool = False) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            if replayed:
                self.send_header("Idempotent-Replayed", "true")
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its timeout): nothing to answer


@contextmanager
def running_reference_service(**kwargs: Any) -> Iterator[ReferenceOrderService]:
    """A reference service on a free loopback port for the duration of the block."""
    service = ReferenceOrderService(**kwargs).start()
    try:
        yield service
    finally:
        service.stop()
