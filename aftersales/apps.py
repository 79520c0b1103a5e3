from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "aftersales"
    verbose_name = "After-sales requests and policies"

    def ready(self) -> None:
        # Register the tasks in every process, so a publish by name finds them (eager mode too).
        from aftersales import tasks  # noqa: F401
        from aftersales.panels import inbox_panel, ticket_panel
        from console.panels import register_panel

        # The console's pages show after-sales work without the console importing this app.
        register_panel("ticket", "aftersales/_ticket_panel.html", ticket_panel)
        register_panel("inbox", "aftersales/_inbox_panel.html", inbox_panel)
