# The first half of keying WebhookEvent by seq (0004): each delivery learns its event's seq while
# the event is still keyed by its UUID. A migration of its own, so that on PostgreSQL this data
# change commits before 0004 alters the tables it touched.

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_event_seq(apps, schema_editor):
    WebhookEvent = apps.get_model("webhooks", "WebhookEvent")
    WebhookDelivery = apps.get_model("webhooks", "WebhookDelivery")
    WebhookDelivery.objects.update(
        event_seq=Subquery(WebhookEvent.objects.filter(pk=OuterRef("event_id")).values("seq")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks", "0002_event_fan_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
            name="event_seq",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(copy_event_seq, migrations.RunPython.noop),
    ]
