"""Admin: endpoints (enable after an auto-disable, rotate the secret, resend a time range) and
the delivery log with every attempt ("resend" for chosen events)."""

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services import clean_event_types, enable_endpoint, resend_deliveries, rotate_secret


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["client", "url", "event_types", "description", "is_active", "secret"]

    def clean_event_types(self) -> list[str]:
        return clean_event_types(self.cleaned_data["event_types"])


@admin.action(description=_("Enable again (forget the failures, send what is pending)"))
def enable(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
    for pk in queryset.values_list("pk", flat=True):
        enable_endpoint(endpoint_id=pk)
    modeladmin.message_user(request, _("Endpoints enabled."), messages.SUCCESS)


@admin.action(description=_("Rotate the signing secret"))
def rotate(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
    for pk in queryset.values_list("pk", flat=True):
        rotate_secret(endpoint_id=pk)
    modeladmin.message_user(request, _("New secrets set: give them to the receivers."), messages.WARNING)


class ResendRangeForm(forms.Form):
    since = forms.DateTimeField(label=_("From (UTC)"), help_text="YYYY-MM-DD HH:MM")
    until = forms.DateTimeField(label=_("Until (UTC, not included)"), help_text="YYYY-MM-DD HH:MM")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since: datetime | None = data.get("since")
        until: datetime | None = data.get("until")
        if since and until and until <= since:
            raise forms.ValidationError(_("The end must come after the start."))
        return data


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "client", "is_active", "disabled_at", "consecutive_failures", "last_success_at"]
    list_filter = ["is_active", ("disabled_at", admin.EmptyFieldListFilter)]
    list_select_related = ["client"]
    search_fields = ["url", "client__username", "description"]
    raw_id_fields = ["client"]
    readonly_fields = [
        "disabled_at",
        "disabled_reason",
        "consecutive_failures",
        "failing_since",
        "paused_until",
        "last_success_at",
        "last_failure_at",
        "created_at",
        "resend_link",
    ]
    actions = [enable, rotate]

    @admin.display(description=_("Resend"))
    def resend_link(self, obj: WebhookEndpoint) -> str:
        from django.utils.html import format_html

        if obj.pk is None:
            return "–"
        url = reverse("admin:webhooks_webhookendpoint_resend", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Resend the events of a time range…"))

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:endpoint_id>/resend/",
                self.admin_site.admin_view(self.resend_view),
                name="webhooks_webhookendpoint_resend",
            ),
            *super().get_urls(),
        ]

    def resend_view(self, request: HttpRequest, endpoint_id: int) -> HttpResponse:
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        if not self.has_change_permission(request, endpoint):
            return HttpResponse(status=403)
        form = ResendRangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            count = resend_deliveries(
                endpoint_id=endpoint.pk, since=form.cleaned_data["since"], until=form.cleaned_data["until"]
            )
            self.message_user(request, _("%(n)s event(s) queued to send again.") % {"n": count}, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Resend events to %(url)s") % {"url": endpoint.url},
            "form": form,
            "endpoint": endpoint,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/webhooks/resend_range.html", context)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "started_at", "status_code", "latency_ms", "outcome", "error", "response_excerpt"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.action(description=_("Resend the selected events"))
def resend(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
    count = resend_deliveries(delivery_ids=list(queryset.values_list("pk", flat=True)))
    modeladmin.message_user(request, _("%(n)s event(s) queued to send again.") % {"n": count}, messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only; "resend" is the one action."""

    list_display = ["id", "event_type", "ticket_id", "endpoint", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "endpoint", "event__type"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["=event__uuid", "=ticket_id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields] + ["payload"]
    inlines = [AttemptInline]
    actions = [resend]

    @admin.display(description=_("type"), ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description=_("data"))
    def payload(self, obj: WebhookDelivery) -> str:
        return str(obj.event.data)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """Newest first by seq (the key). No date drill-down: created_at has no index (the hot path
    would pay for it); the delivery log has one per endpoint and time."""

    list_display = ["seq", "uuid", "type", "ticket_id", "created_at"]
    list_filter = ["type"]
    search_fields = ["=uuid", "=ticket_id"]
    readonly_fields = ["seq", "uuid", "type", "ticket_id", "data", "created_at", "fanned_out_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
