"""Write many rows at once, for the routing hot path.

Django's bulk_update builds one CASE WHEN per field and row, and resolving those expressions
cost ~75% of routing a ticket (measured with bench/bench_stages.py), and bulk_create compiles a
multi-row INSERT value by value through the ORM. Here one plain statement text is executed for
every row with executemany: psycopg sends the whole batch in one pipelined round trip; SQLite
runs it in-process. Values are prepared by each field as save() would (one rule, also used by
tickets.intake_write).
"""

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, cast

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model


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


def _execute_many(model: type[Model], sql: Callable[[BaseDatabaseWrapper], str], rows: Callable[..., list]) -> None:
    conn = connections[router.db_for_write(model)]
    with conn.cursor() as cursor:
        cursor.executemany(sql(conn), rows(conn))


def update_fields(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """UPDATE `fields` of each object (same model) to its in-memory values, by primary key."""
    if not objs:
        return
    meta = type(objs[0])._meta
    assert meta.pk is not None
    pk_column = str(meta.pk.column)
    columns = [cast(Field, meta.get_field(name)) for name in fields]

    def sql(conn: BaseDatabaseWrapper) -> str:
        qn = conn.ops.quote_name
        sets = ", ".join(f"{qn(str(f.column))} = %s" for f in columns)
        return f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(pk_column)} = %s"

    def rows(conn: BaseDatabaseWrapper) -> list[list[Any]]:
        return [[*(f.get_db_prep_save(getattr(obj, f.attname), conn) for f in columns), obj.pk] for obj in objs]

    _execute_many(type(objs[0]), sql, rows)


def insert_rows(objs: Sequence[Model]) -> None:
    """INSERT the objects (same model) in one pipelined executemany, without reading their ids
    back (for log-like rows nobody reads in the same transaction: decisions, assignments)."""
    if not objs:
        return
    model = type(objs[0])
    _execute_many(
        model, lambda conn: insert_statement(model, conn), lambda conn: [insert_values(obj, conn) for obj in objs]
    )
