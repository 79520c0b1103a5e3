from django.urls import path

from supervision import api

urlpatterns = [
    path("queues/health/", api.QueueHealthView.as_view(), name="queue-health"),
]
