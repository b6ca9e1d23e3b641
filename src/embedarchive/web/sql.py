"""Rows as dicts from a plain ``sqlite3`` connection (Datasette hands the pages one)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any


def rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def one(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
    found = rows(conn, sql, params)
    return found[0] if found else None


def loads(value: Any) -> Any:
    """JSON text decoded; anything else (or text that is not JSON) as it is."""
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value
