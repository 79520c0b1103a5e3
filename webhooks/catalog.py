"""The event types an endpoint may subscribe to: the one list (API and admin validate against it)."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The envelope's version: a receiver reads "version" before anything else. A change that could
# break a receiver (a field renamed or removed) gets a new number; added fields do not.
ENVELOPE_VERSION = 1

EVENT_TYPES: dict[str, "StrOrPromise"] = {
    "ticket.created": _("An inquiry was accepted"),
    "ticket.classified": _("Category, intent and signals were decided (by the model, the order or an agent)"),
    "ticket.queued": _("The ticket entered a specialist queue's line"),
    "ticket.assigned": _("An agent got the ticket"),
    "ticket.handoff_requested": _("The shopper (or a signal) asked for a person"),
    "ticket.handoff_assigned": _("A person took a handed-off ticket"),
    "message.created": _("A public message was written on the ticket"),
    "ticket.transferred": _("The ticket moved to another queue or agent"),
    "ticket.escalated": _("The ticket went to the supervisors"),
    "ticket.resolved": _("The ticket was resolved"),
    "ticket.reopened": _("A resolved ticket was reopened"),
    "ticket.closed": _("The ticket was closed"),
    "callback.booked": _("A callback was booked"),
    "callback.rescheduled": _("A callback moved to another time"),
    "callback.cancelled": _("A callback was cancelled"),
    "callback.completed": _("A callback reached the shopper"),
    "rating.created": _("The shopper rated the service"),
    "aftersales.requested": _("An after-sales request was opened"),
    "aftersales.approved": _("An after-sales request was approved (by policy or a person)"),
    "aftersales.denied": _("An after-sales request was denied"),
    "aftersales.return_received": _("The returned parcel of an after-sales request arrived"),
    "aftersales.return_overdue": _(
        "An approved return's parcel did not arrive in time: the request went to a specialist"
    ),
    "aftersales.executed": _("An after-sales request was paid, reshipped or compensated"),
    "aftersales.failed": _("The order system refused or failed an after-sales request"),
    "proactive.case_opened": _("An order anomaly (stalled, late, failed, cold chain) opened a proactive ticket"),
}
# Subscribes an endpoint to every type, including ones added later.
ALL_EVENTS = "*"
