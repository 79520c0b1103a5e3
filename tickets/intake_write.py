"""The intake write: shopper (upserted), ticket and first message, in one round trip.

Intake is the busiest write in the product. Through the ORM it took five round trips (shopper
read, ticket insert, message insert, BEGIN, COMMIT) and most of its CPU went to building those
statements. Here the statements are built once per process from the models' own fields (a field
added to a model is written like any other, with its default, as save() would store it) and, on
PostgreSQL, sent as one statement whose data-modifying CTEs chain the three inserts; it commits by
itself. Backends without data-modifying CTEs (SQLite, embedded mode) run the same three
statements in a transaction. The statement's text is the same for every inquiry, so psycopg
parses it once per process.

Domain events of the new ticket (ticket.created) ride in the same statement on PostgreSQL: the
outboxes that can hand their inserts over as CTEs (core.events.statement_parts) name the new ids
through STATEMENT_IDS, so recording them adds no round trip and they commit with the rows.

An inquiry that may join a ticket opened before the shopper wrote (tickets.services' joiner) brings
the joiner's lookup: on PostgreSQL it is the statement's first CTE, and the inserts read from it, so
a found ticket means nothing is written and the look costs no round trip of its own.

The shopper merge rule (one place): fresh contact details win; blanks never erase what we know;
the language is always this inquiry's.
"""

from collections.abc import Sequence
from contextlib import nullcontext
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Field, Model

from core.events import StatementPart
from tickets.models import Message, Shopper, Ticket

# Filled from the statement before: never taken from the instance.
_LINKED = {"shopper", "ticket"}
_LINK = object()
# The ids the PostgreSQL statement creates, as SQL inside it (core.events.StatementId names);
# NULL when it wrote nothing (a joiner's lookup found a ticket).
STATEMENT_IDS = {"ticket": "(SELECT id FROM t)", "message": "(SELECT id FROM m)"}
# A joiner's lookup: the SQL of one value (NULL: nothing to join) and its parameters.
Lookup = tuple[str, list[Any]]


@cache
def _columns(model: type[Model]) -> "tuple[Field[Any, Any], ...]":
    """The columns an INSERT of `model` writes: every concrete field but an auto-created key."""
    return tuple(f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created))


def _params(obj: Model) -> list[Any]:
    """The instance's values in column order, as save() would store them (defaults and auto_now
    included); _LINK where the linked id goes."""
    conn = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the per-access proxy
    return [
        _LINK if f.name in _LINKED else f.get_db_prep_save(f.pre_save(obj, add=True), conn) for f in _columns(type(obj))
    ]


def _link(params: list[Any], value: Any) -> list[Any]:
    return [value if p is _LINK else p for p in params]


def _unlinked(params: list[Any]) -> list[Any]:
    return [p for p in params if p is not _LINK]


@cache
def _statements(vendor: str) -> tuple[str, str, str]:
    """(shopper upsert, ticket insert, message insert) for a backend; in the ticket and message
    inserts the linked id's place is {link}. On PostgreSQL they are INSERT … SELECT: the shopper's
    row only when the lookup CTE j found nothing, the ticket's and message's FROM the CTE before
    ({link} is its id), so each writes a row only when the one before did."""
    conn = connections[DEFAULT_DB_ALIAS]
    qn = conn.ops.quote_name
    chained = vendor == "postgresql"

    def insert(model: type[Model], source: str) -> str:
        columns = _columns(model)
        values = ", ".join("{link}" if f.name in _LINKED else "%s" for f in columns)
        return (
            # Names from the model's own fields, quoted; every value is a parameter.
            f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(str(f.column)) for f in columns)}) "
            + (f"SELECT {values} {source}" if chained else f"VALUES ({values})")
        )

    table = qn(Shopper._meta.db_table)
    merge = ", ".join(
        [
            *(f"{qn(c)} = COALESCE(NULLIF(EXCLUDED.{qn(c)}, ''), {table}.{qn(c)})" for c in ("name", "phone", "email")),
            f"{qn('language')} = EXCLUDED.{qn('language')}",
            f"{qn('time_zone')} = CASE WHEN %s THEN EXCLUDED.{qn('time_zone')} ELSE {table}.{qn('time_zone')} END",
        ]
    )
    upsert = insert(Shopper, "WHERE (SELECT found FROM j) IS NULL")
    shopper = f"{upsert} ON CONFLICT ({qn('external_id')}) DO UPDATE SET {merge} RETURNING {qn('id')}"
    ticket = f"{insert(Ticket, 'FROM s')} RETURNING {qn('id')}"
    message = f"{insert(Message, 'FROM t')} RETURNING {qn('id')}"
    return shopper, ticket, message


