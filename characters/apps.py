from django.apps import AppConfig


class CharactersConfig(AppConfig):
    name = "characters"
    verbose_name = "AI characters"

    def ready(self):
        from characters import signals  # noqa: F401
        from characters.api import signals as api_signals  # noqa: F401
        from characters.widget import checks  # noqa: F401
        from characters.widget import signals as widget_signals  # noqa: F401
