import characters.crypto
import characters.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("characters", "0007_idempotency_etag"),
    ]

    operations = [
        migrations.AddField(
            model_name="character",
            name="kb_query_url",
            field=models.URLField(
                blank=True,
                default="",
                max_length=500,
                validators=[characters.validators.validate_http_url],
            ),
        ),
        migrations.AddField(
            model_name="character",
            name="kb_query_api_key",
            field=characters.crypto.EncryptedTextField(blank=True, default=None),
        ),
    ]
