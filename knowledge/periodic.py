"""Work the task worker (`manage.py db_worker`) does on a clock, beside its queue.

An app above registers a job from its AppConfig.ready() with `register(job, interval)`
(`interval()` gives the seconds between runs, read each time so settings apply); events
registers its maintenance: retention pruning and catching up on what a lost queue or a dead
worker left (events/maintenance.py). Every worker runs every job, at its start and then
each interval, in a thread of its own: the jobs are safe to run side by side (each claims
what it works on), a long run delays neither the queue nor the heartbeat, and a job that
fails is logged and tried again at its next turn.
"""

import logging
import threading
import time

from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

_jobs = []


def register(job, interval):
    if all(registered is not job for registered, _ in _jobs):
        _jobs.append((job, interval))


def run_due(next_runs, now):
    """Run the jobs whose turn has come; returns the seconds until the next one's."""
    for index, (job, interval) in enumerate(_jobs):
        if next_runs.get(index, now) > now:
            continue
        close_old_connections()  # its own connection, kept as the requests' are
        try:
            job()
        except Exception:  # a database blip must not end the jobs for good
            logger.exception("Periodic job %s failed; it runs again at its next turn", job)
        next_runs[index] = time.monotonic() + interval()
    if not next_runs:
        return None
    return max(0.0, min(next_runs.values()) - time.monotonic())


class PeriodicJobs(threading.Thread):
    """Runs the registered jobs until stopped."""

    def __init__(self):
        super().__init__(name="task-worker-periodic-jobs", daemon=True)
        self.stopped = threading.Event()

    def run(self):
        next_runs = {}
        try:
            while True:
                wait = run_due(next_runs, time.monotonic())
                if wait is None or self.stopped.wait(wait):
                    return
        finally:
            connections.close_all()

    def stop(self):
        """Once the worker returns; a job running then finishes first."""
        self.stopped.set()
        self.join()
