"""Fake Mastodon: ``/mastodon/api/v1/statuses/<id>`` (the ``mastodon_api_url`` mirror) and files.

One fake answers for every instance: with ``mastodon_api_url`` set, embedarchive sends each
instance's API calls here. Shapes: ``data/mastodon/README.md``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .reply import Headers, Params, Reply, View, json_reply, media_file

DATA = Path(__file__).parent / "data" / "mastodon"
CASES: dict[str, Any] = json.loads((DATA / "cases.json").read_text(encoding="utf-8"))
STATUSES: dict[str, str] = CASES["statuses"]
"""Statuses the API shows (name → id)."""
ERROR_CASES: dict[str, str] = CASES["cases"]
BODIES = {p.stem: p.read_text("utf-8") for p in (DATA / "statuses").glob("*.json")}
#: Headers mastodon.social sends with API answers.
_API_HEADERS = (
    ("cache-control", "max-age=0, public"),
    ("vary", "Accept, Origin"),
    ("x-ratelimit-limit", "300"),
    ("x-ratelimit-remaining", "299"),
)


def status(m: re.Match[str], _p: Params, _h: Headers, base: str) -> Reply:
    error = CASES["errors"].get(m["id"])
    if error is not None:
        return json_reply(error["status"], (DATA / error["file"]).read_text("utf-8"))
    body = BODIES.get(m["id"])
    if body is None:
        return json_reply(404, (DATA / "error-404.json").read_text("utf-8"), *_API_HEADERS)
    return json_reply(200, body.replace("{BASE}", base), *_API_HEADERS)


def files(m: re.Match[str], _p: Params, _h: Headers, _base: str) -> Reply:
    name = CASES["media"].get(m["path"])
    return media_file(name) if name else Reply(404, b"", None)


ROUTES: tuple[tuple[re.Pattern[str], View], ...] = (
    (re.compile(r"/mastodon/api/v1/statuses/(?P<id>\d+)"), status),
    (re.compile(r"/mastodon-files/(?P<path>[A-Za-z0-9_./-]+)"), files),
)


def settings_overrides(base: str) -> dict[str, str]:
    return {"mastodon_api_url": f"{base}/mastodon"}
