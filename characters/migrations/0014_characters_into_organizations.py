"""Each character moves into its owner's personal organization (accounts 0004 made one for
every user and set it as their default)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def move_into_personal_organizations(apps, schema_editor):
    Character = apps.get_model("characters", "Character")
    User = apps.get_model("accounts", "User")
    default = User.objects.filter(pk=OuterRef("owner_id")).values("default_organization_id")
    Character.objects.filter(organization__isnull=True).update(organization_id=Subquery(default))


class Migration(migrations.Migration):
    dependencies = [("characters", "0013_character_organization")]

    operations = [
        migrations.RunPython(move_into_personal_organizations, migrations.RunPython.noop),
    ]
