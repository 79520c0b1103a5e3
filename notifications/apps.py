from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Shopper notifications")

    def ready(self) -> None:
        # Tasks registered in every process, so a publish by name finds them (eager mode too).
        from core.events import subscribe
        from notifications import tasks  # noqa: F401
        from notifications.services.shopper import EVENT_KINDS, notify_shopper_of

        # Replies, resolutions and reopenings reach the shopper: outbox rows in the writer's
        # transaction. Only those types: intake's one statement then needs no transaction of its own.
        subscribe("notifications.shopper", notify_shopper_of, wants=EVENT_KINDS.__contains__)
