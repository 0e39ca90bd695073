"""Embed the chunks stored before search existed, with the configured model.

The same work as `manage.py embed_chunks`, on the historical models; it loads the model only
when there are chunks to embed.
"""

import uuid

from django.db import migrations


def embed_existing_chunks(apps, schema_editor):
    from knowledge.indexing import embed_chunks

    DocumentChunk = apps.get_model("knowledge", "DocumentChunk")
    Character = apps.get_model("characters", "Character")
    if not DocumentChunk.objects.filter(embedding__isnull=True).exists():
        return

    def bump(ids):
        # The base manager: the default one refuses bulk updates (characters/changes.py).
        Character._base_manager.filter(pk__in=ids).update(revision=uuid.uuid4())

    embed_chunks(DocumentChunk, bump)


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0003_chunk_page_and_embedding"),
        ("characters", "0004_character_revision"),
    ]

    operations = [migrations.RunPython(embed_existing_chunks, migrations.RunPython.noop)]
