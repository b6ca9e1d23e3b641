"""JSON that came from outside (platforms, yt-dlp, the Wayback Machine, bundles, manifests on
disk), read and written again with the two failures it brings: ``json.loads`` raises
``RecursionError``, not ``ValueError``, on a body nested a thousand levels deep, which a hostile
server sends in a few kilobytes; and a lone UTF-16 surrogate (``"\\ud800"``, a broken emoji)
reads into a ``str`` that UTF-8, SQLite and a WARC refuse to take."""

from __future__ import annotations

import json
from typing import Any


def load_json(data: bytes | str) -> Any:
    """``json.loads``, where every malformed input is a ``ValueError``."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def dump_json(value: Any, **options: Any) -> str:
    """``json.dumps`` as readable text (``ensure_ascii=False``), unless the value holds a
    lone surrogate: then ``\\u`` escapes, which keep it exactly and encode as UTF-8."""
    text = json.dumps(value, ensure_ascii=False, **options)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, **options)
    return text


__all__ = ["dump_json", "load_json"]
