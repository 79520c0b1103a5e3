"""The shopper page's after-sales block ({% aftersales_for_shopper ticket %}, shop templates) and
the name of a rule code ({{ code|rule_label }}, aftersales.rules)."""

from typing import Any

from django import template

from aftersales.models import RequestStatus
from aftersales.rules import rule_label as label_of_rule
from aftersales.selectors import requests_of_ticket
from tickets.models import TicketStatus

register = template.Library()


@register.inclusion_tag("aftersales/_shop_block.html", takes_context=True)
def aftersales_for_shopper(context: template.Context, ticket: Any) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "requests": list(requests_of_ticket(ticket.id)),
        "can_open": bool(ticket.order_number) and ticket.status != TicketStatus.CLOSED,
        "S": RequestStatus,
    }


@register.filter
def rule_label(code: str) -> str:
    return label_of_rule(str(code or ""))
