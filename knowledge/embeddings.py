"""Text embeddings for knowledge-base search, behind one small interface.

`get_embedder()` returns the backend named by the KNOWLEDGE_EMBEDDING_BACKEND setting (a
dotted path to a class), built once per process on first use. A backend has a `name` and
`dimensions`, stored with every chunk it embeds, and `embed(texts)`, which returns one
unit-length float32 row per text, so a dot product is the cosine similarity. A hosted model
(e.g. OpenAI embeddings) is one more class with the same three members; changing the setting
then needs `manage.py embed_chunks` to re-embed what the old model wrote.
"""

import functools
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils.module_loading import import_string

# Stored byte order is fixed, so a database moves between machines unchanged.
VECTOR_DTYPE = np.dtype("<f4")


class EmbeddingError(Exception):
    """The model could not embed; the message is shown to the document's owner."""


def get_embedder():
    return _load(settings.KNOWLEDGE_EMBEDDING_BACKEND)


@functools.cache
def _load(backend_path):
    return import_string(backend_path)()


def to_bytes(vector):
    return np.asarray(vector, dtype=VECTOR_DTYPE).tobytes()


def matrix_from_bytes(blobs, dimensions):
    """One row per stored vector (each `dimensions` float32 values), in one copy."""
    return np.frombuffer(b"".join(blobs), dtype=VECTOR_DTYPE).reshape(-1, dimensions)


def normalised(matrix):
    """Rows scaled to unit length; an all-zero row (text with no known token) stays zero."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


class WordLlamaEmbedder:
    """WordLlama's 256-dimension `l2_supercat` model, whose weights ship inside its wheel.

    Nothing is downloaded: `disable_download=True`, and the wheel's own folder is given as
    the cache folder, because the loader looks for the tokenizer under `tokenizer/` in the
    package but the wheel ships it under `tokenizers/`, the cache's layout.
    """

    name = "wordllama/l2_supercat_256"
    dimensions = 256
    # Longer texts are cut to their first tokens: chunks are ~500 words (under 1,000 model
    # tokens), and the bound keeps a batch's padded token matrix small whatever the input.
    max_tokens = 1024
    batch_size = 32

    def __init__(self):
        import wordllama

        self._model = wordllama.WordLlama.load(
            config="l2_supercat",
            dim=self.dimensions,
            cache_dir=Path(wordllama.__file__).parent,
            disable_download=True,
        )
        self._model.tokenizer.enable_truncation(self.max_tokens)

    def embed(self, texts):
        return normalised(self._model.embed(list(texts), batch_size=self.batch_size))
