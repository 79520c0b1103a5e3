from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# pg_trgm needs three characters to narrow a search: a one- or two-character term (退款, 花) has no
# trigram, so PostgreSQL read tickets newest first until a page filled. Like Lucene's CJKAnalyzer,
# index every character and every pair of neighbouring characters instead: a term of one or two
# characters occurs in a text exactly when it is one of the text's grams, so GIN answers
# `cx_search_grams(UPPER(body)) @> ARRAY[UPPER(term)]` (console.lists.search_rows) from the index.
# The expressions match icontains' UPPER(col), so the same case rules apply. Repeated grams are
# left in the array: GIN keeps each key once, and a sort to remove them costs more than the rest of
# the function. SQLite scans.
GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION cx_search_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT string_to_array(value, NULL)
        || ARRAY(SELECT substr(value, position, 2) FROM generate_series(1, length(value) - 1) AS position)
$$
"""
GRAMS_INDEXES = [
    ("ticket_body_grams", "tickets_ticket", "body"),
    ("shopper_name_grams", "tickets_shopper", "name"),
    ("shopper_phone_grams", "tickets_shopper", "phone"),
    ("shopper_email_grams", "tickets_shopper", "email"),
]


def create_grams_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(GRAMS_FUNCTION)
    for name, table, column in GRAMS_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (cx_search_grams(UPPER({column}::text)))"
        )


def drop_grams_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in GRAMS_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS cx_search_grams(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0008_proactive_channel"),
    ]

    operations = [
        migrations.RunPython(create_grams_indexes, drop_grams_indexes),
    ]
