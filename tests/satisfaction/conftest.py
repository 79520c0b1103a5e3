"""Satisfaction personas: agent Ana (jewelry), supervisor Sam, shoppers Wang and Li, and a helper
that takes an inquiry through intake, routing and resolution with the real services."""

from collections.abc import Callable

import pytest

from routing.services import resolve_ticket
from tests.factories import ShopperFactory
from tickets.models import Shopper, Ticket, TicketStatus


@pytest.fixture
def wang(db: None) -> Shopper:
    return ShopperFactory.create(external_id="wang", name="王芳")


@pytest.fixture
def li(db: None) -> Shopper:
    return ShopperFactory.create(external_id="li", name="李雷")


@pytest.fixture
def resolved(request: pytest.FixtureRequest) -> Callable[..., Ticket]:
    """An inquiry of `shopper` (default: a new one) routed to Ana and resolved by her."""
    open_inquiry = request.getfixturevalue("inquiry")
    agent = request.getfixturevalue("ana")

    def make(shopper: Shopper | None = None) -> Ticket:
        ticket = open_inquiry(shopper=shopper) if shopper else open_inquiry()
        assert ticket.assigned_agent_id == agent.user_id, "Ana is the one jewelry agent online"
        resolve_ticket(ticket_id=ticket.id, by=agent.user)
        ticket.refresh_from_db()
        assert ticket.status == TicketStatus.RESOLVED
        return ticket

    return make


@pytest.fixture(autouse=True)
def _no_cached_health() -> None:
    """The health payload is cached across processes: never carry one test's into the next."""

    from supervision.selectors import forget_health

    forget_health()
