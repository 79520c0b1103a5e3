"""Celery tasks of the dashboard: thin, named, safe to run twice."""

from celery import shared_task

from supervision import services


@shared_task(name="supervision.sample_queue_health")
def sample_queue_health() -> int:
    """Beat, every 60 s: one waiting/service-level sample per queue for this minute (the
    sparklines). A second run in the same minute stores nothing."""
    return services.sample_queue_health().stored
