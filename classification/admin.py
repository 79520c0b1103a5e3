from django.contrib import admin

from classification.models import CategoryLabel, ClassificationDecision


@admin.register(ClassificationDecision)
class ClassificationDecisionAdmin(admin.ModelAdmin):
    list_display = [
        "ticket",
        "predicted_slug",
        "method",
        "confidence",
        "intent",
        "model_version",
        "latency_ms",
        "created_at",
    ]
    list_filter = ["method", "predicted_slug", "intent"]
    raw_id_fields = ["ticket", "decided_by"]


@admin.register(CategoryLabel)
class CategoryLabelAdmin(admin.ModelAdmin):
    list_display = ["category", "language", "labelled_by", "created_at", "text"]
    list_select_related = ["category", "labelled_by"]
    list_filter = ["category", "language"]
    raw_id_fields = ["ticket", "labelled_by"]
