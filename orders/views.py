"""The ticket page's order fragment: fetched by the page after it loaded, never in its request.

Only agents who may read the ticket get it (the console's own check: 404 otherwise; a former agent
reads it on the read-only page). It always answers 200 with HTML: an order system that is down or
slow becomes "orders unavailable" in it.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from console.views import console_view, readable_ticket_or_404
from orders import labels
from orders.selectors import STEP_DELIVERED, order_panel


@require_GET
@never_cache
@console_view
def ticket_orders(request: HttpRequest, ticket_id: int) -> HttpResponse:
    # Order facts only (no action): a read-only page of a ticket the agent once held shows them too.
    ticket = readable_ticket_or_404(request, ticket_id)
    panel = order_panel(ticket, now=timezone.now())
    return render(
        request,
        "orders/_orders_fragment.html",
        {
            "ticket": ticket,
            "panel": panel,
            "steps": labels.delivery_steps(),
            "last_step": STEP_DELIVERED,
        },
    )
