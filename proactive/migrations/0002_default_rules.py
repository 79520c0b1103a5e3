"""The anomaly rules a new installation starts with (editable in the admin): stalled after 48 h
without a scan, late at once past the promised date (a 10.00 coupon), failed or returned at once,
cold-chain alerts everywhere, and fresh goods in transit past 24 h (flowers: 12 h)."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    # (category slug or None, kind, threshold hours, compensation)
    (None, "stalled", 48, "none"),
    (None, "late", 0, "coupon"),
    (None, "failed", 0, "none"),
    (None, "cold_chain", None, "none"),
    ("fresh_food", "stalled", 24, "none"),
    ("flowers", "stalled", 12, "none"),
    ("fresh_food", "cold_chain", 24, "none"),
    ("flowers", "cold_chain", 12, "none"),
]


def create_rules(apps, schema_editor):
    Rule = apps.get_model("proactive", "AnomalyRule")
    Category = apps.get_model("teams", "Category")
    for slug, kind, hours, compensation in DEFAULTS:
        category = Category.objects.filter(slug=slug).first() if slug else None
        if slug and category is None:
            continue
        Rule.objects.get_or_create(
            category=category,
            kind=kind,
            defaults={"threshold_hours": hours, "compensation": compensation, "coupon_amount": Decimal("10.00")},
        )


class Migration(migrations.Migration):
    dependencies = [("proactive", "0001_orders_events_rules_cases"), ("teams", "0002_default_taxonomy")]

    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
