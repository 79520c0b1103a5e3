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


def agent_name_of(agent: User) -> str:
    profile = getattr(agent, "agent_profile", None)
    return (profile.display_name if profile else "") or agent.get_full_name() or agent.get_username()


def ticket_values(ticket: Ticket, agent_name: str) -> TicketValues:
    """What the placeholders stand for on this ticket (ticket.shopper and .queue loaded)."""
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


def composer_macros(ticket: Ticket, agent: User, *, agent_name: str | None = None) -> list[dict[str, object]]:
    """The macros the composer offers on this ticket, their text in the ticket's language with
    the placeholders filled (plain text: the page puts it in a textarea, never as HTML)."""
    values = ticket_values(ticket, agent_name if agent_name is not None else agent_name_of(agent))
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
