# WebhookEvent is keyed by seq (sequential B-tree inserts on the hot path, an identity column on
# PostgreSQL, SQLite's own row number there); the envelope's id stays, as the column uuid (the
# old key's values, so receivers deduplicate resends of old events as before). Deliveries point
# at seq (copied by 0003). The created_at index goes: time ranges are served by seq.

import django.utils.timezone
import webhooks.models
from django.db import migrations, models

OLD_SEQUENCE = "webhooks_webhookevent_seq"  # made by 0002


def drop_uuid_key(apps, schema_editor):
    # PostgreSQL: the UUID stops being the key before seq becomes it (a table has one primary
    # key, and the schema editor's own "no longer primary" step would drop whichever key exists
    # by then). SQLite rebuilds the table for seq's change and demotes the old key there itself.
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'webhooks_webhookevent'::regclass AND contype = 'p'"
        )
        for (name,) in cursor.fetchall():
            schema_editor.execute(f'ALTER TABLE webhooks_webhookevent DROP CONSTRAINT "{name}"')


def restore_uuid_key(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE webhooks_webhookevent ADD PRIMARY KEY (uuid)")


def continue_numbering(apps, schema_editor):
    # The identity column counts on from where the old sequence was (or from the highest seq, if
    # higher), so new events are numbered after every existing one; then the old sequence goes.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"""
        SELECT setval(pg_get_serial_sequence('webhooks_webhookevent', 'seq'), GREATEST(
            (SELECT last_value FROM {OLD_SEQUENCE}), (SELECT max(seq) FROM webhooks_webhookevent), 1))
        """
    )
    schema_editor.execute(f"DROP SEQUENCE IF EXISTS {OLD_SEQUENCE}")


def restore_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {OLD_SEQUENCE}")
    schema_editor.execute(
        f"SELECT setval('{OLD_SEQUENCE}', GREATEST((SELECT max(seq) FROM webhooks_webhookevent), 1))"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks", "0003_delivery_event_seq"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="webhookdelivery",
            name="one_delivery_per_endpoint_and_event",
        ),
        migrations.RemoveField(
            model_name="webhookdelivery",
            name="event",
        ),
        migrations.RemoveIndex(
            model_name="webhookevent",
            name="webhook_event_created",
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="seq",
            field=models.BigIntegerField(editable=False),
        ),
        migrations.RenameField(
            model_name="webhookevent",
            old_name="id",
            new_name="uuid",
        ),
        migrations.RunPython(drop_uuid_key, restore_uuid_key),
        migrations.AlterField(
            model_name="webhookevent",
            name="seq",
            field=models.BigAutoField(primary_key=True, serialize=False, verbose_name="sequence number"),
        ),
        migrations.RunPython(continue_numbering, restore_sequence),
        # The database dropped the old key above (PostgreSQL) or with seq's change (SQLite).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="webhookevent",
                    name="uuid",
                    field=models.UUIDField(
                        default=webhooks.models.new_event_uuid, editable=False, verbose_name="event id"
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(fields=["uuid"], name="webhook_event_uuid"),
        ),
        migrations.AlterModelOptions(
            name="webhookevent",
            options={"ordering": ["-seq"], "verbose_name": "webhook event", "verbose_name_plural": "webhook events"},
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="created at"),
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="data",
            field=models.JSONField(verbose_name="data"),
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="fanned_out_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="fanned out at"),
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="ticket_id",
            field=models.BigIntegerField(blank=True, null=True, verbose_name="ticket id"),
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="type",
            field=models.CharField(max_length=64, verbose_name="type"),
        ),
        migrations.RenameField(
            model_name="webhookdelivery",
            old_name="event_seq",
            new_name="event",
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="event",
            field=models.ForeignKey(
                on_delete=models.deletion.CASCADE, related_name="deliveries", to="webhooks.webhookevent"
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.UniqueConstraint(fields=("endpoint", "event"), name="one_delivery_per_endpoint_and_event"),
        ),
    ]
