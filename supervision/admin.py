"""The audit log of supervisor actions, read-only in the admin; the sparkline samples likewise."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from supervision.models import QueueSample, SupervisorAction


class ReadOnlyAdmin(admin.ModelAdmin):
    """Nobody edits history: no add, change or delete, from the admin or its bulk actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SupervisorAction)
class SupervisorActionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_label", "reason"]
    list_filter = ["action", "target_type", "created_at"]
    search_fields = ["target_label", "target_id", "reason", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]
    readonly_fields = [
        "created_at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "target_label",
        "before",
        "after",
        "reason",
    ]


@admin.register(QueueSample)
class QueueSampleAdmin(ReadOnlyAdmin):
    list_display = ["minute", "queue", "waiting", "service_level"]
    list_filter = ["queue"]
    list_select_related = ["queue"]
