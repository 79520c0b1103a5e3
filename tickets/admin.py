from django.contrib import admin

from tickets.models import Message, Shopper


@admin.register(Shopper)
class ShopperAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "phone", "email", "language", "time_zone"]
    search_fields = ["external_id", "name", "phone", "email"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "ticket", "author_kind", "author", "is_internal", "created_at"]
    list_select_related = ["author"]
    list_filter = ["author_kind", "is_internal"]
    raw_id_fields = ["ticket", "author"]
