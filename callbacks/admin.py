"""Admin: per-queue callback rules (hours, holidays, limits) and callbacks. Their notifications are
in the outbox's admin (notifications.admin), filterable by callback queue there via the ticket."""

from django.contrib import admin
from django.http import HttpRequest

from callbacks.models import BusinessHours, Callback, CallbackPolicy, Holiday


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
