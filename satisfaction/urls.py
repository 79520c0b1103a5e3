from django.urls import path

from satisfaction import api

urlpatterns = [
    path("inquiries/<int:ticket_id>/rating/", api.RatingView.as_view(), name="inquiry-rating"),
]
