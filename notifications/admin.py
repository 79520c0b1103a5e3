"""Admin: the outbox with its failures in plain sight (filter by status, "send again"), and the
notification templates with a preview rendered from a sample inquiry."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import TemplateSyntaxError
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from notifications.models import (
    InboundEmail,
    Notification,
    NotificationChannel,
    NotificationStatus,
    NotificationTemplate,
)
from notifications.rendering import TemplateText, compile_text, render_text
from notifications.services.outbox import retry_failed_notification

SAMPLE_CONTEXT = {
    "en": {
        "shopper_name": "Emma",
        "ticket_id": 1024,
        "subject": "The clasp of my bracelet broke",
        "agent_name": "Ana",
        "team": "Jewelry",
        "message": "I am sorry about the clasp! We will send you a new bracelet today; "
        "you do not need to return the broken one.",
        "message_short": "I am sorry about the clasp! We will send you a new bracelet…",
        "link": "https://shop.example/shop/access/eyJ0IjoxMDI0fQ…/",
        "rate_link": "https://shop.example/shop/access/eyJ0IjoxMDI0LCJuIjoicmF0ZSJ9…/",
    },
    "zh-hans": {
        "shopper_name": "王女士",
        "ticket_id": 1024,
        "subject": "手链的搭扣坏了",
        "agent_name": "安娜",
        "team": "珠宝",
        "message": "非常抱歉搭扣出了问题！我们今天就为您补发一条新手链，坏的那条不用寄回。",
        "message_short": "非常抱歉搭扣出了问题！我们今天就为您补发一条新手链，坏的那条不用寄回。",
        "link": "https://shop.example/shop/access/eyJ0IjoxMDI0fQ…/",
        "rate_link": "https://shop.example/shop/access/eyJ0IjoxMDI0LCJuIjoicmF0ZSJ9…/",
    },
}


@admin.action(description=_("Send the selected failed notifications again"))
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
    list_filter = ["status", "channel", "kind", "language", "ticket__queue"]
    list_select_related = ["ticket"]
    search_fields = ["idempotency_key", "recipient", "=ticket__id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = [retry_failed]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class NotificationTemplateForm(forms.ModelForm):
    class Meta:
        model = NotificationTemplate
        fields = ["kind", "channel", "language", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12, "cols": 90})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("subject", "body"):
            try:
                compile_text(data.get(name) or "")
            except TemplateSyntaxError as exc:
                self.add_error(name, _("Template error: %(error)s") % {"error": exc})
        return data


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    form = NotificationTemplateForm
    list_display = ["kind", "channel", "language", "preview_link", "subject"]
    list_filter = ["kind", "channel", "language"]
    change_form_template = "admin/notifications/notificationtemplate/change_form.html"

    @admin.display(description=_("Preview"))
    def preview_link(self, obj: NotificationTemplate) -> str:
        url = reverse("admin:notifications_notificationtemplate_preview", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Preview"))

    def get_urls(self) -> list[URLPattern]:
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("<int:template_id>/preview/", preview, name="notifications_notificationtemplate_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, template_id: int) -> HttpResponse:
        template = get_object_or_404(NotificationTemplate, pk=template_id)
        if not self.has_view_or_change_permission(request, template):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        sample = SAMPLE_CONTEXT.get(template.language, SAMPLE_CONTEXT["en"])
        error = ""
        subject = body = ""
        try:
            subject, body = render_text(TemplateText(template.subject, template.body), sample)
        except TemplateSyntaxError as exc:
            error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": template,
            "title": _("Preview: %(template)s") % {"template": template},
            "subject": subject,
            "body": body,
            "error": error,
            "is_sms": template.channel == NotificationChannel.SMS,
            "length": len(body.strip()),
            "sample": sorted(sample.items()),
        }
        return TemplateResponse(request, "admin/notifications/notificationtemplate/preview.html", context)


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["email_message_id", "ticket", "sender", "received_at"]
    search_fields = ["email_message_id", "sender", "=ticket__id"]
    readonly_fields = ["email_message_id", "ticket", "message", "sender", "received_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
