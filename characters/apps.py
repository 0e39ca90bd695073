from django.apps import AppConfig


class CharactersConfig(AppConfig):
    name = "characters"
    verbose_name = "AI characters"

    def ready(self):
        from characters import checks, revisions, signals  # noqa: F401
