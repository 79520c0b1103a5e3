"""Serve the reference storefront order service (docs/order-api.md) on loopback."""

import contextlib
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.reference import LOOPBACK_HOSTS, ReferenceOrderService


class Command(BaseCommand):
    help = "Serve the reference storefront order API with the demo shoppers' orders (loopback only, in memory)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="A loopback address (127.0.0.1, localhost, ::1).")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--token", default="", help="Require 'Authorization: Bearer <token>' (ORDER_API_TOKEN).")

    def handle(self, *args: object, host: str, port: int, token: str, **options: object) -> None:
        if host not in LOOPBACK_HOSTS:
            raise CommandError(f"--host {host!r}: the reference order service listens on loopback only.")
        service = ReferenceOrderService(host=host, port=port, token=token).start()
        self.stdout.write(self.style.SUCCESS(f"Reference order service on {service.url}  (Ctrl-C to stop)"))
        self.stdout.write(f"  Point the console at it: ORDER_API_URL={service.url}")
        try:
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
        finally:
            service.stop()
