"""After-sales personas and rigs: the reference storefront order service on loopback (real HTTP)
with the console's adapter pointed at it; Zhao, who bought cherries two days ago; Tom, the
fresh-food specialist who may approve up to 1,500 alone; supervisor Sam."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales.models import ApprovalLimit
from orders.reference import ReferenceOrderService, _order
from teams.models import AgentProfile
from tests.conftest import _agent
from tests.factories import ShopperFactory, TicketFactory, queue
from tests.orders.conftest import (  # noqa: F401  (the order service rig)
    _fresh_order_systems,
    console_orders,
    order_service,
)
from tests.photos import jpeg_with_location
from tickets.attachments import NamedBytes, prepare_images, store_images
from tickets.models import Attachment, AuthorKind, Message, Shopper, Ticket, TicketStatus

CHERRIES_ORDER = "JD20261101003"  # shopper-003: cherries (item 1, 268.00) and blueberries (item 2, 59.90)
BIG_FRESH_ORDER = "JD20261105500"  # shopper-003 too: a 1,288.00 seafood box (item 1), delivered this morning
JEANS_ORDER = "JD20261101006"  # shopper-006: slim jeans, waist 28 (item 1, 259.00), delivered days ago


@pytest.fixture
def orders(console_orders: ReferenceOrderService, settings) -> ReferenceOrderService:  # noqa: F811
    """The reference service, with Zhao's big fresh order added. Lookups get 2 s (the product's
    default): the browser tests' page loads share two busy cores with the service."""
    settings.ORDER_API_TIMEOUT = 2.0
    console_orders.add_order(
        _order(
            timezone.now(),
            number=BIG_FRESH_ORDER,
            shopper="shopper-003",
            placed_days_ago=1.8,
            state="delivered",
            items=[("FF-CRAB-BOX", "阳澄湖大闸蟹礼盒 8只", "fresh_food", 1, "1288.00")],
        )
    )
    return console_orders


@pytest.fixture
def zhao(db: None) -> Shopper:
    """Zhao (赵先生): seed_demo's shopper-003, a fresh-food regular (account a year old)."""
    shopper = ShopperFactory.create(external_id="shopper-003", name="赵先生", language="zh")
    Shopper.objects.filter(pk=shopper.pk).update(created_at=timezone.now() - timedelta(days=365))
    shopper.refresh_from_db()
    return shopper


@pytest.fixture
def tom(db: None) -> AgentProfile:
    """Agent Tom: fresh food and flowers; may approve up to 1,500.00 alone."""
    profile = _agent("tom", ["fresh_food", "flowers"], languages=["zh", "en"])
    ApprovalLimit.objects.create(user=profile.user, max_amount=Decimal("1500.00"))
    return profile


@pytest.fixture
def fang(db: None) -> AgentProfile:
    """Agent Fang: fresh food, with the default approval limit (AFTERSALES_DEFAULT_APPROVAL_LIMIT)."""
    return _agent("fang", ["fresh_food"], languages=["zh"])


@pytest.fixture
def zhaos_ticket(zhao: Shopper, tom: AgentProfile) -> Ticket:
    """Zhao writes that half the cherries are rotten; Tom holds the ticket."""
    return TicketFactory.create(
        shopper=zhao,
        body="车厘子收到一半都烂了，坏果包赔吗？",
        status=TicketStatus.ASSIGNED,
        queue=queue("fresh_food"),
        assigned_agent=tom.user,
        order_number=CHERRIES_ORDER,
        order_product_category="fresh_food",
    )


@pytest.fixture
def big_order_ticket(zhao: Shopper) -> Ticket:
    """Zhao's crabs arrived dead; the ticket waits in the fresh-food queue."""
    return TicketFactory.create(
        shopper=zhao,
        body="大闸蟹到了全死了",
        status=TicketStatus.QUEUED,
        queue=queue("fresh_food"),
        order_number=BIG_FRESH_ORDER,
        order_product_category="fresh_food",
    )


@pytest.fixture
def photo_on_ticket(zhaos_ticket: Ticket) -> Attachment:
    """Zhao's photo of the rotten cherries, already sent on his inquiry."""
    message = Message.objects.create(ticket=zhaos_ticket, author_kind=AuthorKind.SHOPPER, body="烂的")
    return store_images(message=message, images=prepare_images([NamedBytes("rot.jpg", jpeg_with_location())]))[0]


@pytest.fixture
def liu(db: None) -> Shopper:
    """Liu (shopper-006), whose jeans are too small (an account over a year old)."""
    shopper = ShopperFactory.create(external_id="shopper-006", name="Liu", language="en")
    Shopper.objects.filter(pk=shopper.pk).update(created_at=timezone.now() - timedelta(days=400))
    shopper.refresh_from_db()
    return shopper


@pytest.fixture
def jeans_ticket(liu, tom, storefront_client) -> Ticket:
    """Submitted by the storefront; Tom holds it."""
    return TicketFactory.create(
        shopper=liu,
        body="The jeans are too small.",
        status=TicketStatus.ASSIGNED,
        queue=queue("apparel"),
        assigned_agent=tom.user,
        order_number=JEANS_ORDER,
        client=storefront_client.user,
    )
