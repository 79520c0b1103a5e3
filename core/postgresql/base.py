"""Django's PostgreSQL backend, with a health check that costs no round trip when it can.

With CONN_HEALTH_CHECKS, Django checks a persistent connection before its first use in every
request and every Celery task by running SELECT 1: one more round trip to PostgreSQL per
inquiry and per routing run, the largest part of their cost on this kind of machine. An idle
connection has nothing to read: the server only writes to it unprompted when it closes it
(a restart, an administrator's terminate, an idle timeout: an error message, then end of file).
So a socket with nothing to read is usable; one with something to read gets Django's own check,
which then fails and reconnects. A connection psycopg already knows is broken fails at once.

It overrides DatabaseWrapper.is_usable, which Django documents nowhere:
tests/test_private_overrides.py fails when it changes, STOCK_DB_BACKEND=1 selects Django's own
backend, and bench/bench_overrides.py measures what it saves.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or getattr(connection, "broken", False):
            return False
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable or bool(super().is_usable())
