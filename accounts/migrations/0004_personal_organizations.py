"""Every existing user gets a personal organization (owner, and their default), and their API
keys move into it with the owner role they acted with so far."""

import secrets

from django.db import migrations
from django.utils.text import slugify


def free_slug(Organization, email):
    stem = slugify(email.partition("@")[0])[:57].strip("-_") or "org"
    slug = stem
    while Organization.objects.filter(slug=slug).exists():
        slug = f"{stem}-{secrets.token_hex(3)}"
    return slug


def give_personal_organizations(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Organization = apps.get_model("accounts", "Organization")
    Membership = apps.get_model("accounts", "Membership")
    ApiKey = apps.get_model("accounts", "ApiKey")
    for user in User.objects.filter(default_organization__isnull=True).order_by("pk").iterator():
        organization = Organization.objects.create(
            slug=free_slug(Organization, user.email), name=user.email[:100], is_personal=True
        )
        Membership.objects.create(organization=organization, user=user, role="owner")
        User.objects.filter(pk=user.pk).update(default_organization=organization)
        ApiKey.objects.filter(user=user, organization__isnull=True).update(
            organization=organization, role="owner"
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_organizations")]

    operations = [
        migrations.RunPython(give_personal_organizations, migrations.RunPython.noop),
    ]
