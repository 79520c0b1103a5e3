"""Webhook tasks, on their own Celery queue ("webhooks"): thin, named, idempotent."""

from celery import shared_task

from webhooks import delivery, fanout, services


@shared_task(name="webhooks.fan_out")
def fan_out() -> int:
    """Kicked (coalesced) after a commit that wrote events: makes their deliveries, kicks the runs."""
    return fanout.fan_out().events


@shared_task(name="webhooks.deliver")
def deliver(endpoint_id: int) -> int:
    """Kicked per endpoint after a commit that wrote its rows; sends what is due, in order."""
    return delivery.deliver_endpoint(endpoint_id=endpoint_id).delivered


@shared_task(name="webhooks.sweep")
def sweep() -> int:
    """Beat, every few seconds: events whose fan-out kick was lost, retries whose backoff is over and
    runs lost with their message."""
    return delivery.sweep_due_deliveries()


@shared_task(name="webhooks.prune")
def prune() -> int:
    """Beat: delete events past WEBHOOK_RETENTION_DAYS that nobody still has to send (capped)."""
    return services.prune_outbox()
