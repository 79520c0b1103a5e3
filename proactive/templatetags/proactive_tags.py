from django import template

from proactive.models import AnomalyKind

register = template.Library()


@register.filter
def anomaly_kind(value: str) -> str:
    """The anomaly kind's label in the reader's language."""
    return str(AnomalyKind(value).label) if value in AnomalyKind.values else value
