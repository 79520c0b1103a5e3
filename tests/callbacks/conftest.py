"""Callback personas: agents Ana and Bo (jewelry), supervisor Sam; shoppers Wang (Chinese,
Shanghai) and Emma (English, Berlin); and a clock fixed on a Monday morning in Shanghai."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from callbacks.models import Callback
from callbacks.services import book_callback
from teams.models import AgentProfile
from teams.services import AGENTS_GROUP, SUPERVISORS_GROUP, ensure_roles
from tests.factories import AgentFactory, ShopperFactory, TicketFactory, UserFactory, queue
from tests.helpers import at_shanghai
from tickets.models import Shopper, Ticket, TicketStatus

# Monday 23 November 2026, 10:00 in Shanghai (UTC+8, no daylight saving).
MONDAY_10_SHANGHAI = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _agent(username: str, skills: list[str], group: str = AGENTS_GROUP, **kwargs: object) -> AgentProfile:
    user = UserFactory.create(username=username)
    user.groups.add(ensure_roles()[group])
    return AgentFactory.create(user=user, skills=skills, **kwargs)


@pytest.fixture
def clock() -> Iterator[object]:
    with time_machine.travel(MONDAY_10_SHANGHAI, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ana(db: None) -> AgentProfile:
    """Agent Ana: jewelry specialist in Shanghai."""
    return _agent("ana", ["jewelry"], languages=["zh", "en"], time_zone="Asia/Shanghai")


@pytest.fixture
def bo(db: None) -> AgentProfile:
    """Agent Bo: jewelry specialist, also in Shanghai."""
    return _agent("bo", ["jewelry"], languages=["zh"], time_zone="Asia/Shanghai")


@pytest.fixture
def mei(db: None) -> AgentProfile:
    """Agent Mei: maternal & baby; she cannot see jewelry tickets."""
    return _agent("mei", ["maternal_baby"], languages=["zh", "en"])


@pytest.fixture
def sam(db: None) -> AgentProfile:
    """Supervisor Sam."""
    return _agent("sam", [], group=SUPERVISORS_GROUP, languages=["zh", "en"], time_zone="Europe/Berlin")


@pytest.fixture
def wang(db: None) -> Shopper:
    """Shopper Wang: writes Chinese, lives in Shanghai, has a phone and an email address."""
    return ShopperFactory.create(
        external_id="wang",
        name="王女士",
        phone="+8613800138000",
        email="wang@example.cn",
        language="zh",
        time_zone="Asia/Shanghai",
    )


@pytest.fixture
def emma(db: None) -> Shopper:
    """Shopper Emma: writes English, lives in Berlin, phone only."""
    return ShopperFactory.create(
        external_id="emma", name="Emma", phone="+491701234567", email="", language="en", time_zone="Europe/Berlin"
    )


@pytest.fixture
def ticket_of(ana: AgentProfile) -> Callable[..., Ticket]:
    """A jewelry ticket of a shopper, assigned to Ana unless told otherwise."""

    def make(shopper: Shopper, *, agent: AgentProfile | None = ana, status: str = TicketStatus.ASSIGNED) -> Ticket:
        return TicketFactory.create(
            shopper=shopper,
            queue=queue("jewelry"),
            status=status if agent else TicketStatus.QUEUED,
            assigned_agent=agent.user if agent else None,
        )

    return make


@pytest.fixture
def booked(ticket_of: Callable[..., Ticket], wang: Shopper, ana: AgentProfile) -> Callable[..., Callback]:
    """Ana books a callback for Wang (default: Monday 14:00 Shanghai, owned by Ana)."""

    def make(at: datetime | None = None, **kwargs: object) -> Callback:
        ticket = kwargs.pop("ticket", None) or ticket_of(wang)
        options: dict[str, object] = {"owner": ana.user, "booked_by": ana.user, "phone": wang.phone, **kwargs}
        return book_callback(ticket=ticket, scheduled_at=at or at_shanghai(23, 14), **options)  # type: ignore[arg-type]  # the options dict mixes value types

    return make


@pytest.fixture(autouse=True)
def _sms_to_a_scratch_file(settings, tmp_path) -> None:
    """SMS sent in tests go to a file of the test's own, never to var/sms-outbox.log."""
    settings.SMS_FILE_PATH = str(tmp_path / "sms-outbox.log")
