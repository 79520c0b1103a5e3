"""An agent takes a waiting ticket of their queues by hand ("Take this ticket").

The same assignment write as dispatch (assign_locked), under the same lock order: the ticket row
first, then the agent row. So a take racing dispatch, another agent's take or a status change
either wins whole or is refused whole, and capacity holds (the check constraint backs it up).
"""

from dataclasses import replace

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from routing.models import AssignmentReason, Offer
from routing.services.assignment import assign_locked, eligibility_for
from routing.services.offer_holds import end_offer_locked
from routing.services.work import RoutingError, _lock
from teams.models import AgentProfile, AgentSkill, AgentStatus
from tickets.models import Ticket, TicketStatus


def take_ticket(*, ticket_id: int, agent: AgentProfile) -> Ticket:
    """Give a waiting ticket to this agent now; RoutingError says why not (nothing written)."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if ticket.status != TicketStatus.QUEUED or ticket.queue is None:
            raise RoutingError(_("This ticket is no longer waiting: someone else has it, or it moved on."))
        offer = (
            Offer.objects.filter(ticket=ticket, state=Offer.State.PENDING).first() if ticket.queue.may_offer else None
        )
        if offer is not None and offer.agent_id != agent.user_id:
            raise RoutingError(_("This ticket is on offer to another agent: it comes back here if they decline."))
        locked = AgentProfile.objects.select_for_update().filter(pk=agent.pk).first()
        if locked is None:
            raise RoutingError(_("Only an agent can take a ticket."))
        if offer is not None:  # offered to this very agent: taking it is accepting it
            end_offer_locked(offer, state=Offer.State.ACCEPTED)
            locked.active_ticket_count -= 1
            assign_locked(ticket=ticket, agent=locked, reason=offer.reason)
            return ticket
        if locked.status != AgentStatus.ONLINE:
            raise RoutingError(_("Go online to take tickets."))
        if locked.active_ticket_count >= locked.capacity:
            raise RoutingError(
                _("You already hold %(held)s of %(capacity)s tickets: resolve one first.")
                % {"held": locked.active_ticket_count, "capacity": locked.capacity}
            )
        # A deliberate take admits a secondary skill as well (dispatch keeps that for overflow).
        rule = replace(eligibility_for(ticket, ticket.queue), allow_secondary=True)
        skills = dict(
            AgentSkill.objects.filter(agent=locked, category_id__in=rule.category_ids).values_list(
                "category_id", "level"
            )
        )
        if not rule.admits(locked.languages or [], skills):
            if ticket.language not in (locked.languages or []):
                raise RoutingError(
                    _("This ticket is in a language you do not serve (%(language)s).")
                    % {"language": ticket.get_language_display()}
                )
            raise RoutingError(_("This ticket needs a skill you do not hold."))
        assign_locked(ticket=ticket, agent=locked, reason=AssignmentReason.TAKEN)
    return ticket
