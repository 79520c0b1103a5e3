"""Translated labels for the states the storefront sends; an unknown state shows as sent."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ORDER_STATUS: dict[str, Promise] = {
    "placed": _("Placed"),
    "paid": _("Paid"),
    "shipped": _("Shipped"),
    "delivered": _("Delivered"),
    "cancelled": _("Cancelled"),
    "returned": _("Returned"),
}
PAYMENT_STATUS: dict[str, Promise] = {
    "pending": _("Awaiting payment"),
    "paid": _("Paid"),
    "partially_refunded": _("Partly refunded"),
    "refunded": _("Refunded"),
}
SHIPPING_STATUS: dict[str, Promise] = {
    "not_shipped": _("Not shipped yet"),
    "in_transit": _("In transit"),
    "delivered": _("Delivered"),
    "delivery_failed": _("Delivery failed"),
    "returned": _("Returned to sender"),
}
TRACKING_STATUS: dict[str, Promise] = {
    "picked_up": _("Picked up"),
    "in_transit": _("In transit"),
    "out_for_delivery": _("Out for delivery"),
    "delivered": _("Delivered"),
    "delivery_failed": _("Delivery failed"),
    "returned": _("Returned to sender"),
}


def delivery_steps() -> list[Promise]:
    return [_("Ordered"), _("Paid"), _("Shipped"), _("Delivered")]


def label(table: dict[str, Promise], value: str) -> str:
    return str(table.get(value, value.replace("_", " ")))
