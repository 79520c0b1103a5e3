"""Default after-sales policies: one per stage for every category, and "rotten = refunded" for
fresh food and flowers (claims with photos within 48 hours of delivery). Admins tune them."""

from decimal import Decimal

from django.db import migrations

STAGE_DEFAULTS = {
    # Not shipped yet: a refund is automatic (nothing has left the warehouse).
    "before_shipment": {
        "auto_kinds": ["refund_only", "compensation"],
        "max_auto_amount": Decimal("5000.00"),
        "window_hours": None,
        "photos_required": False,
        "max_requests_90d": 10,
        "max_denied_share": Decimal("0.80"),
    },
    "in_transit": {
        "auto_kinds": ["refund_only", "reship", "compensation"],
        "max_auto_amount": Decimal("300.00"),
        "window_hours": None,
        "photos_required": False,
        "max_requests_90d": 5,
        "max_denied_share": Decimal("0.50"),
    },
    "after_receipt": {
        "auto_kinds": ["refund_only", "return_refund", "reship", "compensation"],
        "max_auto_amount": Decimal("200.00"),
        "window_hours": 7 * 24,
        "photos_required": True,
        "max_requests_90d": 5,
        "max_denied_share": Decimal("0.50"),
    },
}
FRESH_AFTER_RECEIPT = {
    "auto_kinds": ["fresh_guarantee", "refund_only", "reship", "compensation"],
    "max_auto_amount": Decimal("300.00"),
    "window_hours": 48,
    "photos_required": True,
    "max_requests_90d": 5,
    "max_denied_share": Decimal("0.50"),
}


def create(apps, schema_editor):
    Policy = apps.get_model("aftersales", "AfterSalesPolicy")
    Category = apps.get_model("teams", "Category")
    for stage, rules in STAGE_DEFAULTS.items():
        Policy.objects.get_or_create(category=None, stage=stage, defaults=rules)
    for category in Category.objects.filter(slug__in=["fresh_food", "flowers"]):
        Policy.objects.get_or_create(category=category, stage="after_receipt", defaults=FRESH_AFTER_RECEIPT)


class Migration(migrations.Migration):
    dependencies = [
        ("aftersales", "0001_after_sales_requests_and_policies"),
        ("teams", "0002_default_taxonomy"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
