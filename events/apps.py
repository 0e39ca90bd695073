from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events and webhooks"

    def ready(self):
        from django.conf import settings

        from events import checks, maintenance  # noqa: F401  (checks: registers its check)
        from events.recording import record
        from knowledge import periodic
        from oshara import outbox

        outbox.register(record)
        # The task worker prunes the log and catches up on what a lost queue or a dead
        # worker left, every EVENTS_MAINTENANCE_INTERVAL seconds (docs/webhooks.md).
        periodic.register(maintenance.run, lambda: settings.EVENTS_MAINTENANCE_INTERVAL)
