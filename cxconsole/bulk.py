"""Write many rows at once, for the routing hot path.

Django's bulk_update builds one CASE WHEN per field and row, and resolving those expressions
cost ~75% of routing a ticket (measured with bench/bench_stages.py), and bulk_create compiles a
multi-row INSERT value by value through the ORM. Here one plain statement text is executed for
every row with executemany: psycopg sends the whole batch in one pipelined round
trip; SQLite runs it in-process. Values are prepared by each field as save() would.
"""

from collections.abc import Sequence
from typing import cast

from django.db import connections, router
from django.db.models import Field, Model


def update_fields(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """UPDATE `fields` of each object (same model) to its in-memory values, by primary key."""
    if not objs:
        return
    model = type(objs[0])
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    meta = model._meta
    columns = [cast(Field, meta.get_field(name)) for name in fields]
    assert meta.pk is not None
    sql = (
        f"UPDATE {qn(meta.db_table)} SET {', '.join(f'{qn(str(f.column))} = %s' for f in columns)} "
        f"WHERE {qn(str(meta.pk.column))} = %s"
    )
    rows = [[*(f.get_db_prep_save(getattr(obj, f.attname), conn) for f in columns), obj.pk] for obj in objs]
    with conn.cursor() as cursor:
        cursor.executemany(sql, rows)


def insert_rows(objs: Sequence[Model]) -> None:
    """INSERT the objects (same model) in one pipelined executemany, without reading their ids
    back (for log-like rows nobody reads in the same transaction: decisions, assignments).
    Values are prepared by each field as save() would, defaults and auto_now included."""
    if not objs:
        return
    model = type(objs[0])
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    meta = model._meta
    columns = [f for f in meta.concrete_fields if not (f.primary_key and f.auto_created)]
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(str(f.column)) for f in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    rows = [[f.get_db_prep_save(f.pre_save(obj, add=True), conn) for f in columns] for obj in objs]
    with conn.cursor() as cursor:
        cursor.executemany(sql, rows)
