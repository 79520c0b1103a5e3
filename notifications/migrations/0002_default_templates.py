"""The notification templates a new installation starts with (notifications.defaults): English
and Chinese, email and SMS, for replies, resolutions and reopenings. Existing rows are kept."""

from django.db import migrations


def seed(apps, schema_editor):
    from notifications.defaults import DEFAULT_TEMPLATES

    NotificationTemplate = apps.get_model("notifications", "NotificationTemplate")
    for (kind, channel, language), (subject, body) in DEFAULT_TEMPLATES.items():
        NotificationTemplate.objects.get_or_create(
            kind=kind, channel=channel, language=language, defaults={"subject": subject, "body": body}
        )


class Migration(migrations.Migration):

    dependencies = [("notifications", "0001_outbox_templates_inbound")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
