"""The intake write: shopper (upserted), ticket and first message, in one round trip.

Intake is the busiest write in the product. Through the ORM it took five round trips (shopper
read, ticket insert, message insert, BEGIN, COMMIT) and most of its CPU went to building those
statements. Here the statements are built once per process from the models' own fields (a field
added to a model is written like any other, with its default) and, on PostgreSQL, sent as one
statement whose data-modifying CTEs chain the three inserts; it commits by itself. Backends
without data-modifying CTEs (SQLite, embedded mode) run the same three statements in a
transaction.

The shopper merge rule (one place): fresh contact details win; blanks never erase what we know;
the language is always this inquiry's.
"""

from contextlib import nullcontext
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Model

from core.bulk import execute, insert_columns, insert_statement, insert_values
from tickets.models import Message, Shopper, Ticket

# Filled from the statement before: never taken from the instance.
_LINKED = {"shopper", "ticket"}
_LINK = object()


def _params(obj: Model) -> list[Any]:
    """The instance's values in column order; _LINK where the linked id goes."""
    conn = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the per-access proxy
    values = insert_values(obj, conn)
    return [_LINK if f.name in _LINKED else v for f, v in zip(insert_columns(type(obj)), values, strict=True)]


def _link(params: list[Any], value: Any) -> list[Any]:
    return [value if p is _LINK else p for p in params]


def _unlinked(params: list[Any]) -> list[Any]:
    return [p for p in params if p is not _LINK]


@cache
def _statements(vendor: str) -> tuple[str, str, str]:
    """(shopper upsert, ticket insert, message insert) for a backend; in the ticket and message
    inserts the linked id's place is {link}."""
    conn = connections[DEFAULT_DB_ALIAS]
    qn = conn.ops.quote_name

    def insert(model: type[Model]) -> str:
        return insert_statement(model, conn, lambda f: "{link}" if f.name in _LINKED else "%s")

    table = qn(Shopper._meta.db_table)
    merge = ", ".join(
        [
            *(f"{qn(c)} = COALESCE(NULLIF(EXCLUDED.{qn(c)}, ''), {table}.{qn(c)})" for c in ("name", "phone", "email")),
            f"{qn('language')} = EXCLUDED.{qn('language')}",
            f"{qn('time_zone')} = CASE WHEN %s THEN EXCLUDED.{qn('time_zone')} ELSE {table}.{qn('time_zone')} END",
        ]
    )
    shopper = f"{insert(Shopper)} ON CONFLICT ({qn('external_id')}) DO UPDATE SET {merge} RETURNING {qn('id')}"
    ticket = f"{insert(Ticket)} RETURNING {qn('id')}"
    message = f"{insert(Message)} RETURNING {qn('id')}"
    return shopper, ticket, message


def insert_inquiry(
    shopper: Shopper, ticket: Ticket, message: Message, *, time_zone_given: bool, savepoint: bool = True
) -> None:
    """Write the three rows, committed together (sets their ids and links). Raises
    IntegrityError, having written nothing, when the ticket's idempotency key is taken.

    Outside a transaction the write commits at once; inside one it runs in a savepoint, unless
    the caller's transaction ends with any IntegrityError anyway (savepoint=False: two round
    trips fewer).
    """
    upsert, insert_ticket, insert_message = _statements(connection.vendor)
    shopper_params = [*_params(shopper), time_zone_given]
    ticket_params, message_params = _params(ticket), _params(message)
    if connection.vendor == "postgresql":
        sql = (
            f"WITH s AS ({upsert}), "
            f"t AS ({insert_ticket.format(link='(SELECT id FROM s)')}), "
            f"m AS ({insert_message.format(link='(SELECT id FROM t)')}) "
            "SELECT (SELECT id FROM s), (SELECT id FROM t), (SELECT id FROM m)"
        )
        params = [*shopper_params, *_unlinked(ticket_params), *_unlinked(message_params)]
        with (
            transaction.atomic(savepoint=savepoint) if connection.in_atomic_block else nullcontext(),
            execute(connection, sql, params) as cursor,
        ):
            shopper.id, ticket.id, message.id = cursor.fetchone()
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(upsert, shopper_params)
            (shopper.id,) = cursor.fetchone()
            cursor.execute(insert_ticket.format(link="%s"), _link(ticket_params, shopper.id))
            (ticket.id,) = cursor.fetchone()
            cursor.execute(insert_message.format(link="%s"), _link(message_params, ticket.id))
            (message.id,) = cursor.fetchone()
    ticket.shopper_id = shopper.id  # read lazily: the stored row may hold merged details
    message.ticket = ticket
