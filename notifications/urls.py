from django.urls import path

from notifications import api

app_name = "notifications"

urlpatterns = [
    path("inbound-email/", api.InboundEmailView.as_view(), name="inbound_email"),
]
