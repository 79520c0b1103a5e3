from django.contrib import admin

from tickets.models import Message, Shopper, Ticket


@admin.register(Shopper)
class ShopperAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "phone", "email", "language", "time_zone"]
    search_fields = ["external_id", "name", "phone", "email"]


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
    # Status, queue and agent change only through services (routing keeps capacity counters).
    readonly_fields = [
        "status",
        "queue",
        "assigned_agent",
        "tracking_token",
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


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "ticket", "author_kind", "author", "is_internal", "created_at"]
    list_select_related = ["author"]
    list_filter = ["author_kind", "is_internal"]
    raw_id_fields = ["ticket", "author"]
