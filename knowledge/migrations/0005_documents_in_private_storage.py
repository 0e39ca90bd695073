"""Documents move to the private storage (PRIVATE_MEDIA_ROOT), which no URL serves.

Files uploaded before this migration sit under MEDIA_ROOT/documents/, where /media/ (or a web
server publishing MEDIA_ROOT) serves them to anyone with the link: each is moved, under the
same name, and deleted from MEDIA_ROOT. Reversible (the files move back).
"""

from django.core.files.storage import storages
from django.db import migrations, models

import knowledge.models
import oshara.storage


def move_documents(apps, source, target):
    Document = apps.get_model("knowledge", "Document")
    for document in Document.objects.exclude(file="").only("id", "file").iterator():
        name = document.file.name
        if not source.exists(name):
            continue
        with source.open(name, "rb") as content:
            stored = target.save(name, content)
        if stored != name:
            Document.objects.filter(pk=document.pk).update(file=stored)
        source.delete(name)


def to_private(apps, schema_editor):
    move_documents(apps, storages["default"], storages["private"])


def to_public(apps, schema_editor):
    move_documents(apps, storages["private"], storages["default"])


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0004_embed_existing_chunks"),
    ]

    operations = [
        migrations.AlterField(
            model_name="document",
            name="file",
            field=models.FileField(
                max_length=255,
                storage=oshara.storage.private_storage,
                upload_to=knowledge.models.document_upload_path,
            ),
        ),
        migrations.RunPython(to_private, to_public),
    ]
