"""The panels orders adds to the console's ticket page (registered in orders.apps).

The orders panel is an empty frame with the fragment's URL: the page never waits on the order
system. Neither panel is a live part (the console's live refresh re-reads those every few
seconds), so in the live fragment they render nothing.
"""

from typing import Any

from django import template
from django.urls import reverse

from orders.selectors import shopper_history


def order_panel_placeholder(context: template.Context, ticket: Any, live: bool = False) -> dict[str, Any]:
    return {
        "live": live,
        "ticket": ticket,
        "orders_url": "" if live else reverse("orders:ticket_orders", args=[ticket.id]),
    }


def shopper_history_panel(context: template.Context, ticket: Any, live: bool = False) -> dict[str, Any]:
    if live:
        return {"live": True}
    user = context["request"].user  # the console's pages are for signed-in agents only
    return {"live": False, "ticket": ticket, "history": shopper_history(user, ticket)}
