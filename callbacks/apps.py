from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "callbacks"
    verbose_name = "Callbacks"

    def ready(self) -> None:
        # Register the tasks in every process (web too), so a publish by name finds the task
        # object: eager mode then runs it inline, as it does for the other apps' tasks.
        from callbacks import tasks  # noqa: F401
        from callbacks.templatetags.callbacks_tags import callbacks_for_ticket, callbacks_inbox
        from console.panels import register_panel

        # The console's pages show callbacks without the console importing this app.
        register_panel("ticket", "callbacks/_ticket_callbacks.html", callbacks_for_ticket)
        register_panel("inbox", "callbacks/_inbox_callbacks.html", callbacks_inbox)
