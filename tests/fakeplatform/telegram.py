"""Fake Telegram: the post widget page (``t.me/<channel>/<id>?embed=1``) and its CDN files.

NOT SHAPED ON A REAL CAPTURE: none exists in ``/work/shared/real-samples/``. The pages in
``data/telegram/pages/`` are synthesised from the documented facts; see
``data/telegram/README.md`` for what is known and what is assumed (the error page).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .reply import HTML_TYPE, Headers, Params, Reply, View, media_file

DATA = Path(__file__).parent / "data" / "telegram"
CASES: dict[str, Any] = json.loads((DATA / "cases.json").read_text(encoding="utf-8"))
POSTS: dict[str, str] = CASES["posts"]
"""Posts the widget shows (name → ``channel/id``)."""
ERROR_CASES: dict[str, str] = CASES["cases"]
"""Posts the widget shows an error for (name → ``channel/id``)."""
PAGES = {p.stem.replace("-", "/", 1): p.read_text("utf-8") for p in (DATA / "pages").glob("*.html")}


def widget(m: re.Match[str], params: Params, _h: Headers, base: str) -> Reply:
    """The widget page; without ``embed=1`` the plain post preview, which has no message."""
    post = f"{m['channel']}/{m['msg']}"
    if params.get("embed") != "1":
        page = PAGES["_preview"].replace("{CHANNEL}", m["channel"]).replace("{MSG}", m["msg"])
        return Reply(200, page.encode("utf-8"), HTML_TYPE)
    page = next((text for key, text in PAGES.items() if key.lower() == post.lower()), None)
    if page is None:
        error = CASES["errors"].get(post, CASES["default_error"])
        page = PAGES["_error"].replace("{ERROR}", error)
    return Reply(200, page.replace("{BASE}", base).encode("utf-8"), HTML_TYPE)


def cdn(m: re.Match[str], _p: Params, _h: Headers, _base: str) -> Reply:
    name = CASES["media"].get(m["name"])
    return media_file(name) if name else Reply(404, b"", None)


ROUTES: tuple[tuple[re.Pattern[str], View], ...] = (
    (re.compile(r"/telegram/(?P<channel>[A-Za-z0-9_]+)/(?P<msg>\d+)"), widget),
    (re.compile(r"/telegram-cdn/file/(?P<name>[A-Za-z0-9_.-]+)"), cdn),
)


def settings_overrides(base: str) -> dict[str, str]:
    return {"telegram_url": f"{base}/telegram"}
