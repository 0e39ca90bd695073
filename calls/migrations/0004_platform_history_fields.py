"""The history's platform fields: an integer id, who started the session, and what the
worker reports ran (models, providers, recording)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import calls.models


def number_existing_sessions(apps, schema_editor):
    CallSession = apps.get_model("calls", "CallSession")
    used = set()
    for session in CallSession.objects.filter(number__isnull=True).only("pk").iterator():
        number = calls.models.new_session_number()
        while number in used:
            number = calls.models.new_session_number()
        used.add(number)
        CallSession.objects.filter(pk=session.pk).update(number=number)


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0003_fewer_session_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="callsession",
            name="number",
            field=models.PositiveBigIntegerField(null=True, editable=False),
        ),
        migrations.RunPython(number_existing_sessions, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="callsession",
            name="number",
            field=models.PositiveBigIntegerField(
                default=calls.models.new_session_number, editable=False, unique=True
            ),
        ),
        migrations.AddField(
            model_name="callsession",
            name="started_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="callsession",
            name="llm_model",
            field=models.CharField(blank=True, default="", max_length=100),
        ),
        migrations.AddField(
            model_name="callsession",
            name="llm_provider",
            field=models.CharField(blank=True, default="", max_length=50),
        ),
        migrations.AddField(
            model_name="callsession",
            name="stt_provider",
            field=models.CharField(blank=True, default="", max_length=50),
        ),
        migrations.AddField(
            model_name="callsession",
            name="tts_provider",
            field=models.CharField(blank=True, default="", max_length=50),
        ),
        migrations.AddField(
            model_name="callsession",
            name="recording_status",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.AddField(
            model_name="callsession",
            name="recording_url",
            field=models.CharField(blank=True, default="", max_length=2000),
        ),
    ]
