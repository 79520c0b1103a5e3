"""The Celery app. Configuration lives in settings.py under the CELERY_ namespace."""

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxconsole.settings")

# Every task retries on a database it cannot reach (core.tasks.Task).
app = Celery("cxconsole", task_cls="core.tasks:Task")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_without_secret_key(**kwargs: Any) -> None:
    """Workers write signed links into notifications: none without a real key (DEBUG off)."""
    from core.secret_key import require_secret_key

    require_secret_key()
