from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Calls"

    def ready(self):
        from calls import openapi  # noqa: F401  (registers the worker key's security scheme)

        keep_versions_sessions_ran()


def keep_versions_sessions_ran():
    """A character version a session ran is never pruned (characters/history.py)."""
    from calls.models import CallSession
    from characters.history import keep_versions_in_use

    keep_versions_in_use(
        lambda character: CallSession.objects.filter(
            character=character, version__isnull=False
        ).values("version")
    )
