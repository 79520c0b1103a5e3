from django import template

from orders import labels

register = template.Library()


@register.filter
def order_status(value: str) -> str:
    return labels.label(labels.ORDER_STATUS, value)


@register.filter
def payment_status(value: str) -> str:
    return labels.label(labels.PAYMENT_STATUS, value)


@register.filter
def shipping_status(value: str) -> str:
    return labels.label(labels.SHIPPING_STATUS, value)


@register.filter
def tracking_status(value: str) -> str:
    return labels.label(labels.TRACKING_STATUS, value)
