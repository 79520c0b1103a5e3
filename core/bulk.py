"""Read and write many rows at once, for the routing hot path.

Django's bulk_update builds one CASE WHEN per field and row, and resolving those expressions
cost ~75% of routing a ticket (measured with bench/bench_stages.py), and bulk_create compiles a
multi-row INSERT value by value through the ORM. Here a batch is one plain statement: a
multi-row INSERT, or an UPDATE joined to a VALUES list. (psycopg's executemany pipelines the rows
in one round trip but polls the socket while PostgreSQL works: its CPU time equals its wall time,
5x a single statement's for 30 rows, and under load it took the CPU PostgreSQL needed.) A
transaction's writes can go together in one round trip (write(): data-modifying CTEs), since
each round trip costs ~0.2 ms of CPU here. Values are prepared by each field as save() would
(one rule, also used by tickets.intake_write).

Parameters: psycopg's client-side binding (Django's default) parses every statement for its %s
placeholders and renders each value as a literal; it caches the parse only for statements under
4 KB and 50 parameters, and a batch statement is neither, so that parse cost ~0.9 ms for a
20-row insert (more than PostgreSQL spent on it). Writes here go through execute(): on
PostgreSQL the placeholders are numbered once ($1, $2, ...) by a plain split and the values are
sent apart from the text by psycopg's RawCursor (server-side binding, C dumpers), still through
Django's cursor wrapper, so query logging and counting see them. Executing a prepared write of 20
decisions and 20 ticket updates: 1.06 -> 0.33 ms of CPU (4 of each: 0.26 -> 0.21 ms).

Reads: compiling an ORM query costs ~0.5-0.9 ms of CPU here, more than running it, and a
dispatch run made four of them for a handful of tickets. select_rows keeps each statement's text
per process (built from the model's own fields, so a new field is read like any other) and
converts values with the fields' own database converters, as the ORM would.
"""

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)
# A selected column's position, the converters the ORM applies to it, and the expression they take.
Chain = tuple[int, list[Any], Any]


@cache
def insert_columns(model: type[Model]) -> tuple[Field, ...]:
    """The columns an INSERT of `model` writes: every concrete field but an auto-created key."""
    return tuple(f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created))


def insert_statement(
    model: type[Model], conn: BaseDatabaseWrapper, placeholder: Callable[[Field], str] = lambda field: "%s"
) -> str:
    columns = insert_columns(model)
    qn = conn.ops.quote_name
    return (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(str(f.column)) for f in columns)}) "
        f"VALUES ({', '.join(placeholder(f) for f in columns)})"
    )


def insert_values(obj: Model, conn: BaseDatabaseWrapper) -> list[Any]:
    """The object's values in insert_columns order, as save() would store them (defaults and
    auto_now included)."""
    return [f.get_db_prep_save(f.pre_save(obj, add=True), conn) for f in insert_columns(type(obj))]


# Rows per statement: well inside every backend's limit on parameters (SQLite: 32,766).
ROWS_PER_STATEMENT = 500


@dataclass(frozen=True)
class Statement:
    """One write: its SQL and parameters; `many` runs the SQL once per parameter row
    (executemany), which only the in-process backend (SQLite) is given."""

    sql: str
    params: list[Any]
    many: bool = False


def update_statements(objs: Sequence[Model], fields: Sequence[str]) -> list[Statement]:
    """UPDATE `fields` of each object (same model) to its in-memory values, by primary key.

    PostgreSQL: one statement per ROWS_PER_STATEMENT rows, joining a VALUES list (each value
    cast to its column's type, so a column of NULLs is still typed). Elsewhere (SQLite, in
    process): one prepared statement run for every row.
    """
    if not objs:
        return []
    model = type(objs[0])
    meta = model._meta
    assert meta.pk is not None
    pk = meta.pk
    columns = [cast(Field, meta.get_field(name)) for name in fields]
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    rows = [[obj.pk, *(f.get_db_prep_save(getattr(obj, f.attname), conn) for f in columns)] for obj in objs]
    table = qn(meta.db_table)
    if conn.vendor != "postgresql":
        sets = ", ".join(f"{qn(str(f.column))} = %s" for f in columns)
        sql = f"UPDATE {table} SET {sets} WHERE {qn(str(pk.column))} = %s"
        return [Statement(sql, [[*row[1:], row[0]] for row in rows], many=True)]
    names = [f"c{i}" for i in range(len(columns) + 1)]
    sets = ", ".join(
        f"{qn(str(f.column))} = v.{n}::{f.cast_db_type(conn)}" for f, n in zip(columns, names[1:], strict=True)
    )
    return [
        Statement(
            f"UPDATE {table} SET {sets} FROM (VALUES {_placeholders(len(names), len(chunk))})"
            f" AS v ({', '.join(names)}) WHERE {table}.{qn(str(pk.column))} = v.c0::{pk.cast_db_type(conn)}",
            [value for row in chunk for value in row],
        )
        for chunk in _chunks(rows)
    ]


