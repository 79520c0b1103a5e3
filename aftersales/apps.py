from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "aftersales"
    verbose_name = "After-sales requests and policies"

    def ready(self) -> None:
        # Register the tasks in every process, so a publish by name finds them (eager mode too).
        from django.db.models.signals import post_delete, post_save

        from aftersales import tasks  # noqa: F401
        from aftersales.models import AfterSalesPolicy
        from aftersales.services import forget_policies, why_ticket_stays_open
        from teams.models import Category

        # Decisions read policies from a per-process copy: a save or delete here drops it at once.
        for model in (AfterSalesPolicy, Category):
            post_save.connect(forget_policies, sender=model, dispatch_uid=f"aftersales-policies-{model.__name__}")
            post_delete.connect(forget_policies, sender=model, dispatch_uid=f"aftersales-policies-d-{model.__name__}")
        from tickets.keep_open import register_keep_open

        # A shopper's withdrawal leaves a ticket open while a request on it waits for a person.
        register_keep_open("aftersales", why_ticket_stays_open)
        from aftersales.panels import inbox_panel, open_panel, ticket_panel
        from console.panels import register_panel

        # The console's pages show after-sales work without the console importing this app.
        register_panel("ticket_main", "aftersales/_ticket_panel.html", ticket_panel, read_only=True)
        register_panel("ticket", "aftersales/_ticket_open.html", open_panel)
        register_panel("inbox", "aftersales/_inbox_panel.html", inbox_panel)
