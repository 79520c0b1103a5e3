"""Callback notifications move to the general outbox (notifications.Notification): every row is
copied with its key, status, attempts and texts, naming its callback as the source, then the old
table goes."""

from django.db import migrations

FIELDS = [
    "idempotency_key", "kind", "channel", "recipient", "language", "subject", "body", "ics", "status",
    "attempts", "next_attempt_at", "last_error", "created_at", "sent_at",
]


def copy_rows(apps, schema_editor):
    Old = apps.get_model("callbacks", "Notification")
    New = apps.get_model("notifications", "Notification")
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not Old.objects.exists():
        return
    callback_type, _ = ContentType.objects.get_or_create(app_label="callbacks", model="callback")
    batch = []
    for old in Old.objects.select_related("callback").order_by("id").iterator(chunk_size=2000):
        batch.append(
            New(
                **{name: getattr(old, name) for name in FIELDS},
                ticket_id=old.callback.ticket_id,
                source_type_id=callback_type.pk,
                source_id=old.callback_id,
            )
        )
        if len(batch) >= 2000:
            New.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    New.objects.bulk_create(batch, ignore_conflicts=True)


def copy_back(apps, schema_editor):
    Old = apps.get_model("callbacks", "Notification")
    New = apps.get_model("notifications", "Notification")
    ContentType = apps.get_model("contenttypes", "ContentType")
    callback_type = ContentType.objects.filter(app_label="callbacks", model="callback").first()
    if callback_type is None:
        return
    rows = New.objects.filter(source_type_id=callback_type.pk).order_by("id")
    Old.objects.bulk_create(
        [Old(**{name: getattr(new, name) for name in FIELDS}, callback_id=new.source_id) for new in rows.iterator()],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("callbacks", "0002_default_policies"),
        ("notifications", "0001_outbox_templates_inbound"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(copy_rows, copy_back),
        migrations.DeleteModel(name="Notification"),
    ]
