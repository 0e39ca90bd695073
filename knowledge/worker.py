"""Leases for the database task worker (django-tasks-db), which has none of its own
(django-tasks-db issue #5): a worker killed mid-task (kill -9, out of memory, a lost host)
leaves its task RUNNING, and its document PENDING, for good.

Every worker records a heartbeat (WorkerHeartbeat) every quarter of TASK_WORKER_LEASE_SECONDS,
from a thread of its own, so a long task does not silence it. On each beat it also looks for
tasks RUNNING for longer than the lease whose worker has not beaten within it: such a task is
made READY again (any worker picks it up; processing a document twice is safe), or, once
TASK_MAX_ATTEMPTS workers have died on it, FAILED with a readable error, and its document too.
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections, transaction
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from knowledge.models import Document, WorkerHeartbeat
from knowledge.tasks import process_document, save_result

logger = logging.getLogger(__name__)

WORKER_LOST = (
    "Processing stopped {attempts} times before it finished (the worker was restarted or ran "
    "out of memory); the document may be too large. Upload it again or contact support."
)


def lease():
    return timedelta(seconds=settings.TASK_WORKER_LEASE_SECONDS)


def worker_status():
    """`ok` when a worker has shown life within the lease, `stale` otherwise. Only the
    database backend has workers to watch; any other runs tasks where it is told to."""
    if not settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db."):
        return "ok"
    try:
        alive = WorkerHeartbeat.objects.filter(seen_at__gte=timezone.now() - lease()).exists()
    except DatabaseError:  # not migrated yet (the health check runs before): no worker ran
        return "stale"
    return "ok" if alive else "stale"


def beat(worker_id):
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"seen_at": timezone.now()}
    )


def reclaim_abandoned_tasks():
    """Requeue (or fail, after TASK_MAX_ATTEMPTS) the tasks whose worker's lease expired."""
    cutoff = timezone.now() - lease()
    WorkerHeartbeat.objects.filter(seen_at__lt=cutoff).delete()
    alive = set(WorkerHeartbeat.objects.values_list("worker_id", flat=True))
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    for task in running:
        if task.worker_ids and task.worker_ids[-1] in alive:
            continue
        if len(task.worker_ids) >= settings.TASK_MAX_ATTEMPTS:
            fail(task)
        else:
            requeue(task)


def still_abandoned(task):
    # The claim's time identifies it: another worker's reclaim or claim changes it.
    return DBTaskResult.objects.filter(
        pk=task.pk, status=TaskResultStatus.RUNNING, started_at=task.started_at
    )


def requeue(task):
    if still_abandoned(task).update(status=TaskResultStatus.READY):
        logger.warning("Task %s (%s) lost its worker; queued again", task.pk, task.task_path)


def fail(task):
    attempts = len(task.worker_ids)
    with transaction.atomic():
        failed = still_abandoned(task).update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path=f"{__name__}.WorkerLost",
            traceback=f"The worker running it stopped, {attempts} times.",
        )
        if not failed:
            return
        logger.error("Task %s (%s) lost %d workers; failed", task.pk, task.task_path, attempts)
        if task.task_path == process_document.module_path:
            (document_id,) = task.args_kwargs["args"]
            error = WORKER_LOST.format(attempts=attempts)
            save_result(document_id, status=Document.Status.FAILED, error=error)


class Heartbeat(threading.Thread):
    """Beats for `worker_id` and reclaims abandoned tasks until the process ends."""

    def __init__(self, worker_id):
        super().__init__(name="task-worker-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def run(self):
        try:
            while True:
                close_old_connections()  # its own connection, kept as the requests' are
                try:
                    beat(self.worker_id)
                    reclaim_abandoned_tasks()
                except Exception:  # a database blip must not end the heartbeat for good
                    logger.exception("Worker heartbeat failed; retrying")
                if self.stopped.wait(settings.TASK_WORKER_LEASE_SECONDS / 4):
                    return
        finally:
            connections.close_all()

    def stop(self):
        """End the beats once the worker returns (`--batch`, `--max-tasks`, a test's call)."""
        self.stopped.set()
        self.join()
