"""Why a ticket is Top priority, in words an agent understands at a glance.

Top priority is set in several places (a shopper asking for a person, an escalation, a ticket
returned to the line because its agent left, a reopen); the ticket keeps only the number. The
reason is read back from what routing wrote: handoff_requested_at, the latest HANDOFF / ESCALATE /
REQUEUE decision, and the classifier's signals.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from console.templatetags.console import SIGNALS
from routing.models import RoutingDecision
from tickets.models import Ticket

REASON_KINDS = (RoutingDecision.Kind.HANDOFF, RoutingDecision.Kind.ESCALATE, RoutingDecision.Kind.REQUEUE)


@dataclass(frozen=True)
class PriorityReason:
    code: str  # handoff | escalation | returned | reopened | signal
    label: str
    detail: str = ""


def _requeue_reason(reason: str) -> PriorityReason:
    if reason.startswith("reopened"):
        return PriorityReason("reopened", _("Reopened"))
    if "agent went offline" in reason:
        return PriorityReason("returned", _("Returned: agent went offline"))
    return PriorityReason("returned", _("Returned: shopper wrote back, agent away"))


def _reason(ticket: Ticket, decision: RoutingDecision | None) -> PriorityReason | None:
    if decision is not None and decision.kind == RoutingDecision.Kind.ESCALATE:
        return PriorityReason("escalation", _("Escalated"), decision.reason)
    if decision is not None and decision.kind == RoutingDecision.Kind.REQUEUE:
        return _requeue_reason(decision.reason)
    if ticket.handoff_requested_at is not None or decision is not None:
        return PriorityReason("handoff", _("Shopper asked for a person"))
    if ticket.signals:
        label = SIGNALS.get(ticket.signals[0], (ticket.signals[0], ""))[0]
        return PriorityReason("signal", _("Signal: %(signal)s") % {"signal": label})
    return None


def attach_priority_reasons(tickets: Iterable[Ticket]) -> None:
    """Set ticket.priority_reason (a PriorityReason or None) on each ticket, in one query."""
    tickets = list(tickets)
    top = {ticket.pk: ticket for ticket in tickets if ticket.priority >= Ticket.PRIORITY_TOP}
    latest: dict[int, RoutingDecision] = {}
    if top:
        decisions = RoutingDecision.objects.filter(ticket_id__in=top, kind__in=REASON_KINDS).order_by(
            "ticket_id", "-created_at", "-id"
        )
        for decision in decisions.only("ticket_id", "kind", "reason", "created_at"):
            latest.setdefault(decision.ticket_id, decision)
    for ticket in tickets:
        reason = _reason(ticket, latest.get(ticket.pk)) if ticket.pk in top else None
        ticket.priority_reason = reason  # type: ignore[attr-defined]
