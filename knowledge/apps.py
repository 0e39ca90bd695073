from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self):
        from knowledge import checks, signals  # noqa: F401

        contribute_documents()


def contribute_documents():
    """A character's representation lists its documents (characters/contributions.py)."""
    from characters.contributions import contribute
    from knowledge.serializers import DocumentSerializer

    contribute(
        "documents",
        lambda: DocumentSerializer(many=True, read_only=True),
        prefetch="documents",
    )
