"""A task that meets an unreachable database retries with backoff instead of failing."""

import pytest
from celery import shared_task
from celery.exceptions import Retry
from django.db import InterfaceError, OperationalError

from core.tasks import DATABASE_RETRIES, Task
from cxconsole.celery import app

calls: list[int] = []


@shared_task(name="tests.flaky_database_task")
def flaky_database_task(error: str) -> None:
    calls.append(1)
    raise {"operational": OperationalError, "interface": InterfaceError}[error]("connection refused")


def test_every_task_of_the_app_uses_the_retrying_base() -> None:
    from routing.tasks import route_new_tickets

    assert isinstance(route_new_tickets, Task)
    assert isinstance(app.tasks["callbacks.dispatch_due"], Task)


@pytest.mark.parametrize("error", ["operational", "interface"])
def test_a_database_error_becomes_a_retry_with_backoff(error: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scheduled: list[dict] = []

    def retry(*args: object, **kwargs: object) -> Retry:
        scheduled.append(kwargs)
        raise Retry("retry", when=kwargs.get("countdown"))

    monkeypatch.setattr(flaky_database_task, "retry", retry)
    with pytest.raises(Retry):
        flaky_database_task.run(error)
    assert len(scheduled) == 1
    assert isinstance(scheduled[0]["exc"], OperationalError | InterfaceError)
    assert scheduled[0]["countdown"] >= 0
    assert flaky_database_task.max_retries == DATABASE_RETRIES


def test_other_errors_are_not_retried() -> None:
    @shared_task(name="tests.broken_task")
    def broken_task() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        broken_task.run()
