"""Routing services: every write on queues, assignments and agent status goes through here."""

from routing.services.assignment import dispatch_queue
from routing.services.intake import (
    drain_new_tickets,
    drain_queue,
    enqueue_dispatch,
    requeue_unrouted_tickets,
    route_new_tickets,
    route_ticket,
    triage_queue,
)
from routing.services.offers import OfferGone, accept_offer, decline_offer, expire_offers, pending_offers_for
from routing.services.presence import record_consoles_seen, sweep_absent_agents
from routing.services.sweep import sweep_waiting_tickets
from routing.services.take import take_ticket
from routing.services.work import (
    InquiryKeptOpen,
    RoutingError,
    add_internal_note,
    add_shopper_message,
    cancel_inquiry,
    close_resolved_tickets,
    escalate_ticket,
    recategorize_ticket,
    reopen_ticket,
    reply_to_shopper,
    request_handoff,
    resolve_ticket,
    set_agent_status,
    transfer_ticket,
)

__all__ = [
    "InquiryKeptOpen",
    "OfferGone",
    "RoutingError",
    "accept_offer",
    "add_internal_note",
    "add_shopper_message",
    "cancel_inquiry",
    "close_resolved_tickets",
    "decline_offer",
    "dispatch_queue",
    "drain_new_tickets",
    "drain_queue",
    "enqueue_dispatch",
    "escalate_ticket",
    "expire_offers",
    "pending_offers_for",
    "recategorize_ticket",
    "record_consoles_seen",
    "reopen_ticket",
    "reply_to_shopper",
    "request_handoff",
    "requeue_unrouted_tickets",
    "resolve_ticket",
    "route_new_tickets",
    "route_ticket",
    "set_agent_status",
    "sweep_absent_agents",
    "sweep_waiting_tickets",
    "take_ticket",
    "transfer_ticket",
    "triage_queue",
]
