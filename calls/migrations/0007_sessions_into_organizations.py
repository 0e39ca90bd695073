"""Each session belongs to the organization its owner's characters moved into (their
personal one: characters 0012)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def move_into_personal_organizations(apps, schema_editor):
    CallSession = apps.get_model("calls", "CallSession")
    User = apps.get_model("accounts", "User")
    default = User.objects.filter(pk=OuterRef("owner_id")).values("default_organization_id")
    CallSession.objects.filter(organization__isnull=True).update(organization_id=Subquery(default))


class Migration(migrations.Migration):
    dependencies = [("calls", "0006_session_organization")]

    operations = [
        migrations.RunPython(move_into_personal_organizations, migrations.RunPython.noop),
    ]
