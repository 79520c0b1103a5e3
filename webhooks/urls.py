from django.urls import path

from webhooks import api

app_name = "webhooks"

urlpatterns = [
    path("webhooks/endpoints/", api.EndpointListView.as_view(), name="endpoints"),
    path("webhooks/endpoints/<int:endpoint_id>/", api.EndpointDetailView.as_view(), name="endpoint"),
    path("webhooks/endpoints/<int:endpoint_id>/deliveries/", api.DeliveryListView.as_view(), name="deliveries"),
    path("webhooks/endpoints/<int:endpoint_id>/resend/", api.ResendView.as_view(), name="resend"),
]
