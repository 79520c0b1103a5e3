"""The panels aftersales adds to the console (registered in aftersales.apps): the ticket's
requests with their evidence, the decisions and one-click resolutions on the ticket page; the
requests waiting for a supervisor's second approval on a supervisor's inbox."""

from typing import Any

from django import template

from aftersales.forms import AgentOpenForm, DenyForm
from aftersales.models import DenialReason, RequestStatus, Resolution
from aftersales.selectors import awaiting_supervisor, requests_of_ticket
from aftersales.services import approval_limit_of
from console.selectors import may_work
from routing.selectors import is_supervisor
from tickets.models import TicketStatus


def ticket_panel(context: template.Context, ticket: Any, live: bool = False) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"requests": []}
    supervisor = is_supervisor(user)
    return {
        "ticket": ticket,
        "requests": list(requests_of_ticket(ticket.id)),
        "can_act": may_work(user, ticket) or supervisor,
        "is_supervisor": supervisor,
        "user_id": user.pk,
        "limit": None if supervisor else approval_limit_of(user),
        "S": RequestStatus,
        "R": Resolution,
        "denial_reasons": DenialReason.choices,
        "deny_form": DenyForm(),
        "open_form": AgentOpenForm() if not live else None,
        "can_open": ticket.status != TicketStatus.CLOSED and may_work(user, ticket),
        "live": live,
        "csrf_token": context.get("csrf_token"),
        "request": request,
        "here": str(context.get("page_path") or getattr(request, "path", "")),
    }


def inbox_panel(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not is_supervisor(user):
        return {"waiting": []}
    return {"waiting": list(awaiting_supervisor()[:50])}
