from django.urls import path

from shop import views

app_name = "shop"

urlpatterns = [
    path("", views.new_inquiry, name="new"),
    path("language/", views.set_language, name="language"),
    path("access/<str:token>/", views.follow_access_link, name="access"),
    path("inquiries/<int:ticket_id>/", views.inquiry_page, name="inquiry"),
    path("inquiries/<int:ticket_id>/live/", views.inquiry_live, name="inquiry_live"),
    path("inquiries/<int:ticket_id>/messages/", views.send_message, name="message"),
    path("inquiries/<int:ticket_id>/person/", views.ask_for_person, name="handoff"),
    path("inquiries/<int:ticket_id>/cancel/", views.cancel, name="cancel"),
    path("inquiries/<int:ticket_id>/callback/", views.book, name="callback"),
    path("inquiries/<int:ticket_id>/photos/<int:attachment_id>/", views.attachment, name="attachment"),
    path(
        "inquiries/<int:ticket_id>/photos/<int:attachment_id>/thumb/",
        views.attachment,
        {"variant": "thumb"},
        name="attachment_thumb",
    ),
]
