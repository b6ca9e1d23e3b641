"""Fixture data of the fake X/Twitter platform, read once from ``data/`` and ``tests/fixtures/media``.

What each file is and how it was made is in ``data/README.md``. Bodies are kept as the exact text
of the files (so the real samples are served byte for byte) with ``{BASE}`` standing for the
server's base URL; :func:`render` fills it in when a body is served.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
MEDIA_DIR = Path(__file__).parent.parent / "fixtures" / "media"
BASE_PLACEHOLDER = "{BASE}"


def _json(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _bodies(folder: str) -> dict[str, str]:
    """``data/<folder>/<id>.json`` → {id: raw text}."""
    return {
        path.stem: path.read_text(encoding="utf-8")
        for path in sorted((DATA_DIR / folder).glob("*.json"))
    }


CASES: dict[str, Any] = _json("cases.json")
TOKENS: dict[str, str] = _json("tokens.json")
"""Correct syndication token of every fixture id, computed once with node (see data/README.md)."""

TWEETS: dict[str, str] = CASES["tweets"]
"""Posts every route knows: photo, quote, text, video, seed (name → id)."""
SYNDICATION_CASES: dict[str, str] = CASES["syndication_cases"]
"""Ids that only exercise syndication outcomes (name → id)."""
SEED_ID: str = TWEETS["seed"]
SEED_PIC_CODE = "sto5JNQDWw"
TCO_TWO_HOP = "TwoHopSeed"
TCO_LOOP = ("LoopAaaaaa", "LoopBbbbbb")

SYNDICATION = _bodies("syndication")
SYNDICATION_ERRORS: dict[str, dict[str, Any]] = CASES["syndication_errors"]
OEMBED = _bodies("oembed")
FXTWITTER = _bodies("fxtwitter")
MEDIA_LINKS: dict[str, str] = CASES["media_links"]
"""pic.twitter.com codes; t.co answers the same code with the same target."""
TCO_LINKS: dict[str, str] = {**MEDIA_LINKS, **CASES["tco_links"]}

MEDIA_KINDS: dict[str, tuple[str, str, str]] = {
    # kind: (Content-Type sent, file for ?name=orig, file for any other or no ?name=)
    "photo": ("image/jpeg", "photo-orig.jpg", "photo-small.jpg"),
    "photo-untyped": ("application/octet-stream", "photo-orig.jpg", "photo-small.jpg"),
    "video-best": ("video/mp4", "video-best.mp4", "video-best.mp4"),
    "video-low": ("video/mp4", "video-low.mp4", "video-low.mp4"),
}
MEDIA_PATHS: dict[str, str] = CASES["media"]
"""Path on the fake (``pbs.twimg.com/X`` → ``/X``, ``video.twimg.com/X`` → ``/video/X``) → kind."""
MEDIA_BYTES: dict[str, bytes] = {
    name: (MEDIA_DIR / name).read_bytes()
    for name in {file for _, orig, other in MEDIA_KINDS.values() for file in (orig, other)}
}


def render(text: str, base_url: str) -> str:
    return text.replace(BASE_PLACEHOLDER, base_url)
