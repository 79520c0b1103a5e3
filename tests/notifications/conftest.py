"""Notification personas: agent Ana (jewelry); shoppers Wang (Chinese, wrote by email, has an
address and a phone) and Emma (English, chats, phone only); a clock on a Monday morning; email into
Django's locmem outbox and SMS into a scratch file."""

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.db.models import F

from teams.models import AgentProfile
from teams.services import AGENTS_GROUP, SUPERVISORS_GROUP, ensure_roles
from tests.factories import AgentFactory, ShopperFactory, TicketFactory, UserFactory, queue
from tickets.models import Channel, Shopper, Ticket, TicketStatus

MONDAY_10_SHANGHAI = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
INBOUND_SECRET = "inbound-test-secret-0123456789"


def _agent(username: str, skills: list[str], group: str = AGENTS_GROUP, **kwargs: object) -> AgentProfile:
    user = UserFactory.create(username=username)
    user.groups.add(ensure_roles()[group])
    return AgentFactory.create(user=user, skills=skills, **kwargs)


@pytest.fixture(autouse=True)
def _outbox_settings(settings, tmp_path: Path) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms-outbox.log")
    settings.NOTIFICATION_SEEN_GRACE_SECONDS = 20
    settings.INBOUND_EMAIL_DOMAIN = "reply.shop.example"
    settings.INBOUND_EMAIL_SECRET = INBOUND_SECRET
    settings.PUBLIC_BASE_URL = "https://shop.example"


@pytest.fixture
def sms_sent(settings) -> Callable[[], list[dict]]:
    """The SMS the file provider wrote so far."""

    def read() -> list[dict]:
        path = Path(settings.SMS_FILE_PATH)
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    return read


@pytest.fixture
def clock() -> Iterator[object]:
    with time_machine.travel(MONDAY_10_SHANGHAI, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ana(db: None) -> AgentProfile:
    """Agent Ana: jewelry specialist; shoppers see her as "Ana"."""
    return _agent("ana", ["jewelry"], languages=["zh", "en"], display_name="Ana")


@pytest.fixture
def sam(db: None) -> AgentProfile:
    """Supervisor Sam (the admin's user in these tests)."""
    agent = _agent("sam", [], group=SUPERVISORS_GROUP)
    agent.user.is_staff = agent.user.is_superuser = True
    agent.user.save()
    return agent


@pytest.fixture
def wang(db: None) -> Shopper:
    """Shopper Wang: writes Chinese, gave an email address and a phone."""
    return ShopperFactory.create(
        external_id="wang", name="王女士", phone="+8613800138000", email="wang@example.cn", language="zh"
    )


@pytest.fixture
def emma(db: None) -> Shopper:
    """Shopper Emma: writes English, phone only."""
    return ShopperFactory.create(external_id="emma", name="Emma", phone="+491701234567", email="", language="en")


@pytest.fixture
def ticket_of(ana: AgentProfile) -> Callable[..., Ticket]:
    """A jewelry inquiry of a shopper on a channel, held by Ana (her slot counted)."""

    def make(shopper: Shopper, *, channel: str = Channel.EMAIL, status: str = TicketStatus.ASSIGNED) -> Ticket:
        from routing.models import Assignment

        ticket = TicketFactory.create(
            shopper=shopper,
            channel=channel,
            language=shopper.language,
            body="手链的搭扣坏了" if shopper.language == "zh" else "The clasp of my bracelet broke",
            queue=queue("jewelry"),
            status=status,
            assigned_agent=ana.user,
        )
        Assignment.objects.create(ticket=ticket, agent=ana.user, reason="routing")
        AgentProfile.objects.filter(pk=ana.pk).update(active_ticket_count=F("active_ticket_count") + 1)
        return ticket

    return make
