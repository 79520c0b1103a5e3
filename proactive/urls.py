from django.urls import path

from proactive import api

urlpatterns = [path("order-events/", api.OrderEventsView.as_view(), name="order-events")]
