"""Every character belongs to an organization (0012 moved the existing ones)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("characters", "0014_characters_into_organizations")]

    operations = [
        migrations.AlterField(
            model_name="character",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="characters",
                to="accounts.organization",
            ),
        ),
    ]
