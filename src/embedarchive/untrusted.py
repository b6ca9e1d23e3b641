"""Reading JSON that came from outside (platforms, the Wayback Machine, bundles, manifests on
disk) with one failure to handle: ``json.loads`` raises ``RecursionError``, not ``ValueError``,
on a body nested a thousand levels deep, which a hostile server sends in a few kilobytes."""

from __future__ import annotations

import json
from typing import Any


def load_json(data: bytes | str) -> Any:
    """``json.loads``, where every malformed input is a ``ValueError``."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


__all__ = ["load_json"]
