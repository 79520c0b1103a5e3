"""Reads for screens: what supervisors must know about webhook endpoints."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from webhooks.models import WebhookEndpoint


@dataclass(frozen=True)
class EndpointAlert:
    endpoint_id: int
    client: str
    url: str
    disabled_at: datetime | None
    reason: str
    consecutive_failures: int
    failing_since: datetime | None


def endpoint_alerts() -> list[EndpointAlert]:
    """Active endpoints that were disabled for failing, or are failing now (one query)."""
    endpoints = (
        WebhookEndpoint.objects.filter(is_active=True)
        .filter(Q(disabled_at__isnull=False) | Q(consecutive_failures__gt=0))
        .select_related("client")
        .order_by("disabled_at", "-consecutive_failures", "id")
    )
    return [
        EndpointAlert(
            endpoint_id=e.pk,
            client=e.client.username,
            url=e.url,
            disabled_at=e.disabled_at,
            reason=e.disabled_reason,
            consecutive_failures=e.consecutive_failures,
            failing_since=e.failing_since,
        )
        for e in endpoints
    ]
