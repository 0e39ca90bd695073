from django.apps import AppConfig


class CharactersConfig(AppConfig):
    name = "characters"
    verbose_name = "AI characters"

    def ready(self):
        from characters import checks, signals  # noqa: F401
