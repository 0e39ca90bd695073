"""Embedding backends for tests, configured through KNOWLEDGE_EMBEDDING_BACKEND like any other."""

import threading

import numpy as np


class BrokenEmbedder:
    """A model that cannot run (missing weights, a hosted API down)."""

    name = "broken/4"
    dimensions = 4

    def embed(self, texts):
        raise RuntimeError("model weights not found")


class WrongShapeEmbedder:
    """A model that answers with vectors of another size than it declares."""

    name = "wrong-shape/4"
    dimensions = 4

    def embed(self, texts):
        return np.ones((len(texts), 3), dtype=np.float32)


class LetterEmbedder:
    """Another model: letter frequencies, enough to tell texts apart."""

    name = "letters/26"
    dimensions = 26

    def embed(self, texts):
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for letter in text.lower():
                if "a" <= letter <= "z":
                    vectors[row, ord(letter) - ord("a")] += 1
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


class HangingEmbedder:
    """A model that never answers: the worker running it is busy until it is killed."""

    name = "hanging/4"
    dimensions = 4

    def embed(self, texts):
        threading.Event().wait()


class ProgressRecordingEmbedder(LetterEmbedder):
    """Letter frequencies, noting each time it is called what the document's progress shows
    (tests/test_admin_documents.py): the stored counts, as another process would read them."""

    name = "letters/26"
    seen = []

    def embed(self, texts):
        from knowledge.models import Document

        document = Document.objects.get()
        self.seen.append((document.stage, document.chunks_done, document.chunks_total))
        return super().embed(texts)
