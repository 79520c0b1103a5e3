from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # Tasks registered in every process, so a publish by name (eager mode too) finds them.
        from django.db.models.signals import post_delete, post_save

        from core import events
        from webhooks import tasks  # noqa: F401
        from webhooks.models import WebhookEndpoint
        from webhooks.outbox import endpoint_changed, record_events, record_inline, wants

        # The outbox row is written by this subscriber, inside the emitting transaction (or
        # inside the emitting statement, for intake's one-statement write).
        events.subscribe("webhooks", record_events, wants=wants, inline=record_inline)
        # However an endpoint is saved or deleted, the cached subscriptions are dropped.
        post_save.connect(endpoint_changed, sender=WebhookEndpoint, dispatch_uid="webhooks-endpoint-saved")
        post_delete.connect(endpoint_changed, sender=WebhookEndpoint, dispatch_uid="webhooks-endpoint-deleted")
