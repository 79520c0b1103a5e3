from django.contrib import admin

from macros.models import Macro


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["shortcut", "name", "queue", "then_status", "usage_count", "last_used_at"]
    list_filter = ["queue", "then_status"]
    list_select_related = ["queue"]
    search_fields = ["shortcut", "name", "body_en", "body_zh"]
    readonly_fields = ["usage_count", "last_used_at", "updated_by"]
