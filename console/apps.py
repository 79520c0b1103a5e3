from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Agents' console"

    def ready(self) -> None:
        from console.push import push_ticket_change
        from tickets.events import ticket_changed

        # A strong reference by dotted uid: connected once even if ready() runs twice.
        ticket_changed.connect(push_ticket_change, dispatch_uid="console.push_ticket_change")
