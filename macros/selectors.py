"""Reads of canned replies, for the composer and the supervisors' list."""

from django.contrib.auth.models import User
from django.db.models import F, Q, QuerySet

from macros.models import Macro
from macros.placeholders import TicketValues, fill
from tickets.models import Ticket


def macros_for_ticket(ticket: Ticket) -> QuerySet[Macro]:
    """The global macros and those of the ticket's queue, most used first."""
    return Macro.objects.filter(Q(queue__isnull=True) | Q(queue_id=ticket.queue_id)).order_by(
        "-usage_count", "shortcut", "id"
    )


def ticket_values(ticket: Ticket, agent: User) -> TicketValues:
    """What the placeholders stand for on this ticket (ticket.shopper and .queue loaded)."""
    profile = getattr(agent, "agent_profile", None)
    agent_name = (profile.display_name if profile else "") or agent.get_full_name() or agent.get_username()
    queue_name = ""
    if ticket.queue is not None:
        queue_name = ticket.queue.name_zh if ticket.language == "zh" and ticket.queue.name_zh else ticket.queue.name
    return TicketValues(
        language=ticket.language,
        shopper_name=ticket.shopper.name,
        order_number=ticket.order_number,
        agent_name=agent_name,
        queue_name=queue_name,
    )


def composer_macros(ticket: Ticket, agent: User) -> list[dict[str, object]]:
    """The macros the composer offers on this ticket, their text in the ticket's language with
    the placeholders filled (plain text: the page puts it in a textarea, never as HTML)."""
    values = ticket_values(ticket, agent)
    return [
        {
            "id": macro.pk,
            "shortcut": macro.shortcut,
            "name": macro.name,
            "then": macro.then_status,
            "then_label": str(macro.get_then_status_display()) if macro.then_status else "",
            "text": fill(macro.body_for(ticket.language), values),
        }
        for macro in macros_for_ticket(ticket)
    ]


def macro_list() -> QuerySet[Macro]:
    """Every macro for the supervisors' page: global first, then by queue, then shortcut."""
    return Macro.objects.select_related("queue", "updated_by").order_by(
        F("queue__name").asc(nulls_first=True), "shortcut"
    )
