"""Ana opens a ticket she once held and that a supervisor moved to Bo: she reads the shopper's
other inquiries, the order and the after-sales requests' status, and finds no form or button;
every action still answers 404."""

from decimal import Decimal

import pytest
from django.template import Context
from django.test import RequestFactory
from django.utils import timezone

from aftersales.models import AfterSalesRequest, Kind, Opener, RequestStatus, Resolution
from console import panels
from routing.models import Assignment, AssignmentReason
from tests.factories import ShopperFactory, TicketFactory, queue
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def moved_to_bo(ana, bo):
    """Ana held this ticket (with a refund waiting for review); a supervisor moved it to Bo."""
    shopper = ShopperFactory.create(name="李女士")
    TicketFactory.create(shopper=shopper, body="上次的耳环", status=TicketStatus.CLOSED, queue=queue("jewelry"))
    ticket = TicketFactory.create(
        shopper=shopper,
        body="项链的扣子坏了",
        status=TicketStatus.ASSIGNED,
        assigned_agent=bo.user,
        queue=queue("jewelry"),
        order_number="SO-RO-1",
    )
    Assignment.objects.create(
        ticket=ticket, agent=ana.user, reason=AssignmentReason.ROUTING, ended_at=timezone.now(), end_reason="reassigned"
    )
    Assignment.objects.create(ticket=ticket, agent=bo.user, reason=AssignmentReason.SUPERVISOR)
    refund = AfterSalesRequest.objects.create(
        ticket=ticket,
        shopper=shopper,
        kind=Kind.REFUND_ONLY,
        resolution=Resolution.REFUND,
        status=RequestStatus.PENDING_REVIEW,
        opened_by=Opener.SHOPPER,
        order_number="SO-RO-1",
        currency="CNY",
        amount_requested=Decimal("88.00"),
    )
    return ticket, refund


def test_the_former_agent_reads_the_safe_panels_without_any_form(signed_in, ana, moved_to_bo) -> None:
    ticket, refund = moved_to_bo
    client = signed_in(ana)

    page = client.get(f"/console/tickets/{ticket.id}/").text

    assert 'id="read-only-notice"' in page
    assert 'id="shopper-history"' in page and "上次的耳环" in page
    assert 'id="ticket-orders"' in page
    assert 'id="ticket-aftersales"' in page and "88.00" in page
    assert 'method="post"' not in page.split('id="read-only-notice"')[1].split("</main>")[0]
    for hidden in ("book-callback-form", "open-aftersales-form", "reply-form", "resolve-form", "transfer-form"):
        assert f'id="{hidden}"' not in page, hidden
    # The order facts load for her too; the actions stay refused.
    assert client.get(f"/console/tickets/{ticket.id}/orders/").status_code == 200
    assert client.post(f"/console/aftersales/{refund.id}/approve/", {"amount": "88.00"}).status_code == 404
    assert client.post(f"/console/tickets/{ticket.id}/resolve/").status_code == 404
    refund.refresh_from_db()
    assert refund.status == RequestStatus.PENDING_REVIEW


def test_the_holder_still_gets_every_panel_and_its_buttons(signed_in, bo, moved_to_bo) -> None:
    ticket, refund = moved_to_bo

    page = signed_in(bo).get(f"/console/tickets/{ticket.id}/").text

    assert 'id="read-only-notice"' not in page
    assert 'id="book-callback-form"' in page and 'id="open-aftersales-form"' in page
    assert f'action="/console/aftersales/{refund.id}/approve/"' in page


def test_someone_who_never_held_it_reads_nothing(signed_in, mei, moved_to_bo) -> None:
    ticket, _refund = moved_to_bo
    client = signed_in(mei)
    assert client.get(f"/console/tickets/{ticket.id}/").status_code == 404
    assert client.get(f"/console/tickets/{ticket.id}/orders/").status_code == 404


def test_a_slot_shows_only_panels_registered_read_only_on_a_read_only_page(monkeypatch, ana) -> None:
    monkeypatch.setattr(panels, "_panels", {})
    seen = []

    def build(context, *args, **kwargs):
        seen.append(args)
        return {}

    panels.register_panel("test", "console/_ticket_summary.html", build)
    panels.register_panel("test", "console/_priority.html", build, read_only=True)
    request = RequestFactory().get("/")
    request.user = ana.user

    assert [p.template_name for p in panels.panels_for("test", read_only=True)] == ["console/_priority.html"]
    assert len(panels.panels_for("test")) == 2
    panels.render_panels(Context({"request": request, "read_only": True}), "test", "x")
    assert seen == [("x",)]  # the other panel's context is not even built
