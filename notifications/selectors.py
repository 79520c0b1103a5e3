"""Reads on the outbox, for screens and supervisors."""

from django.db.models import QuerySet

from notifications.models import Notification, NotificationStatus


def failed_notifications(*, limit: int = 100) -> list[Notification]:
    """Notifications the outbox gave up on, newest first, for supervisors to follow up by hand."""
    rows: QuerySet[Notification] = Notification.objects.filter(status=NotificationStatus.FAILED).select_related(
        "ticket__shopper", "ticket__queue"
    )
    return list(rows.order_by("-created_at", "-id")[:limit])
