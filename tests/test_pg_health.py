"""A persistent PostgreSQL connection is checked before each request or task without a round
trip while it is healthy, and one the server closed is replaced, never used
(core.postgresql)."""

import select
import time

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql

pytestmark = pytest.mark.django_db


def test_an_idle_healthy_connection_passes_the_check_without_a_query(
    postgres: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection.ensure_connection()

    def select_one(self: object) -> bool:
        raise AssertionError("Django's SELECT 1 was sent")

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", select_one)
    assert connection.is_usable()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the test's own connection is killed
def test_a_connection_the_server_closed_is_replaced_before_use(postgres: None) -> None:
    connection.ensure_connection()
    old_pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    admin_params = {k: params[k] for k in ("dbname", "user", "host", "port", "password") if params.get(k)}
    with psycopg.connect(**admin_params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [old_pid])
    deadline = time.monotonic() + 5
    while not select.select([connection.connection.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the server never closed the connection"

    assert not connection.is_usable()
    connection.health_check_done = False  # type: ignore[attr-defined]  # Django's private flag: as at the start of every request and task
    with connection.cursor() as cursor:  # checks, finds it closed, reconnects
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != old_pid
