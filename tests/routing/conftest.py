"""Routing personas: Ana and Bo in jewelry, Mei in maternal & baby, supervisor Sam."""

from collections.abc import Callable

import pytest

from teams.models import AgentProfile
from teams.services import SUPERVISORS_GROUP, ensure_roles
from tests.factories import AgentFactory, ShopperFactory, UserFactory
from tickets.models import Ticket
from tickets.services import OrderSnapshot, ShopperDetails, open_ticket


@pytest.fixture
def ana(db: None) -> AgentProfile:
    return AgentFactory(user=UserFactory(username="ana"), languages=["zh", "en"], skills=["jewelry"])


@pytest.fixture
def bo(db: None) -> AgentProfile:
    return AgentFactory(user=UserFactory(username="bo"), languages=["zh"], skills=["jewelry"])


@pytest.fixture
def mei(db: None) -> AgentProfile:
    return AgentFactory(user=UserFactory(username="mei"), languages=["zh", "en"], skills=["maternal_baby"])


@pytest.fixture
def sam(db: None) -> AgentProfile:
    user = UserFactory(username="sam")
    user.groups.add(ensure_roles()[SUPERVISORS_GROUP])
    return AgentFactory(user=user, languages=["zh", "en"], skills=[])


@pytest.fixture
def inquiry(eager_celery: None) -> Callable[..., Ticket]:
    """Open an inquiry through intake; with eager Celery it is routed and dispatched at once."""

    def make(
        body: str = "我的戒指尺寸偏大，想换小一号", *, category: str = "jewelry", language: str = "zh", **kwargs: object
    ) -> Ticket:
        shopper = kwargs.pop("shopper", None) or ShopperFactory()
        order = OrderSnapshot(number="JD1", product_category=category) if category else None
        result = open_ticket(
            shopper=ShopperDetails(external_id=shopper.external_id),
            channel="chat",
            body=body,
            language=language,
            order=order,
        )
        return Ticket.objects.get(pk=result.ticket.pk)

    return make
