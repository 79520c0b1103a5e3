"""The embedded mode: a Celery worker and beat inside the web process (no Redis needed).

Celery's in-memory transport only connects producers and consumers of one process, so the
worker and beat run as threads beside the web server. One solo worker thread keeps SQLite
writes serial, which is what keeps assignment correct there.
"""

import logging
import threading

from celery import beat
from celery import current_app as celery_app
from celery.worker import WorkController

logger = logging.getLogger(__name__)


def start_embedded_worker(queues: list[str]) -> WorkController:
    worker = celery_app.WorkController(
        app=celery_app,
        pool_cls="solo",
        concurrency=1,
        queues=queues,
        loglevel="INFO",
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
    )
    threading.Thread(target=worker.start, daemon=True, name="embedded-celery-worker").start()
    logger.info("Embedded Celery worker consuming %s", ", ".join(queues))
    return worker


def start_embedded_beat() -> None:
    # The database scheduler (django-celery-beat), as in production; not a local schedule file.
    service = beat.EmbeddedService(celery_app, thread=True, scheduler_cls=celery_app.conf.beat_scheduler)
    service.start()
    logger.info("Embedded Celery beat started.")
