"""The panel orders adds to the console's ticket page (registered in orders.apps).

It is an empty frame with the fragment's URL: the page never waits on the order system. It is
not a live part (the console's live refresh re-reads those every few seconds), so in the live
fragment it renders nothing. The shopper's other inquiries are satisfaction's panel (with CSAT).
"""

from typing import Any

from django import template
from django.urls import reverse


def order_panel_placeholder(context: template.Context, ticket: Any, live: bool = False) -> dict[str, Any]:
    return {
        "live": live,
        "ticket": ticket,
        "orders_url": "" if live else reverse("orders:ticket_orders", args=[ticket.id]),
    }
