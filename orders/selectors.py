"""Reads for the ticket page's order and history panels."""

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from core.timezones import is_time_zone
from orders.contract import Order, OrderNotFound, OrderServiceUnavailable
from orders.interface import OrderSystem, get_order_system
from routing.selectors import tickets_readable_by
from tickets.models import Ticket

logger = logging.getLogger(__name__)

RECENT_ORDERS = 5
OTHER_TICKETS = 10

# Delivery progress, in order: where an order stands is an index into this.
STEP_ORDERED, STEP_PAID, STEP_SHIPPED, STEP_DELIVERED = range(4)
TROUBLE_SHIPPING = {"delivery_failed", "returned"}


@dataclass(frozen=True)
class OrderCard:
    order: Order
    is_named: bool  # the order the inquiry is about
    step: int
    is_late: bool
    has_trouble: bool  # delivery failed, returned or cancelled


@dataclass(frozen=True)
class OrderPanel:
    cards: list[OrderCard]
    is_unavailable: bool = False
    # The inquiry names an order the order system does not know (a typo, another storefront).
    named_not_found: str = ""


def delivery_step(order: Order) -> int:
    shipping = order.shipping.status
    if shipping == "delivered" or order.status == "delivered":
        return STEP_DELIVERED
    if shipping in ("in_transit", *TROUBLE_SHIPPING) or order.shipping.shipped_at is not None:
        return STEP_SHIPPED
    if order.payment.status in ("paid", "partially_refunded", "refunded") or order.payment.paid_at:
        return STEP_PAID
    return STEP_ORDERED


def _card(order: Order, *, named: str, today: date) -> OrderCard:
    return OrderCard(
        order=order,
        is_named=bool(named) and order.number == named,
        step=delivery_step(order),
        is_late=order.is_late(today),
        has_trouble=order.shipping.status in TROUBLE_SHIPPING or order.status in ("cancelled", "returned"),
    )


def shopper_today(ticket: Ticket, now: datetime) -> date:
    """Promised dates are the shopper's calendar days."""
    zone = ticket.shopper.time_zone if is_time_zone(ticket.shopper.time_zone) else "UTC"
    return now.astimezone(ZoneInfo(zone)).date()


def order_panel(ticket: Ticket, *, now: datetime, system: OrderSystem | None = None) -> OrderPanel:
    """The shopper's recent orders, the inquiry's order first (with all its tracking events).

    Never raises for the order system's sake: down, slow or an open circuit is is_unavailable.
    """
    system = system or get_order_system()
    named = ticket.order_number
    today = shopper_today(ticket, now)
    try:
        recent = system.recent_orders(ticket.shopper.external_id, limit=RECENT_ORDERS)
        named_order: Order | None = None
        named_not_found = ""
        if named:
            try:
                named_order = system.get_order(named)
            except OrderNotFound:
                named_not_found = named
    except OrderServiceUnavailable as exc:
        logger.info("Orders unavailable for ticket %s: %s", ticket.pk, exc)
        return OrderPanel(cards=[], is_unavailable=True)
    others = [order for order in recent if order.number != named]
    ordered = [named_order, *others] if named_order is not None else others
    return OrderPanel(cards=[_card(o, named=named, today=today) for o in ordered], named_not_found=named_not_found)


@dataclass(frozen=True)
class OtherTicket:
    ticket: Ticket
    is_visible: bool  # this user may open it (links only where they may)


@dataclass(frozen=True)
class ShopperHistory:
    tickets: list[OtherTicket]
    has_more: bool


def shopper_history(user: User, ticket: Ticket, *, limit: int = OTHER_TICKETS) -> ShopperHistory:
    """The shopper's other inquiries, newest first (two queries, through ticket_shopper_created)."""
    rows = list(
        Ticket.objects.filter(shopper_id=ticket.shopper_id)
        .exclude(pk=ticket.pk)
        .select_related("queue", "category")
        .order_by("-created_at", "-id")[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    visible = (
        set(tickets_readable_by(user).filter(pk__in=[t.pk for t in rows]).values_list("pk", flat=True))
        if rows
        else set()
    )
    return ShopperHistory(tickets=[OtherTicket(t, t.pk in visible) for t in rows], has_more=has_more)
