"""The base class of every Celery task in the product (cxconsole.celery sets it as the app's).

A task that meets a database it cannot reach (PostgreSQL restarting, a connection cut) retries
with backoff instead of failing: tasks re-read their state and are idempotent, so a retry is safe.
"""

from celery import Task as CeleryTask
from django.db import InterfaceError, OperationalError

# Attempts after the first, and the cap on one wait (seconds): 1, 2, 4, 8, 16, 30, 30… ≈ 4 minutes.
DATABASE_RETRIES = 12
DATABASE_RETRY_MAX_WAIT = 30


class Task(CeleryTask):  # type: ignore[misc]  # celery ships no type hints
    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 1
    retry_backoff_max = DATABASE_RETRY_MAX_WAIT
    retry_jitter = True
    max_retries = DATABASE_RETRIES
