"""A closed ticket's page says it is closed — when, and who resolved it, or that the shopper withdrew
it — never that its last holder "is working on this ticket": closing is final, nobody works it."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from routing.models import Assignment, AssignmentReason
from routing.services import cancel_inquiry, close_resolved_tickets, resolve_ticket
from teams.models import AgentProfile
from tests.factories import TicketFactory, queue
from tests.helpers import refreshed, set_ui_language
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db


def closed_after_ana_resolved_it(ana: AgentProfile) -> Ticket:
    ticket = TicketFactory.create(status=TicketStatus.ASSIGNED, queue=queue("jewelry"), assigned_agent=ana.user)
    resolve_ticket(ticket_id=ticket.id, by=ana.user)
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        assert close_resolved_tickets() == 1
    return refreshed(ticket)


def notice(page: str, element_id: str, end: str = "</p>") -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index(end, start)]


def test_sam_reads_when_the_ticket_closed_and_who_resolved_it_not_that_she_works_on_it(signed_in, ana, sam) -> None:
    ticket = closed_after_ana_resolved_it(ana)
    assert ticket.status == TicketStatus.CLOSED and ticket.assigned_agent_id == ana.user.pk

    page = signed_in(sam).get(f"/console/tickets/{ticket.id}/").text

    closed = notice(page, "closed-notice")
    assert "This ticket closed on " in closed and "(Ana resolved it on " in closed
    assert f"/{ticket.closed_at.year} " in closed and "a new message from the shopper opens a new inquiry" in closed
    assert "is working on this ticket" not in page


def test_in_chinese_the_closed_ticket_says_it_is_closed_with_full_width_brackets(signed_in, ana, sam) -> None:
    ticket = closed_after_ana_resolved_it(ana)
    set_ui_language("zh-hans", sam)

    page = signed_in(sam).get(f"/console/tickets/{ticket.id}/").text

    closed = notice(page, "closed-notice")
    assert "此工单已于" in closed and "（Ana 于" in closed and "解决）。" in closed
    assert "正在处理此工单" not in page


def test_a_ticket_the_shopper_withdrew_says_so(signed_in, ana, sam) -> None:
    ticket = TicketFactory.create(status=TicketStatus.QUEUED, queue=queue("jewelry"))
    # Assigned once and back in line (Ana went offline): withdrawn as "cancelled", Ana still named.
    Ticket.objects.filter(pk=ticket.pk).update(first_assigned_at=timezone.now(), assigned_agent=ana.user)
    cancel_inquiry(ticket_id=ticket.id)

    page = signed_in(sam).get(f"/console/tickets/{ticket.id}/").text

    assert "The shopper withdrew this ticket on " in notice(page, "closed-notice")
    assert "is working on this ticket" not in page


def test_an_agent_who_once_held_a_closed_ticket_reads_that_it_is_closed_not_who_has_it(signed_in, ana, bo) -> None:
    ticket = closed_after_ana_resolved_it(ana)
    # Bo held it before Ana; he reads it through his old assignment, read-only.
    Assignment.objects.create(
        ticket=ticket, agent=bo.user, reason=AssignmentReason.ROUTING, ended_at=timezone.now(), end_reason="reassigned"
    )

    page = signed_in(bo).get(f"/console/tickets/{ticket.id}/").text

    top = notice(page, "read-only-notice", end="</div>")
    assert "You worked on this ticket; it is closed now." in top and "has it now" not in top
    assert "This ticket closed on " in notice(page, "closed-notice")
    assert "is working on this ticket" not in page
