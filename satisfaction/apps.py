from django.apps import AppConfig


class SatisfactionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "satisfaction"
    verbose_name = "Satisfaction ratings"

    def ready(self) -> None:
        from console.panels import register_panel
        from satisfaction.panels import shopper_history_panel

        # The console's ticket page shows it without the console importing this app.
        register_panel("ticket", "satisfaction/_shopper_history.html", shopper_history_panel, read_only=True)
