"""Websocket routes (the HTTP ones are in console/urls.py)."""

from django.urls import path

from console.consumers import ConsoleConsumer

websocket_urlpatterns = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
]
