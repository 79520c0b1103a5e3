"""Admins edit the anomaly rules; orders, events and cases are read-only here (they change only
through ingestion and the rules sweep)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from proactive.models import AnomalyRule, OrderEvent, ProactiveCase, TrackedOrder


@admin.register(AnomalyRule)
class AnomalyRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "category", "enabled", "threshold_hours", "compensation", "coupon_amount", "updated_at"]
    list_filter = ["kind", "enabled", "compensation"]
    list_select_related = ["category"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TrackedOrder)
class TrackedOrderAdmin(ReadOnlyAdmin):
    list_display = ["order_number", "state", "category_slug", "shopper_external_id", "promised_at", "moved_at"]
    list_filter = ["state"]
    search_fields = ["=order_number", "=shopper_external_id", "=tracking_number"]
    show_full_result_count = False


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "order_number", "occurred_at", "received_at"]
    list_filter = ["type"]
    search_fields = ["=order_number", "=event_id"]
    show_full_result_count = False


@admin.register(ProactiveCase)
class ProactiveCaseAdmin(ReadOnlyAdmin):
    list_display = ["order_number", "kind", "category_slug", "ticket", "detected_at", "compensation"]
    list_filter = ["kind"]
    search_fields = ["=order_number", "=shopper_external_id"]
    raw_id_fields = ["order", "ticket", "compensation", "rule"]