def insert_inquiry(
    shopper: Shopper,
    ticket: Ticket,
    message: Message,
    *,
    time_zone_given: bool,
    savepoint: bool = True,
    parts: Sequence[StatementPart] = (),
    lookup: Lookup | None = None,
) -> int | None:
    """Write the three rows, committed together (sets their ids and links). Raises
    IntegrityError, having written nothing, when the ticket's idempotency key is taken.

    With a lookup, whose value is not NULL, nothing is written (no ids set, no parts, no hooks)
    and that value is returned: the inquiry joins the ticket it names. Otherwise returns None.

    Outside a transaction the write commits at once; inside one it runs in a savepoint, unless
    the caller's transaction ends with any IntegrityError anyway (savepoint=False: two round
    trips fewer). parts (PostgreSQL only) are further CTEs written by the same statement; their
    after_commit hooks run once it has committed.
    """
    upsert, insert_ticket, insert_message = _statements(connection.vendor)
    shopper_params = [*_params(shopper), time_zone_given]
    ticket_params, message_params = _params(ticket), _params(message)
    if connection.vendor == "postgresql":
        look, look_params = lookup or ("NULL::bigint", [])
        sql = (
            f"WITH j AS (SELECT ({look}) AS found), s AS ({upsert}), "  # noqa: S608  # our statements; values are parameters
            f"t AS ({insert_ticket.format(link='s.id')}), "
            f"m AS ({insert_message.format(link='t.id')}) "
            + "".join(f", {part.ctes}" for part in parts)
            + " SELECT (SELECT found FROM j), (SELECT id FROM s), (SELECT id FROM t), (SELECT id FROM m)"
        )
        params = [*look_params, *shopper_params, *_unlinked(ticket_params), *_unlinked(message_params)]
        params += [param for part in parts for param in part.params]
        with (
            transaction.atomic(savepoint=savepoint) if connection.in_atomic_block else nullcontext(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
            found, shopper_id, ticket_id, message_id = cursor.fetchone()
        if found is not None:
            return int(found)
        shopper.id, ticket.id, message.id = shopper_id, ticket_id, message_id
        for part in parts:
            if part.after_commit is not None:
                transaction.on_commit(part.after_commit, robust=True)  # at once when not in a transaction
    else:
        if parts:
            raise ValueError("Statement parts are PostgreSQL's; emit in a transaction elsewhere.")
        with transaction.atomic(), connection.cursor() as cursor:
            if lookup is not None:
                cursor.execute(f"SELECT ({lookup[0]})", lookup[1])  # the joiner's constant SQL
                (found,) = cursor.fetchone()
                if found is not None:
                    return int(found)
            cursor.execute(upsert, shopper_params)
            (shopper.id,) = cursor.fetchone()
            cursor.execute(insert_ticket.format(link="%s"), _link(ticket_params, shopper.id))
            (ticket.id,) = cursor.fetchone()
            cursor.execute(insert_message.format(link="%s"), _link(message_params, ticket.id))
            (message.id,) = cursor.fetchone()
    ticket.shopper_id = shopper.id  # read lazily: the stored row may hold merged details
    message.ticket = ticket
    return None
