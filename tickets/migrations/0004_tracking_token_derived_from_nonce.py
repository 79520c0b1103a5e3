# The stored tracking token becomes a nonce the token is derived from (tickets.tracking): a copy
# of the database no longer holds working tokens. Tokens handed out before this change stop
# working (no production data existed yet).
from django.db import migrations, models

import tickets.tracking


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_system_writes_internal_notes")]

    operations = [
        migrations.RenameField(model_name="ticket", old_name="tracking_token", new_name="tracking_nonce"),
        migrations.AlterField(
            model_name="ticket",
            name="tracking_nonce",
            field=models.CharField(default=tickets.tracking.new_tracking_nonce, editable=False, max_length=64),
        ),
    ]
