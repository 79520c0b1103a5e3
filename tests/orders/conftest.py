"""Order personas and rigs: the reference storefront order service on a free loopback port (a real
HTTP server, started by the test), an adapter pointed at it, and Wang's ticket about her ring."""

from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.core.cache import cache

from orders.http import CACHE_PREFIX, HttpOrderSystem
from orders.interface import forget_order_systems
from orders.reference import ReferenceOrderService
from teams.models import AgentProfile
from tests.factories import ShopperFactory, TicketFactory, queue
from tickets.models import Shopper, Ticket, TicketStatus

WANGS_RING_ORDER = "JD20261101001"  # seed_demo's first inquiry, and the reference service's order


def _forget_cached_orders() -> None:
    if not settings.REDIS_URL:
        cache.clear()
        return
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
        keys = list(client.scan_iter(match=f"*{CACHE_PREFIX}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass


@pytest.fixture(autouse=True)
def _fresh_order_systems() -> Iterator[None]:
    """Each test gets a new adapter (its own breaker and client) and no cached lookups."""
    forget_order_systems()
    _forget_cached_orders()
    yield
    forget_order_systems()


@pytest.fixture
def order_service() -> Iterator[ReferenceOrderService]:
    service = ReferenceOrderService().start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def make_adapter(order_service: ReferenceOrderService) -> Iterator[Callable[..., HttpOrderSystem]]:
    """An adapter on the reference service; short timeouts so the unhappy paths are quick."""
    made: list[HttpOrderSystem] = []

    def make(**overrides: object) -> HttpOrderSystem:
        options: dict = {
            "base_url": order_service.url,
            "token": "",
            "timeout": 0.3,
            "action_timeout": 0.5,
            "cache_seconds": 0,
            "breaker_failures": 3,
            "breaker_reset_seconds": 30,
            "max_connections": 4,
            **overrides,
        }
        adapter = HttpOrderSystem(**options)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


@pytest.fixture
def adapter(make_adapter: Callable[..., HttpOrderSystem]) -> HttpOrderSystem:
    return make_adapter()


@pytest.fixture
def console_orders(settings, order_service: ReferenceOrderService) -> ReferenceOrderService:
    """The console's adapter (get_order_system) pointed at the reference service."""
    settings.ORDER_API_URL = order_service.url
    settings.ORDER_API_TIMEOUT = 0.3
    settings.ORDER_API_CACHE_SECONDS = 0
    settings.ORDER_API_BREAKER_FAILURES = 3
    return order_service


@pytest.fixture
def wang(db: None) -> Shopper:
    """Wang (王女士): seed_demo's shopper-001, who bought a diamond ring."""
    return ShopperFactory.create(external_id="shopper-001", name="王女士", time_zone="Asia/Shanghai")


@pytest.fixture
def wangs_ticket(wang: Shopper, ana: AgentProfile) -> Ticket:
    """Wang asks to exchange her ring (order JD20261101001); Ana holds the ticket."""
    return TicketFactory.create(
        shopper=wang,
        body="戒指尺寸不合适，能换小一号吗？订单里是18K金的",
        status=TicketStatus.ASSIGNED,
        queue=queue("jewelry"),
        assigned_agent=ana.user,
        order_number=WANGS_RING_ORDER,
        order_product_category="jewelry",
    )
