"""Every API key belongs to an organization (0004 gave the existing ones their owner's)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_personal_organizations")]

    operations = [
        migrations.AlterField(
            model_name="apikey",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_keys",
                to="accounts.organization",
            ),
        ),
    ]
