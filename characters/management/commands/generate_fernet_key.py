"""Print a new Fernet key for FERNET_KEYS."""

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Print a new random Fernet key. Put it first in FERNET_KEYS (comma-separated, newest "
        "first), then run rotate_fernet_keys before removing older keys."
    )
    requires_system_checks = []

    def handle(self, *args, **options):
        # Only the key on stdout, so `FERNET_KEYS=$(python manage.py generate_fernet_key)` works.
        self.stdout.write(Fernet.generate_key().decode())
