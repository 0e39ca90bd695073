"""A character belongs to an organization (filled in by 0012); the list's index follows."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_personal_organizations"),
        ("characters", "0012_character_publishing"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="character",
            name="character_owner_created_idx",
        ),
        migrations.AddField(
            model_name="character",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="characters",
                to="accounts.organization",
            ),
        ),
        migrations.AddIndex(
            model_name="character",
            index=models.Index(
                fields=["organization", "-created_at", "-id"],
                include=("revision",),
                name="character_org_created_idx",
            ),
        ),
    ]
