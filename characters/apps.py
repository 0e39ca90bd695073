from django.apps import AppConfig


class CharactersConfig(AppConfig):
    name = "characters"
    verbose_name = "AI characters"

    def ready(self):
        from characters import signals  # noqa: F401
        from characters.api import openapi  # noqa: F401  (registers the schema extension)
        from characters.widget import checks  # noqa: F401
