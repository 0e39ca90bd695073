"""A session belongs to its character's organization (filled in by 0006): history and the
concurrent-session limit count per organization."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_personal_organizations"),
        ("calls", "0005_session_version"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="callsession",
            name="call_session_running",
        ),
        migrations.AddField(
            model_name="callsession",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="call_sessions",
                to="accounts.organization",
            ),
        ),
        migrations.AddIndex(
            model_name="callsession",
            index=models.Index(
                fields=["organization", "-started_at"], name="call_session_org_started"
            ),
        ),
        migrations.AddIndex(
            model_name="callsession",
            index=models.Index(
                condition=models.Q(("ended_at__isnull", True)),
                fields=["organization", "expires_at"],
                name="call_session_running",
            ),
        ),
    ]
