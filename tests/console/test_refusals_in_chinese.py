"""A refusal (RoutingError, an impossible status change) reads in the page's language: Sam works in
Chinese and sees why a reassign was refused in Chinese; the routing record stays in English."""

import pytest
from django.utils import translation

from routing.models import RoutingDecision
from routing.services import RoutingError, set_agent_status, take_ticket
from teams.models import AgentStatus
from tests.helpers import set_ui_language
from tickets.models import TicketStatus
from tickets.states import InvalidTransition, check_transition

pytestmark = pytest.mark.django_db


def test_sam_reads_a_reassign_refusal_in_chinese(sam, ana, bo, inquiry, signed_in, after_commit) -> None:
    set_ui_language("zh-hans", sam)
    with after_commit():
        set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry("My ring is too big", language="en")

    response = signed_in(sam).post(
        "/console/dashboard/reassign/", {"ticket": ticket.id, "agent": bo.pk, "reason": "VIP"}
    )

    assert response.status_code == 409
    assert "处于离开状态；不会说顾客的语言（English）。主管可以强制转派。" in response.text
    assert "may override" not in response.text and "is away" not in response.text


def test_an_overridden_reassign_is_recorded_in_english(sam, ana, bo, inquiry, signed_in, after_commit) -> None:
    set_ui_language("zh-hans", sam)
    with after_commit():
        set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry("My ring is too big", language="en")

    with after_commit():
        response = signed_in(sam).post(
            "/console/dashboard/reassign/", {"ticket": ticket.id, "agent": bo.pk, "reason": "VIP", "override": "on"}
        )

    assert response.status_code == 302
    record = RoutingDecision.objects.filter(ticket=ticket, kind=RoutingDecision.Kind.TRANSFER).latest("id")
    assert "is away; does not speak the shopper's language (English)" in record.reason


def test_take_and_status_refusals_are_translated(ana, inquiry) -> None:
    ticket = inquiry()  # assigned to Ana at once: no longer waiting
    with translation.override("zh-hans"):
        with pytest.raises(RoutingError) as refused:
            take_ticket(ticket_id=ticket.id, agent=ana)
        with pytest.raises(InvalidTransition) as impossible:
            check_transition(TicketStatus.CLOSED, TicketStatus.ASSIGNED)

        assert str(refused.value) == "此工单已不在等待：已被他人接手，或已转走。"
        assert str(impossible.value) == "工单不能从“已关闭”变为“已分配”。"
    with translation.override("en"):
        assert str(refused.value) == "This ticket is no longer waiting: someone else has it, or it moved on."
