"""The shopper's history on the console's ticket page (registered in satisfaction.apps): their
other inquiries, with the rating each got, so an agent sees at a glance an unhappy returning
shopper. One panel, drawn from orders.selectors.shopper_history (the list) and the ratings here."""

from typing import Any

from django import template

from orders.selectors import shopper_history
from satisfaction.models import Rating


def shopper_history_panel(context: template.Context, ticket: Any, live: bool = False) -> dict[str, Any]:
    if live:
        return {"live": True}
    user = context["request"].user  # the console's pages are for signed-in agents only
    history = shopper_history(user, ticket)
    latest: dict[int, Rating] = {}
    # The latest resolution's rating per ticket: one query for the whole list.
    for rating in Rating.objects.filter(ticket_id__in=[o.ticket.pk for o in history.tickets]).order_by(
        "ticket_id", "-resolved_at"
    ):
        latest.setdefault(rating.ticket_id, rating)
    rows = [(other, latest.get(other.ticket.pk)) for other in history.tickets]
    return {"live": False, "ticket": ticket, "history": history, "rows": rows}
