from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.http import HttpRequest

from routing.models import Assignment, Offer, RoutingDecision
from routing.services import recategorize_ticket
from tickets.models import Message, Ticket


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["ticket", "agent", "reason", "started_at", "ended_at", "end_reason"]
    list_select_related = ["agent"]
    list_filter = ["reason"]
    raw_id_fields = ["ticket", "agent"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # assignments are made only by routing, which keeps capacity counters


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["ticket", "agent", "state", "is_handoff", "offered_at", "expires_at", "ended_at", "decline_reason"]
    list_select_related = ["agent"]
    list_filter = ["state", "is_handoff", "decline_reason"]
    raw_id_fields = ["ticket", "agent", "queue"]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # offers are made only by routing, which holds the agent's slot

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # answered only through the services (one winner, the slot given back)


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "queue", "agent", "candidates", "latency_ms", "created_at", "reason"]
    list_select_related = ["queue", "agent"]
    list_filter = ["kind", "queue"]
    raw_id_fields = ["ticket", "agent"]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["created_at", "author_kind", "author", "is_internal", "body"]

    readonly_fields = ["created_at", "author_kind", "author", "is_internal", "body"]
    can_delete = False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "queue",
        "category",
        "intent",
        "priority",
        "language",
        "assigned_agent",
        "created_at",
    ]
    list_select_related = ["queue", "category", "assigned_agent"]
    list_filter = ["status", "queue", "category", "language", "channel", "needs_category"]
    search_fields = ["id", "subject", "body", "order_number", "shopper__external_id"]
    raw_id_fields = ["shopper", "client", "assigned_agent"]
    date_hierarchy = "created_at"
    inlines = [MessageInline]

    def save_model(self, request: HttpRequest, obj: Ticket, form: forms.ModelForm, change: bool) -> None:
        # A category set here is an agent's correction: store the label and re-route, like the console.
        if change and "category" in form.changed_data and obj.category is not None:
            category = obj.category
            obj.category = Ticket.objects.get(pk=obj.pk).category
            super().save_model(request, obj, form, change)
            assert isinstance(request.user, User)  # noqa: S101  # the admin serves signed-in staff only
            recategorize_ticket(ticket_id=obj.pk, category=category, by=request.user)
            return
        super().save_model(request, obj, form, change)

    # Status, queue and agent change only through services (routing keeps capacity counters).
    readonly_fields = [
        "status",
        "queue",
        "assigned_agent",
        "idempotency_key",
        "created_at",
        "queued_at",
        "first_assigned_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "handoff_requested_at",
        "handoff_assigned_at",
    ]
