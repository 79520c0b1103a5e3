"""The shopper page's after-sales block ({% aftersales_for_shopper ticket %}, shop templates) and
the name of a rule code ({{ code|rule_label }}, aftersales.rules)."""

from typing import Any

from django import template
from django.urls import reverse

from aftersales.models import RequestStatus
from aftersales.rules import rule_label as label_of_rule
from aftersales.selectors import moved_away_from, requests_of_ticket
from tickets.links import make_access_token
from tickets.models import TicketStatus

register = template.Library()


@register.inclusion_tag("aftersales/_shop_block.html", takes_context=True)
def aftersales_for_shopper(context: template.Context, ticket: Any) -> dict[str, Any]:
    closed = ticket.status == TicketStatus.CLOSED
    return {
        "ticket": ticket,
        "requests": list(requests_of_ticket(ticket.id)),
        # Requests that needed a person after this inquiry closed continue on a follow-up: the
        # shopper holds this inquiry's link, so it says where each is now, its state, and a signed
        # link that opens the follow-up in this browser (the same shopper's inquiry).
        "moved_away": [
            (link, reverse("shop:access", args=[make_access_token(link.to_ticket_id)]))
            for link in moved_away_from(ticket.id)
        ]
        if closed
        else [],
        "can_open": bool(ticket.order_number) and not closed,
        "S": RequestStatus,
    }


@register.filter
def rule_label(code: str) -> str:
    return label_of_rule(str(code or ""))
