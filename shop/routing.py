"""Websocket routes of the shopper page."""

from django.urls import path

from shop.consumers import ShopperConsumer

websocket_urlpatterns = [
    path("ws/shop/<int:ticket_id>/", ShopperConsumer.as_asgi()),
]
