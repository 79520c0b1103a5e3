"""Reads for routing."""

from django.conf import settings

from teams.models import SpecialistQueue


def celery_queue_names() -> list[str]:
    """Every Celery queue a worker serving all of the product must consume."""
    fixed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    fixed.add(settings.CELERY_TASK_DEFAULT_QUEUE)
    specialist = [queue.celery_queue for queue in SpecialistQueue.objects.order_by("slug")]
    return sorted(fixed) + specialist
