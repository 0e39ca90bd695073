"""Knowledge-base search: a character's passages most similar to a question, best first.

Ranking is one NumPy product of the question's unit vector with the character's matrix of
chunk vectors (cosine similarity). The matrix is read from the database once and kept in
process memory with the character's `revision`, which every change to its documents and
chunks bumps in the writing transaction (characters/revisions.py, knowledge/indexing.py):
a search reads that revision with the character and re-reads the vectors when it moved, so
it never ranks a deleted or reprocessed document. Why a cache: reading 20,000 vectors takes
100-500 ms on PostgreSQL, ranking them about 1 ms (bench/kb_query.py).
"""

import threading
from dataclasses import dataclass
from operator import attrgetter
from pathlib import PurePosixPath

import numpy as np
from cachetools import LRUCache
from django.conf import settings

from knowledge.embeddings import matrix_from_bytes
from knowledge.indexing import embed_texts
from knowledge.models import Document, DocumentChunk


@dataclass(frozen=True)
class CharacterVectors:
    revision: object
    model: str
    chunk_ids: np.ndarray
    matrix: np.ndarray

    @property
    def nbytes(self):
        return self.chunk_ids.nbytes + self.matrix.nbytes


# Bounded in bytes per process; a character larger than the whole bound is read every time.
_cache = LRUCache(
    maxsize=settings.KNOWLEDGE_SEARCH_CACHE_MB * 1024 * 1024, getsizeof=attrgetter("nbytes")
)
_cache_lock = threading.Lock()


def search(character, query, top_k):
    """Up to `top_k` passages of the character's PROCESSED documents: {"text", "metadata"}.

    `character` needs `pk` and `revision`. Raises EmbeddingError when the model fails.
    """
    embedder, [query_vector] = embed_texts([query])
    vectors = character_vectors(character, embedder)
    if not len(vectors.chunk_ids):
        return []
    # einsum, not `@`: BLAS spreads this small product over every core, and with the cores
    # busy (several server processes) that costs tens of ms at p95 against ~0.5 ms on one.
    scores = np.einsum("ij,j->i", vectors.matrix, query_vector)
    count = min(top_k, len(scores))
    best = np.argpartition(-scores, count - 1)[:count]
    best = best[np.argsort(-scores[best], kind="stable")]
    chunk_ids = vectors.chunk_ids[best].tolist()
    rows = {
        row["pk"]: row
        for row in processed_chunks(character.pk)
        .filter(pk__in=chunk_ids)
        .order_by()  # the order is the ranking's
        .values("pk", "text", "page", "document__file")
    }
    return [
        {
            "text": rows[pk]["text"],
            "metadata": {
                "source": PurePosixPath(rows[pk]["document__file"]).name,
                "page": rows[pk]["page"],
            },
        }
        for pk in chunk_ids
        if pk in rows
    ]


def processed_chunks(character_id):
    return DocumentChunk.objects.filter(
        document__character_id=character_id, document__status=Document.Status.PROCESSED
    )


def character_vectors(character, embedder):
    """The character's vectors written by `embedder`, from the cache when still current."""
    with _cache_lock:
        cached = _cache.get(character.pk)
    if cached and (cached.revision, cached.model) == (character.revision, embedder.name):
        return cached
    rows = list(
        processed_chunks(character.pk)
        .filter(embedding_model=embedder.name, embedding_dimensions=embedder.dimensions)
        .order_by("document_id", "index")
        .values_list("pk", "embedding")
    )
    vectors = CharacterVectors(
        revision=character.revision,
        model=embedder.name,
        chunk_ids=np.array([pk for pk, _ in rows], dtype=np.int64),
        matrix=matrix_from_bytes((blob for _, blob in rows), embedder.dimensions),
    )
    with _cache_lock:
        _cache.pop(character.pk, None)
        if vectors.nbytes <= _cache.maxsize:
            _cache[character.pk] = vectors
    return vectors


def clear_cache():
    with _cache_lock:
        _cache.clear()
