"""Plain SQL for the rows a batch reads and writes per unit, on its one writer thread.

sqlite-utils' ``insert``, ``rows_where`` and ``get`` read ``sqlite_master`` on every call (is
it a view? does the table exist?), and it wraps each insert and each ``query`` in a savepoint:
several statements per row, which made a capture's bookkeeping cost more than its HTTP
requests (and every statement lets the other threads take the GIL from the writer).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import jsonify_if_needed

from ..errors import StoreError

#: The largest integer SQLite stores (a larger Python int is an OverflowError, not a miss).
INT64_MAX = 2**63 - 1
_ROW_ID = re.compile(r"[0-9]{1,19}")


def row_id(text: str) -> int | None:
    """``text`` as a row id when it is one: ASCII digits within SQLite's integers (``isdigit``
    also takes "²", which ``int`` refuses, and 23 digits overflow the query)."""
    if _ROW_ID.fullmatch(text) is None:
        return None
    value = int(text)
    return value if value <= INT64_MAX else None


def insert(db: Database, table: str, row: Mapping[str, Any]) -> int:
    """One INSERT of ``row`` (values JSON-encoded as sqlite-utils would); returns its id."""
    columns = ", ".join(f"[{c}]" for c in row)
    marks = ", ".join("?" for _ in row)
    cursor = db.execute(
        f"insert into [{table}] ({columns}) values ({marks})",
        [jsonify_if_needed(v) for v in row.values()],
    )
    if cursor.lastrowid is None:
        raise StoreError(f"insert into {table} returned no row id")
    return int(cursor.lastrowid)


def insert_all(db: Database, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows with the same columns, in one statement run for each."""
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f"[{c}]" for c in columns)
    marks = ", ".join("?" for _ in columns)
    db.conn.executemany(
        f"insert into [{table}] ({names}) values ({marks})",
        [[jsonify_if_needed(row[c]) for c in columns] for row in rows],
    )


def first(db: Database, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
    """The first row ``sql`` selects, as a dict of its columns (None when there is none)."""
    cursor = db.execute(sql, params)
    found = cursor.fetchone()
    if found is None:
        return None
    return dict(zip([c[0] for c in cursor.description], found, strict=True))


def rows(db: Database, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Every row ``sql`` selects, as dicts of their columns."""
    cursor = db.execute(sql, params)
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
