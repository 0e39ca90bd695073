"""Every session belongs to an organization (0006 moved the existing ones)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("calls", "0007_sessions_into_organizations")]

    operations = [
        migrations.AlterField(
            model_name="callsession",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="call_sessions",
                to="accounts.organization",
            ),
        ),
    ]
