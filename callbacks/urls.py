"""Callback URLs: the shopper API, the shopper's signed-link page, the console's actions.

Included once at the site root (cxconsole/urls.py), so each path is written out in full here.
"""

from django.urls import path

from callbacks import api, views

app_name = "callbacks"

urlpatterns = [
    path("api/v1/inquiries/<int:ticket_id>/callbacks/", api.InquiryCallbacksView.as_view(), name="inquiry_callbacks"),
    path("api/v1/inquiries/<int:ticket_id>/callback-slots/", api.CallbackSlotsView.as_view(), name="callback_slots"),
    path("callbacks/<str:token>/", views.shopper_page, name="shopper_page"),
    path("callbacks/<str:token>/confirm/", views.shopper_confirm, name="shopper_confirm"),
    path("callbacks/<str:token>/reschedule/", views.shopper_reschedule, name="shopper_reschedule"),
    path("callbacks/<str:token>/cancel/", views.shopper_cancel, name="shopper_cancel"),
    path("callbacks/<str:token>/book/", views.shopper_book_again, name="shopper_book_again"),
    path("console/callbacks/tickets/<int:ticket_id>/book/", views.book_for_ticket, name="book"),
    path("console/callbacks/<int:callback_id>/start/", views.start, name="start"),
    path("console/callbacks/<int:callback_id>/outcome/", views.outcome, name="outcome"),
    path("console/callbacks/<int:callback_id>/cancel/", views.cancel, name="cancel"),
]
