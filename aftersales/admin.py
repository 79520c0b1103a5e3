"""Admins edit the after-sales policies and the agents' approval limits; requests are read-only here
(every change goes through the services, from the console)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import F
from django.http import HttpRequest

from aftersales.models import (
    AfterSalesDecision,
    AfterSalesItem,
    AfterSalesPolicy,
    AfterSalesRequest,
    ApprovalLimit,
    FollowUp,
    Kind,
)
from aftersales.rules import rule_label
from aftersales.services import forget_policies


class PolicyForm(forms.ModelForm):
    auto_kinds = forms.MultipleChoiceField(
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Kinds approved without review when every other rule holds.",
    )

    class Meta:
        model = AfterSalesPolicy
        fields = [
            "category",
            "stage",
            "auto_approve",
            "auto_kinds",
            "max_auto_amount",
            "window_hours",
            "photos_required",
            "max_requests_90d",
            "max_denied_share",
            "min_account_age_days",
            "return_window_days",
        ]


@admin.register(AfterSalesPolicy)
class AfterSalesPolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = ["__str__", "auto_approve", "max_auto_amount", "window_hours", "photos_required", "updated_at"]
    list_filter = ["stage", "auto_approve"]
    readonly_fields = ["version", "updated_at"]

    def save_model(self, request: HttpRequest, obj: AfterSalesPolicy, form: Any, change: bool) -> None:
        # A new version on every change: requests keep the snapshot they were decided by.
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            AfterSalesPolicy.objects.filter(pk=obj.pk).update(version=F("version") + 1)
            obj.refresh_from_db(fields=["version"])
            forget_policies()


@admin.register(ApprovalLimit)
class ApprovalLimitAdmin(admin.ModelAdmin):
    list_display = ["user", "max_amount"]
    search_fields = ["user__username"]


class ItemInline(admin.TabularInline):
    model = AfterSalesItem
    extra = 0
    can_delete = False
    readonly_fields = ["order_number", "item_id", "title", "quantity", "claim", "active"]


class DecisionInline(admin.TabularInline):
    model = AfterSalesDecision
    extra = 0
    can_delete = False
    fields = readonly_fields = ("action", "rule_name", "detail", "actor", "amount", "created_at")

    @admin.display(description="rule")
    def rule_name(self, obj: AfterSalesDecision) -> str:
        return rule_label(obj.rule)


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    extra = 0
    can_delete = False
    fields = readonly_fields = ("from_ticket", "to_ticket", "rule", "created_at")


@admin.register(AfterSalesRequest)
class AfterSalesRequestAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "order_number",
        "amount_requested",
        "amount_approved",
        "rule_name",
        "created_at",
    ]
    list_filter = ["status", "kind", "stage", "was_automatic"]
    search_fields = ["order_number", "public_id"]
    inlines = [ItemInline, DecisionInline, FollowUpInline]

    @admin.display(description="rule", ordering="rule")
    def rule_name(self, obj: AfterSalesRequest) -> str:
        return rule_label(obj.rule)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
