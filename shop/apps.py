from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shopper page"

    def ready(self) -> None:
        from shop.push import push_to_shopper_pages
        from tickets.events import ticket_changed

        # The shopper's open page hears of changes to their ticket (a hint; the page re-reads).
        ticket_changed.connect(push_to_shopper_pages, dispatch_uid="shop.push_to_shopper_pages")
