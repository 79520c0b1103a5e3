"""Serve the whole product in one process: ASGI web server, Celery worker and beat threads."""

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from ops.embedded import start_embedded_beat, start_embedded_worker
from orders.reference import ReferenceOrderService
from routing.selectors import celery_queue_names
from routing.services import requeue_unrouted_tickets


def embedded_base_url(host: str, port: int) -> str:
    """The address a browser on this machine reaches the server at (a wildcard bind is loopback)."""
    reachable = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104
    return f"http://{reachable}:{port}"


class Command(BaseCommand):
    help = "Run the web server with an in-process Celery worker and beat (the embedded mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.PORT)

    def handle(self, *args: object, host: str, port: int, **options: object) -> None:
        if not settings.PUBLIC_BASE_URL_IS_SET:
            # Shopper links (SMS, email, .ics) must reach this server, whatever port it was given.
            settings.PUBLIC_BASE_URL = embedded_base_url(host, port)
        if settings.REDIS_URL:
            self.stdout.write("REDIS_URL is set: the in-process worker consumes from Redis.")
        start_embedded_worker(celery_queue_names())
        start_embedded_beat()
        # Messages of the in-memory broker die with the process: route what an earlier run left.
        requeue_unrouted_tickets(grace_seconds=0)
        if not settings.ORDER_API_URL:
            # The demo's order lookups go to the reference storefront order service, in a thread
            # on a free loopback port (settings are read per call by orders.get_order_system).
            orders = ReferenceOrderService(host="127.0.0.1", port=0).start()
            settings.ORDER_API_URL = orders.url
            self.stdout.write(f"Reference order service on {orders.url} (the demo shoppers' orders).")
        self.stdout.write(self.style.SUCCESS(f"CX Console on http://{host}:{port}/  (Ctrl-C to stop)"))
        uvicorn.run("cxconsole.asgi:application", host=host, port=port, log_level="info", lifespan="off")
