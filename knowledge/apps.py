from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self):
        from knowledge import checks, signals  # noqa: F401

        contribute_documents()
        copy_documents_of_duplicates()


def contribute_documents():
    """A character's representation lists its documents (characters/contributions.py)."""
    from characters.contributions import contribute
    from knowledge.serializers import DocumentSerializer

    contribute(
        "documents",
        lambda: DocumentSerializer(many=True, read_only=True),
        prefetch="documents",
    )


def copy_documents_of_duplicates():
    """A duplicated character gets copies of its source's documents (characters/duplication.py)."""
    from characters.contributions import on_duplicate
    from knowledge.services import copy_documents

    on_duplicate(copy_documents)
