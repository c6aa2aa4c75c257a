"""The task worker: django-tasks-db's worker loop plus a heartbeat, so that
/healthz and `civicloop check` can tell whether background work is being done."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from django.core.management import call_command
from django.db import close_old_connections, connection
from django.utils import timezone

from civicloop.jobs.models import WorkerHeartbeat

HEARTBEAT_SECONDS = 15
PERIODIC_EVERY_BEATS = 240  # one hour
MAINTAIN_EVERY_BEATS = 4  # one minute: publishing deadlines are minutes, not hours
logger = logging.getLogger(__name__)


def beat(worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "last_seen": timezone.now(),
        },
    )


def _periodic() -> None:
    """Housekeeping that must happen even if nobody clicks anything: queued, so that
    it runs on whichever worker is free, once an hour per worker at most."""
    from civicloop.consultations.tasks import apply_retention

    apply_retention.enqueue()


def _heartbeat_loop(worker_id: str, stop: threading.Event) -> None:
    beats = 0
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            close_old_connections()
            beat(worker_id)
            beats += 1
            if beats % PERIODIC_EVERY_BEATS == 1:
                _periodic()
            if beats % MAINTAIN_EVERY_BEATS == 1:
                from civicloop.channels.tasks import maintain

                maintain.enqueue()
        except Exception:  # a missed beat must not kill the worker
            logger.warning("Worker heartbeat failed; will retry.", exc_info=True)
    connection.close()


def run_worker(*, queues: str = "default", interval: float = 1.0, batch: bool = False) -> None:
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    beat(worker_id)
    stop = threading.Event()
    thread = threading.Thread(target=_heartbeat_loop, args=(worker_id, stop), daemon=True)
    thread.start()
    try:
        call_command(
            "db_worker",
            queue_name=queues,
            interval=interval,
            batch=batch,
            worker_id=worker_id[:64],
            verbosity=1,
        )
    finally:
        stop.set()
        WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def latest_heartbeat() -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.order_by("-last_seen").first()
