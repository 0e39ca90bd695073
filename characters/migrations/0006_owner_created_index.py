from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("characters", "0005_character_is_active"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="character",
            name="characters__owner_i_9d4824_idx",
        ),
        migrations.AddIndex(
            model_name="character",
            index=models.Index(
                fields=["owner", "-created_at", "-id"],
                include=["revision"],
                name="character_owner_created_idx",
            ),
        ),
    ]