def insert_statements(objs: Sequence[Model]) -> list[Statement]:
    """INSERT the objects (same model) with multi-row VALUES, without reading their ids back
    (for log-like rows nobody reads in the same transaction: decisions, assignments)."""
    if not objs:
        return []
    model = type(objs[0])
    conn = connections[router.db_for_write(model)]
    head, _, row = insert_statement(model, conn).partition(" VALUES ")
    return [
        Statement(f"{head} VALUES {', '.join([row] * len(chunk))}", [v for values in chunk for v in values])
        for chunk in _chunks([insert_values(obj, conn) for obj in objs])
    ]


def write(*batches: list[Statement]) -> None:
    """Run the statements, in order, in one round trip where the backend allows: on PostgreSQL
    as the data-modifying CTEs of one statement (they share one snapshot, so no two of them may
    touch the same row); elsewhere one after another. Every statement runs to completion."""
    statements = [statement for batch in batches for statement in batch]
    if not statements:
        return
    conn = connections[DEFAULT_DB_ALIAS]  # one database holds every table
    if conn.vendor == "postgresql":
        if len(statements) == 1:
            sql, params = statements[0].sql, statements[0].params
        else:
            ctes = ", ".join(f"w{i} AS ({statement.sql})" for i, statement in enumerate(statements))
            sql, params = f"WITH {ctes} SELECT 1", [p for statement in statements for p in statement.params]
        with execute(conn, sql, params):
            return
    with conn.cursor() as cursor:
        for statement in statements:
            if statement.many:
                cursor.executemany(statement.sql, statement.params)
            else:
                cursor.execute(statement.sql, statement.params)


