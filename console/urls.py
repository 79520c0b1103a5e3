from django.urls import path

from console import actions, list_views, views

app_name = "console"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("inbox/live/", views.inbox_live, name="inbox_live"),
    path("inbox/live/lines/", views.inbox_lines_live, name="inbox_lines_live"),
    path("views/<slug:slug>/", list_views.ticket_view, name="view"),
    path("search/", list_views.search, name="search"),
    path("next/", views.next_ticket, name="next_ticket"),
    path("tickets/<int:ticket_id>/", views.ticket_page, name="ticket"),
    path("tickets/<int:ticket_id>/live/", views.ticket_live, name="ticket_live"),
    path("tickets/<int:ticket_id>/reply/", actions.reply, name="reply"),
    path("tickets/<int:ticket_id>/notes/", actions.add_note, name="note"),
    path("tickets/<int:ticket_id>/category/", actions.recategorize, name="recategorize"),
    path("tickets/<int:ticket_id>/transfer/", actions.transfer, name="transfer"),
    path("tickets/<int:ticket_id>/escalate/", actions.escalate, name="escalate"),
    path("tickets/<int:ticket_id>/resolve/", actions.resolve, name="resolve"),
    path("tickets/<int:ticket_id>/reopen/", actions.reopen, name="reopen"),
    path("tickets/<int:ticket_id>/take/", actions.take, name="take"),
    path("tickets/<int:ticket_id>/photos/<int:attachment_id>/", views.attachment, name="attachment"),
    path(
        "tickets/<int:ticket_id>/photos/<int:attachment_id>/thumb/",
        views.attachment,
        {"variant": "thumb"},
        name="attachment_thumb",
    ),
    path("offers/<int:offer_id>/accept/", actions.accept_offer, name="offer_accept"),
    path("offers/<int:offer_id>/decline/", actions.decline_offer, name="offer_decline"),
    path("status/", views.set_status, name="status"),
    path("language/", views.set_language, name="language"),
]
