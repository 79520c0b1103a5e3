"""The panels aftersales adds to the console (registered in aftersales.apps): the ticket's
requests with their evidence, the decisions and one-click resolutions at the top of the ticket
page's main column (an agent sees open requests before the conversation); the "open a request"
form in its side column; the requests waiting for a supervisor's second approval on a
supervisor's inbox."""

from typing import Any

from django import template

from aftersales.forms import AgentOpenForm, DenyForm
from aftersales.models import DenialReason, RequestStatus, Resolution
from aftersales.selectors import awaiting_supervisor, follow_ups_of_ticket, requests_of_ticket
from aftersales.services import approval_limit_of
from aftersales.states import AWAITING_DECISION
from console.selectors import may_work
from routing.selectors import is_supervisor
from tickets.models import TicketStatus


def ticket_panel(context: template.Context, ticket: Any, live: bool = False) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"requests": []}
    supervisor = is_supervisor(user)
    requests = list(requests_of_ticket(ticket.id))
    # Only a closed ticket has requests moved away, and only a ticket with requests has any that
    # came from a closed one: other tickets' pages pay no query for the links.
    links = list(follow_ups_of_ticket(ticket.id)) if requests or ticket.status == TicketStatus.CLOSED else []
    return {
        "ticket": ticket,
        "requests": requests,
        # Requests that moved to a follow-up ticket when this one was closed, and the closed
        # tickets this one's requests came from.
        "moved_away": [link for link in links if link.from_ticket_id == ticket.id],
        "came_from": [link for link in links if link.to_ticket_id == ticket.id],
        # The agent's own limit matters only while a request waits for their decision.
        "awaits_decision": any(r.status in AWAITING_DECISION for r in requests),
        # A read-only page (a ticket that moved away from this agent) shows the requests, no button.
        "can_act": not context.get("read_only") and (may_work(user, ticket) or supervisor),
        "is_supervisor": supervisor,
        "user_id": user.pk,
        "limit": None if supervisor else approval_limit_of(user),
        "S": RequestStatus,
        "R": Resolution,
        # "The returned parcel never arrived" has its own button on requests awaiting a return.
        "denial_reasons": [c for c in DenialReason.choices if c[0] != DenialReason.RETURN_NOT_RECEIVED],
        "deny_form": DenyForm(),
        "live": live,
        "csrf_token": context.get("csrf_token"),
        "request": request,
        "here": str(context.get("page_path") or getattr(request, "path", "")),
    }


def open_panel(context: template.Context, ticket: Any, live: bool = False) -> dict[str, Any]:
    """The side column's "Open an after-sales request" form (no query: the holder or a supervisor)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    can_open = (
        not live
        and user is not None
        and user.is_authenticated
        and ticket.status != TicketStatus.CLOSED
        and may_work(user, ticket)
    )
    return {
        "ticket": ticket,
        "can_open": can_open,
        "live": live,
        "open_form": AgentOpenForm() if can_open else None,
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


def inbox_panel(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not is_supervisor(user):
        return {"waiting": []}
    return {"waiting": list(awaiting_supervisor()[:50])}
