"""After rows are copied with their ids, the next id must follow them.

SQLite takes the next rowid after the largest one by itself; PostgreSQL
keeps a sequence per serial/identity column, which a copy must move on."""

from __future__ import annotations

from sqlalchemy import Connection, Integer, Table, text


def reset_sequences(conn: Connection, tables: list[Table]) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()
            if sequence:
                conn.execute(text(
                    f'SELECT setval(:s, coalesce((SELECT max("{column.name}") FROM "{table.name}"), 0) + 1, false)'),
                    {"s": sequence})
