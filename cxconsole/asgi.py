"""ASGI entry point: Django for HTTP, Channels for the console's live-update websocket.

Served by uvicorn (`manage.py runembedded`, or any ASGI server in a real deployment).
"""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxconsole.settings")
if not settings.configured:
    # This process serves ASGI: each request on a thread of its own, so its PostgreSQL
    # connections come from a pool (DB_POOL in settings.py). A process that loaded the settings
    # before importing this module (manage.py runembedded, the tests) keeps its own choice.
    os.environ.setdefault("DB_POOL", "1")

# Set up Django (the app registry) before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from console.routing import websocket_urlpatterns  # noqa: E402
from shop.routing import websocket_urlpatterns as shop_websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Session auth on the websocket, and only from pages served by an allowed host.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns + shop_websocket_urlpatterns))
        ),
    }
)
