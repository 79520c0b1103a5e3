"""A callback policy with default business hours for every queue that already exists."""

from django.db import migrations

from callbacks.defaults import DEFAULT_HOURS, DEFAULT_TIME_ZONE


def create_default_policies(apps, schema_editor):
    SpecialistQueue = apps.get_model("teams", "SpecialistQueue")
    CallbackPolicy = apps.get_model("callbacks", "CallbackPolicy")
    BusinessHours = apps.get_model("callbacks", "BusinessHours")
    for queue in SpecialistQueue.objects.all():
        policy, created = CallbackPolicy.objects.get_or_create(queue=queue, defaults={"time_zone": DEFAULT_TIME_ZONE})
        if created:
            BusinessHours.objects.bulk_create(
                [BusinessHours(policy=policy, weekday=d, opens=o, closes=c) for d, o, c in DEFAULT_HOURS]
            )


class Migration(migrations.Migration):
    dependencies = [("callbacks", "0001_initial"), ("teams", "0002_default_taxonomy")]
    operations = [migrations.RunPython(create_default_policies, migrations.RunPython.noop)]
