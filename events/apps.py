from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events and webhooks"

    def ready(self):
        from events import checks  # noqa: F401
        from events.recording import record
        from oshara import outbox

        outbox.register(record)
