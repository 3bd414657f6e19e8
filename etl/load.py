"""Write frames into the warehouse inside the caller's transaction.

PostgreSQL gets COPY (CSV written by pandas in C, parsed by the server);
SQLite gets executemany. Nothing here commits: the run commits once, so a
failure part-way leaves the previous warehouse as it was.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, delete, text

from etl.schema import WAREHOUSE_SCHEMA

# Bind parameters per IN list: well under SQLite's and PostgreSQL's limits.
CHUNK = 900
NULL = r"\N"


def is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def clear(connection: Connection, table: Table) -> None:
    if is_postgresql(connection):
        connection.execute(text(f'TRUNCATE "{WAREHOUSE_SCHEMA}"."{table.name}"'))
    else:
        connection.execute(delete(table))


def delete_where_in(connection: Connection, table: Table, column: str, values: Collection[object]) -> None:
    for chunk in chunks(sorted(values)):
        connection.execute(delete(table).where(table.c[column].in_(chunk)))


def _prepared(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    columns = [c.name for c in table.columns if c.name in frame.columns]
    missing = [c.name for c in table.columns if c.name not in frame.columns and c.autoincrement is not True]
    if missing and table.name != "etl_run":
        raise ValueError(f"{table.name}: the frame lacks {', '.join(missing)}")
    return frame[columns]


def insert(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Append `frame`'s rows; returns how many."""
    if frame.empty:
        return 0
    frame = _prepared(table, frame)
    if is_postgresql(connection):
        _copy(connection, table, frame)
    else:
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        for chunk in chunks(records, 5000):
            connection.execute(table.insert(), chunk)
    return len(frame)


def _copy(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    # Booleans as t/f and whole numbers without a trailing .0 (an Int64 column
    # with gaps would otherwise be written as floats).
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype == bool:
            out[name] = np.where(column, "t", "f")
        elif pd.api.types.is_float_dtype(column) and table.c[name].type.python_type is int:
            out[name] = column.astype("Int64")
    out.to_csv(buffer, index=False, header=False, na_rep=NULL)
    columns = ", ".join(f'"{name}"' for name in out.columns)
    statement = (
        f'COPY "{WAREHOUSE_SCHEMA}"."{table.name}" ({columns}) FROM STDIN WITH (FORMAT csv, NULL \'{NULL}\')'
    )
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        copy.write(buffer.getvalue())
