from django.apps import AppConfig


class RoutingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "routing"

    def ready(self) -> None:
        # Register the tasks in every process (web too), so enqueueing resolves them by name.
        from routing import tasks
        from tickets.services import register_route_task

        register_route_task(tasks.route_new_tickets.name)
