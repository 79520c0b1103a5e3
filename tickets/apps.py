from django.apps import AppConfig


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"

    def ready(self) -> None:
        # Register the tasks in every process (web too), so a publish by name finds the task.
        from tickets import tasks  # noqa: F401
