"""What every fake view returns, shared by the route modules (X/Twitter, Telegram, Bluesky, Mastodon)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
MEDIA_DIR = Path(__file__).parent.parent / "fixtures" / "media"
_MEDIA_TYPES = {".jpg": "image/jpeg", ".mp4": "video/mp4", ".mp3": "audio/mpeg"}


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


Params = Mapping[str, str]
Headers = Mapping[str, str]
View = Callable[[re.Match[str], Params, Headers, str], Reply]


def json_reply(status: int, text: str, *headers: tuple[str, str]) -> Reply:
    return Reply(status, text.encode("utf-8"), JSON_TYPE, headers)


def media_file(name: str, *headers: tuple[str, str], content_type: str | None = None) -> Reply:
    """A file of ``tests/fixtures/media`` with the type its extension says."""
    path = MEDIA_DIR / name
    return Reply(200, path.read_bytes(), content_type or _MEDIA_TYPES[path.suffix], headers)
