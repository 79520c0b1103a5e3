from django.contrib import admin

from routing.models import Assignment, RoutingDecision


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["ticket", "agent", "reason", "started_at", "ended_at", "end_reason"]
    list_select_related = ["agent"]
    list_filter = ["reason"]
    raw_id_fields = ["ticket", "agent"]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # assignments are made only by routing, which keeps capacity counters


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "queue", "agent", "candidates", "latency_ms", "created_at", "reason"]
    list_select_related = ["queue", "agent"]
    list_filter = ["kind", "queue"]
    raw_id_fields = ["ticket", "agent"]
