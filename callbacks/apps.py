from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "callbacks"
    verbose_name = "Callbacks and shopper notifications"

    def ready(self) -> None:
        # Register the tasks in every process (web too), so a publish by name finds the task
        # object: eager mode then runs it inline, as it does for the other apps' tasks.
        from callbacks import tasks  # noqa: F401
