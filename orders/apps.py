from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders (the storefront's order system)"

    def ready(self) -> None:
        from console.panels import register_panel
        from orders.panels import order_panel_placeholder, shopper_history_panel

        # The console's ticket page shows these without the console importing this app.
        register_panel("ticket", "orders/_ticket_orders.html", order_panel_placeholder)
        register_panel("ticket", "orders/_ticket_history.html", shopper_history_panel)
