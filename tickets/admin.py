from django.contrib import admin

from tickets.models import Attachment, Message, Shopper


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


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["id", "message", "content_type", "original_name", "size", "width", "height", "created_at"]
    raw_id_fields = ["message"]
    # The files are served only by views that check permission; the admin shows no link to them.
    readonly_fields = ["file", "thumbnail"]
