"""Admin: per-queue callback rules (hours, holidays, limits), callbacks, and the outbox with its
failures in plain sight for supervisors (filter by status, retry failed ones)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from callbacks.models import BusinessHours, Callback, CallbackPolicy, Holiday, Notification, NotificationStatus
from callbacks.services import retry_failed_notification


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(CallbackPolicy)
class CallbackPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "queue",
        "time_zone",
        "slot_minutes",
        "callbacks_per_slot",
        "retry_interval_minutes",
        "max_attempts",
        "reminder_lead_minutes",
    ]
    list_select_related = ["queue"]
    inlines = [BusinessHoursInline, HolidayInline]


@admin.register(Callback)
class CallbackAdmin(admin.ModelAdmin):
    """Read-mostly: changes go through the console and the shopper's link (services), so the
    shopper is always told."""

    list_display = ["id", "ticket", "queue", "owner", "scheduled_at", "status", "attempts", "outcome", "booked_by"]
    list_filter = ["status", "queue", "booked_by", "outcome"]
    list_select_related = ["ticket", "queue", "owner"]
    search_fields = ["phone", "ticket__id"]
    date_hierarchy = "scheduled_at"
    raw_id_fields = ["ticket", "owner", "booked_by_user", "surfaced_to", "started_by"]
    readonly_fields = [f.name for f in Callback._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.action(description="Send the selected failed notifications again")
def retry_failed(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
    retried = sum(
        retry_failed_notification(notification_id=pk)
        for pk in queryset.filter(status=NotificationStatus.FAILED).values_list("pk", flat=True)
    )
    modeladmin.message_user(request, f"{retried} notification(s) queued again.", messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "idempotency_key",
        "kind",
        "channel",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "channel", "kind", "language", "callback__queue"]
    list_select_related = ["callback"]
    search_fields = ["idempotency_key", "recipient"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = [retry_failed]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
