"""Real Celery worker processes against the test database and Redis."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from cxconsole.celery import app as celery_app
from routing.selectors import celery_queue_names

BASE_DIR = Path(settings.BASE_DIR)
LOG_DIR = BASE_DIR / "var" / "test-logs"


def test_database_url() -> str:
    """A DATABASE_URL that points worker processes at the test database pytest-django made."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, queues: list[str], concurrency: int, name: str) -> None:
        self.name = name
        self.nodename = f"{name}@{os.uname().nodename}"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}.log"
        env = {**os.environ, "DATABASE_URL": test_database_url(), "REDIS_URL": settings.REDIS_URL}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cxconsole",
                "worker",
                "-Q",
                ",".join(queues),
                "-c",
                str(concurrency),
                "-P",
                "prefork",
                "-n",
                self.nodename,
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()[-3000:]}")
            if celery_app.control.ping(destination=[self.nodename], timeout=0.5):
                return
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def start_worker(postgres: None, redis_broker: str) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real `celery worker` processes; all are stopped (then the test DB dropped) afterwards."""
    celery_app.control.purge()  # nothing left over from another run reaches this test's workers
    workers: list[WorkerProcess] = []

    def start(*, queues: list[str] | None = None, concurrency: int = 2) -> WorkerProcess:
        worker = WorkerProcess(queues or celery_queue_names(), concurrency, f"test-{uuid.uuid4().hex[:8]}")
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for(predicate: Callable[[], object], timeout: float = 20, interval: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
