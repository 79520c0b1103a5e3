from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders (the storefront's order system)"

    def ready(self) -> None:
        from console.panels import register_panel
        from orders.panels import order_panel_placeholder

        # The console's ticket page shows it without the console importing this app.
        register_panel("ticket", "orders/_ticket_orders.html", order_panel_placeholder, read_only=True)
