from django.apps import AppConfig


class ProactiveConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "proactive"
    verbose_name = "Proactive service"

    def ready(self) -> None:
        # Register the tasks in every process, so a publish by name finds them (eager mode too).
        from console.panels import register_panel
        from proactive import tasks  # noqa: F401
        from proactive.panels import ticket_panel
        from proactive.services import join_inquiry, join_lookup
        from tickets.services import InquiryJoiner, register_inquiry_joiner

        # A shopper's inquiry about an order with an open proactive case joins its ticket.
        register_inquiry_joiner(InquiryJoiner(lookup=join_lookup, join=join_inquiry))
        register_panel("ticket", "proactive/_ticket_panel.html", ticket_panel, first=True, read_only=True)
