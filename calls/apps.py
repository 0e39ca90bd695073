from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Calls"

    def ready(self):
        from calls import openapi  # noqa: F401  (registers the worker key's security scheme)
