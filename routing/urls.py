from django.urls import path

from routing import api

urlpatterns = [
    path("inquiries/<int:ticket_id>/handoff/", api.HandoffView.as_view(), name="inquiry-handoff"),
    path("inquiries/<int:ticket_id>/messages/", api.ShopperMessageView.as_view(), name="inquiry-messages"),
    path("inquiries/<int:ticket_id>/cancel/", api.CancelInquiryView.as_view(), name="inquiry-cancel"),
    path("tickets/", api.TicketListView.as_view(), name="ticket-list"),
    path("tickets/<int:ticket_id>/", api.TicketDetailView.as_view(), name="ticket-detail"),
    path("tickets/<int:ticket_id>/reply/", api.ReplyView.as_view(), name="ticket-reply"),
    path("tickets/<int:ticket_id>/notes/", api.NoteView.as_view(), name="ticket-note"),
    path("tickets/<int:ticket_id>/resolve/", api.ResolveView.as_view(), name="ticket-resolve"),
    path("tickets/<int:ticket_id>/transfer/", api.TransferView.as_view(), name="ticket-transfer"),
    path("tickets/<int:ticket_id>/escalate/", api.EscalateView.as_view(), name="ticket-escalate"),
    path("tickets/<int:ticket_id>/recategorize/", api.RecategorizeView.as_view(), name="ticket-recategorize"),
    path("agents/me/status/", api.MyStatusView.as_view(), name="my-status"),
    path("agents/<str:username>/status/", api.AgentStatusView.as_view(), name="agent-status"),
]
