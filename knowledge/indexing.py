"""Chunk embeddings written by the configured model (knowledge/embeddings.py): for a document
being processed, and for stored chunks when the model changes (`manage.py embed_chunks`)."""

import logging

from django.db import transaction
from django.db.models import Q

from knowledge.embeddings import EmbeddingError, get_embedder, to_bytes

logger = logging.getLogger(__name__)

EMBEDDING_FAILED = "The document could not be indexed for search; upload it again later."


def embed_texts(texts):
    """(embedder, one unit vector per text), or EmbeddingError with a message for the owner.

    Any failure of the model (loading it, a hosted API's error, a wrong shape) ends there:
    backends raise many types, and a document must end FAILED rather than stay PENDING.
    """
    texts = list(texts)
    try:
        embedder = get_embedder()
        vectors = embedder.embed(texts) if texts else []
        if len(vectors) != len(texts) or any(len(v) != embedder.dimensions for v in vectors):
            raise ValueError(f"{embedder.name} returned vectors of the wrong shape")
    except Exception:
        logger.exception("Could not embed %d texts", len(texts))
        raise EmbeddingError(EMBEDDING_FAILED) from None
    return embedder, vectors


def embedding_fields(embedder, vector):
    return {
        "embedding": to_bytes(vector),
        "embedding_model": embedder.name,
        "embedding_dimensions": embedder.dimensions,
    }


def stale_chunks(chunk_model, embedder):
    """Chunks the configured model did not write (never embedded, or by another model)."""
    return chunk_model.objects.filter(
        Q(embedding__isnull=True)
        | ~Q(embedding_model=embedder.name)
        | ~Q(embedding_dimensions=embedder.dimensions)
    )


def embed_chunks(chunk_model, bump, *, everything=False, batch_size=256):
    """Embed stale chunks (all of them with `everything`) in batches; returns how many.

    `chunk_model` and `bump` (a function given character ids, characters/revisions.py) are
    parameters so the data migration can pass its historical models. Each batch commits on
    its own with its characters bumped, so searches see it at once and an interrupted run
    resumes where it stopped.
    """
    embedder = get_embedder()
    queryset = chunk_model.objects.all() if everything else stale_chunks(chunk_model, embedder)
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        batch = list(
            chunk_model.objects.filter(pk__in=ids[start : start + batch_size])
            .select_related("document")
            .only("pk", "text", "document__character_id")
        )
        _, vectors = embed_texts(chunk.text for chunk in batch)
        for chunk, vector in zip(batch, vectors, strict=True):
            for field, value in embedding_fields(embedder, vector).items():
                setattr(chunk, field, value)
        with transaction.atomic():
            bump({chunk.document.character_id for chunk in batch})
            chunk_model.objects.bulk_update(
                batch, ["embedding", "embedding_model", "embedding_dimensions"]
            )
    return len(ids)
