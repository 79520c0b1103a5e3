"""Admin: ratings are the shoppers' words, read-only here; low ones show whether someone followed up."""

from django.contrib import admin
from django.http import HttpRequest

from satisfaction.models import Rating


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = [
        "ticket",
        "score",
        "agent",
        "queue",
        "resolved_at",
        "created_at",
        "needs_follow_up",
        "followed_up_at",
    ]
    list_filter = ["score", "needs_follow_up", "queue"]
    search_fields = ["ticket__id", "comment", "agent__username"]
    list_select_related = ["ticket", "agent", "queue"]
    readonly_fields = [f.name for f in Rating._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
