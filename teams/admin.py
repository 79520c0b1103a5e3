from django.contrib import admin
from django.http import HttpRequest

from teams.models import AgentProfile, AgentSkill, ApiToken, Category, SpecialistQueue


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["slug", "name_en", "name_zh", "queue"]
    list_editable = ["queue"]
    list_select_related = ["queue"]
    search_fields = ["slug", "name_en", "name_zh"]


class CategoryInline(admin.TabularInline):
    model = Category
    fields = ["slug", "name_en", "name_zh"]
    extra = 0
    show_change_link = True


@admin.register(SpecialistQueue)
class SpecialistQueueAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "name",
        "name_zh",
        "kind",
        "mode",
        "service_level_seconds",
        "overflow_seconds",
        "secondary_queue",
    ]
    list_select_related = ["secondary_queue"]
    list_filter = ["kind", "mode"]
    search_fields = ["slug", "name", "name_zh"]
    inlines = [CategoryInline]


class AgentSkillInline(admin.TabularInline):
    model = AgentSkill
    extra = 1
    autocomplete_fields = ["category"]


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "status", "status_since", "active_ticket_count", "capacity", "languages"]
    list_select_related = ["user"]
    list_filter = ["status"]
    search_fields = ["user__username", "display_name"]
    readonly_fields = ["active_ticket_count", "last_assigned_at"]
    inlines = [AgentSkillInline]


@admin.register(AgentSkill)
class AgentSkillAdmin(admin.ModelAdmin):
    list_display = ["agent", "category", "level"]
    list_select_related = ["agent__user", "category"]
    list_filter = ["level", "category"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by `manage.py create_api_client` (shown once); here they are only listed
    by prefix and revoked (deleted). The digest never appears."""

    list_display = ["prefix", "name", "user", "created_at"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "prefix"]
    fields = ["user", "name", "prefix", "created_at"]
    readonly_fields = ["user", "prefix", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
