"""Embed stored chunks with the configured model (KNOWLEDGE_EMBEDDING_BACKEND).

Run it after changing the model: until then, chunks written by the old model are left out of
searches (vectors of different models cannot be compared). Safe to interrupt and re-run.
"""

from django.core.management.base import BaseCommand, CommandError

from characters import revisions
from knowledge.embeddings import EmbeddingError, get_embedder
from knowledge.indexing import embed_chunks
from knowledge.models import DocumentChunk


class Command(BaseCommand):
    help = "Embed every chunk the configured model has not embedded (--all: every chunk)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Re-embed every chunk, even current ones."
        )
        parser.add_argument("--batch-size", type=int, default=256)

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            count = embed_chunks(
                DocumentChunk,
                revisions.bump,
                everything=options["all"],
                batch_size=options["batch_size"],
            )
        except EmbeddingError:
            raise CommandError(
                "The embedding model failed (the log has why); batches already embedded are "
                "kept, run the command again to go on."
            ) from None
        self.stdout.write(f"Embedded {count} chunks with {get_embedder().name}.")
