"""Stage 3: detections → targets. Short links are expanded hop by hop, every hop recorded.

Hops are followed by hand (not by the HTTP client) so expansion stops as soon as a hop
names a known post: the post's own page is never requested, and a configured short-link
endpoint (a mirror, or a test server) is used for every short-link hop.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

from .capture.http import Http, Recorder
from .errors import EmbedArchiveError, FetchError
from .models import Detection, Resolution, Target
from .platforms import Platform, match_url

_META_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv=["']?refresh["']?[^>]*?url=([^"'>]+)""", re.IGNORECASE
)
_LOCATION_REPLACE = re.compile(r"""location\.replace\(\s*["']([^"']+)["']""")


def _refresh_target(body: bytes) -> str | None:
    text = body[:65536].decode("utf-8", "replace")
    m = _META_REFRESH.search(text) or _LOCATION_REPLACE.search(text)
    if not m:
        return None
    return html.unescape(m.group(1)).replace("\\/", "/").strip()


def _short_link_url(link: str, registry: tuple[Platform, ...], http: Http) -> str | None:
    for platform in registry:
        if platform.is_short_link(link):
            return platform.short_link_request_url(link, http.settings)
    return None


def expand(
    link: str, http: Http, recorder: Recorder, registry: tuple[Platform, ...]
) -> tuple[Target | None, tuple[str, ...]]:
    """Follow a short link until it names a post. Returns (target or None, hops visited)."""
    hops: list[str] = []
    seen: set[str] = set()
    current = link
    for _ in range(http.settings.max_redirects + 1):
        target = match_url(current, registry)
        if target is not None:
            return target, tuple(hops)
        request_url = _short_link_url(current, registry, http) or current
        if request_url in seen:
            raise FetchError(f"redirect loop expanding {link}", retryable=False)
        seen.add(request_url)
        hops.append(request_url)
        got = http.get(
            request_url,
            recorder,
            "resolve",
            follow_redirects=False,
            max_bytes=http.settings.max_json_bytes,
        )
        location = next((v for k, v in got.headers if k.lower() == "location"), None)
        if 300 <= got.status < 400 and location:
            current = urljoin(request_url, location)
        elif got.status == 200 and (refresh := _refresh_target(got.body)):
            current = urljoin(request_url, refresh)
        elif got.status == 404:
            return None, tuple(hops)
        elif got.status >= 400:
            raise FetchError(
                f"expanding {link} answered HTTP {got.status}",
                retryable=got.status >= 500 or got.status == 429,
            )
        else:
            return None, tuple(hops)
    raise FetchError(f"too many hops expanding {link}", retryable=False)


def resolve(
    detection: Detection, http: Http | None, recorder: Recorder, registry: tuple[Platform, ...]
) -> Resolution:
    """Never invents an id: with no usable link the detection stays ``unresolved``."""
    if detection.id and detection.url:
        return Resolution(
            "direct", Target(detection.platform, detection.id, detection.url, detection.kind)
        )
    short = (
        [link for link in detection.links if _short_link_url(link, registry, http) is not None]
        if http
        else []
    )
    for link in detection.links:
        target = match_url(link, registry)
        if target is not None:
            return Resolution("resolved", target, (link,))
    if http is None or not short:
        return Resolution("unresolved", error="no link to the post survives in the article")
    hops: list[str] = []
    error: EmbedArchiveError | None = None
    for link in short:
        try:
            target, visited = expand(link, http, recorder, registry)
        except EmbedArchiveError as err:
            error = err
            continue
        hops.extend(visited)
        if target is not None:
            return Resolution("resolved", target, tuple(hops))
    if error is not None:
        return Resolution("failed", hops=tuple(hops), error=str(error), retryable=error.retryable)
    return Resolution("unresolved", hops=tuple(hops), error="short links do not lead to a post")
