"""`manage.py db_worker`: django-tasks-db's worker with a heartbeat and leases
(knowledge/worker.py), and the periodic jobs other apps register (knowledge/periodic.py:
events' retention and catch-up). It takes the command's name because knowledge comes before
django_tasks_db in INSTALLED_APPS; every option is the library's, `--interval` defaulting to
TASK_WORKER_POLL_INTERVAL."""

import os

from django.conf import settings
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from knowledge.periodic import PeriodicJobs
from knowledge.worker import Heartbeat


class Command(db_worker.Command):
    help = f"{db_worker.Command.help}, reclaiming the tasks of dead workers (knowledge/worker.py)"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # The poll of an empty queue: webhooks' latency waits for it (docs/configuration.md).
        parser.set_defaults(interval=settings.TASK_WORKER_POLL_INTERVAL)

    def handle(self, *args, reload, batch, worker_id, **options):
        # With --reload this process only restarts a child that runs the tasks (and beats).
        if reload and not batch and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            return super().handle(*args, reload=reload, batch=batch, worker_id=worker_id, **options)
        heartbeat = Heartbeat(worker_id)
        heartbeat.start()
        periodic = PeriodicJobs()
        periodic.start()
        try:
            super().handle(*args, reload=reload, batch=batch, worker_id=worker_id, **options)
        finally:
            periodic.stop()
            heartbeat.stop()
