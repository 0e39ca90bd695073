"""What the task worker's host runs every minute (cron, a systemd timer or a loop; see
docs/webhooks.md): events older than EVENT_RETENTION_DAYS pruned, events a down queue left
undispatched dispatched, and deliveries whose retry is due (or whose worker died) sent."""

from django.core.management.base import BaseCommand

from events import maintenance


class Command(BaseCommand):
    help = "Prune old events, dispatch waiting ones, send due webhook deliveries."

    def handle(self, *args, **options):
        pruned, sent = maintenance.run()
        self.stdout.write(f"{pruned} events pruned, {sent} deliveries attempted.")
