"""One maintenance run, as the task worker makes every EVENTS_MAINTENANCE_INTERVAL seconds
(events/apps.py registers it; docs/webhooks.md): events older than EVENT_RETENTION_DAYS
pruned, events a lost queue left undispatched dispatched, and deliveries whose retry is due
(or whose worker died) sent. For a Tasks backend without `manage.py db_worker` (run it from
cron, a systemd timer or a loop), or by hand."""

from django.core.management.base import BaseCommand

from events import maintenance


class Command(BaseCommand):
    help = "Prune old events, dispatch waiting ones, send due webhook deliveries."

    def handle(self, *args, **options):
        pruned, sent = maintenance.run()
        self.stdout.write(f"{pruned} events pruned, {sent} deliveries attempted.")
