from django.urls import path

from tickets import api

urlpatterns = [
    path("inquiries/", api.InquiryCreateView.as_view(), name="inquiry-create"),
    path("inquiries/<int:ticket_id>/", api.InquiryStatusView.as_view(), name="inquiry-status"),
]