def execute(conn: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> AbstractContextManager[Any]:
    """Run one statement whose only placeholders are %s on PostgreSQL, the values apart from the
    text (see the module's docstring); returns the (Django-wrapped) cursor, to fetch from and
    close (`with execute(...) as cursor:`). Other backends use their cursor as usual."""
    assert conn.vendor == "postgresql", "execute() is the PostgreSQL path"
    cursor = _raw_cursor(conn)
    try:
        cursor.execute(_numbered(sql), list(params))
    except BaseException:
        cursor.close()
        raise
    return cast(AbstractContextManager[Any], cursor)


def _raw_cursor(conn: BaseDatabaseWrapper) -> Any:
    """A psycopg RawCursor ($n placeholders, no client-side parsing) on Django's connection,
    wrapped as connection.cursor() wraps its own (health check, thread check, query logging)."""
    import psycopg  # only with PostgreSQL; the embedded mode does not need it

    conn.close_if_health_check_failed()
    conn.ensure_connection()
    conn.validate_thread_sharing()
    with conn.wrap_database_errors:
        raw: Any = psycopg.RawCursor(conn.connection)  # the stubs expect Django's wrapper here
    return conn.make_debug_cursor(raw) if conn.queries_logged else conn.make_cursor(raw)


def _numbered(sql: str) -> str:
    """%s placeholders as $1, $2, ... (a split and a join: ~20 us for 140 placeholders)."""
    assert "%%" not in sql, "statements for execute() carry %s placeholders and no literal %"
    head, *rest = sql.split("%s")
    return head + "".join(f"${i}{part}" for i, part in enumerate(rest, 1))


def _placeholders(columns: int, rows: int) -> str:
    return ", ".join(["(" + ", ".join(["%s"] * columns) + ")"] * rows)


def _chunks(rows: list[list[Any]]) -> list[list[list[Any]]]:
    return [rows[i : i + ROWS_PER_STATEMENT] for i in range(0, len(rows), ROWS_PER_STATEMENT)]


def column_names(model: type[Model], conn: BaseDatabaseWrapper) -> dict[str, str]:
    """Quoted column names by field name and attname ("queue" and "queue_id" alike), for
    statement templates such as "{queue} = %s AND {status} = %s"."""
    qn = conn.ops.quote_name
    names = {}
    for field in model._meta.concrete_fields:
        names[field.name] = names[field.attname] = qn(str(field.column))
    return names


def converters(fields: Iterable[Field], conn: BaseDatabaseWrapper) -> list[Chain]:
    """Per selected column (by position), the converters the ORM would apply to its value."""
    found: list[Chain] = []
    for index, field in enumerate(fields):
        col = field.get_col(field.model._meta.db_table)
        chain = conn.ops.get_db_converters(col) + field.get_db_converters(conn)
        if chain:
            found.append((index, chain, col))
    return found


def convert_rows(rows: Iterable[Sequence[Any]], chains: list[Chain], conn: BaseDatabaseWrapper) -> list[list[Any]]:
    converted = []
    for row in rows:
        values = list(row)
        for index, chain, col in chains:
            for convert in chain:
                values[index] = convert(values[index], col, conn)
        converted.append(values)
    return converted


@cache
def _select_statement(
    model: type[Model], alias: str, only: tuple[str, ...], where: str, order_by: str, limit: int | None, lock: bool
) -> tuple[str, tuple[str, ...], list[Chain]]:
    conn = connections[alias]
    fields = [_field(model, name) for name in only] if only else list(model._meta.concrete_fields)
    names = column_names(model, conn)
    table = conn.ops.quote_name(model._meta.db_table)
    sql = f"SELECT {', '.join(names[f.attname] for f in fields)} FROM {table} WHERE {where.format(**names)}"
    if order_by:
        sql += f" ORDER BY {order_by.format(**names)}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    if lock:
        sql += lock_clause(conn, table, skip_locked=True)
    return sql, tuple(f.attname for f in fields), converters(fields, conn)


def lock_clause(conn: BaseDatabaseWrapper, table: str, *, skip_locked: bool = False) -> str:
    """' FOR UPDATE OF <table> [SKIP LOCKED]' as far as the backend has it (SQLite: nothing; its
    single writer serializes)."""
    if not conn.features.has_select_for_update:
        return ""
    clause = f" FOR UPDATE OF {table}" if conn.features.has_select_for_update_of else " FOR UPDATE"
    if skip_locked and conn.features.has_select_for_update_skip_locked:
        clause += " SKIP LOCKED"
    return clause


def _run_select(
    model: type[Model],
    only: tuple[str, ...],
    where: str,
    params: Sequence[Any],
    order_by: str,
    limit: int | None,
    lock: bool,
) -> tuple[str, tuple[str, ...], list[list[Any]]]:
    alias = router.db_for_write(model) if lock else router.db_for_read(model)
    conn = connections[alias]
    sql, attnames, chains = _select_statement(model, alias, only, where, order_by, limit, lock)
    with conn.cursor() as cursor:
        cursor.execute(sql, list(params))
        return alias, attnames, convert_rows(cursor.fetchall(), chains, conn)


def select_rows(
    model: type[M], *, where: str, params: Sequence[Any], order_by: str, limit: int, skip_locked: bool = False
) -> list[M]:
    """Instances of `model` from one statement whose text is built once per shape.

    `where` and `order_by` name columns as {field}; params are database values (see
    prep_value). With skip_locked the rows are locked (FOR UPDATE OF the table SKIP LOCKED),
    passing over rows another transaction holds, where the backend has it (SQLite has neither:
    its single writer serializes). Instances are built as the ORM builds them.
    """
    alias, attnames, rows = _run_select(model, (), where, params, order_by, limit, skip_locked)
    return [cast(M, model.from_db(alias, attnames, values)) for values in rows]


def select_values(model: type[Model], fields: Sequence[str], *, where: str, params: Sequence[Any]) -> list[list[Any]]:
    """Rows of the named fields' values (converted as the ORM would), like values_list()."""
    return _run_select(model, tuple(fields), where, params, "", None, False)[2]


def prep_value(model: type[Model], field: str, value: Any) -> Any:
    """A value as the database takes it in a WHERE clause on that field (datetimes on SQLite)."""
    return _field(model, field).get_db_prep_value(value, connections[router.db_for_read(model)])


def _field(model: type[Model], name: str) -> Field:
    return cast(Field, model._meta.get_field(name))
