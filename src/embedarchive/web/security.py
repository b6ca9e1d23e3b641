"""Security headers for every response: a Content-Security-Policy, nosniff, no referrer.

embedarchive's pages set the strict policy themselves (``PAGE_CSP``: scripts, styles and media
from this server only, no inline script or style, no frames, no plugins). Datasette's own pages
(table browsing, SQL) get ``datasette_csp``: also same-origin only, with inline scripts refused
except the few in Datasette's templates, allowed by their sha256 (the CSP equivalent of a
nonce for fixed scripts), and inline styles allowed because its templates use ``style=``.
Media and raw files get ``FILE_CSP``: nothing may run, even if a browser decided to render them.

A server on a loopback address also answers only requests addressed to a loopback name
(``loopback_only``): otherwise any web page the reader visits could point its own domain at
127.0.0.1 (DNS rebinding) and read the archive as its own origin.

Another site's page may still *send* requests here without reading the answers (an
``<img src>`` pointing at ``/archive.json?sql=…``, whose result can fill the memory, or any
costly URL, many times over). ``same_origin_only`` refuses (403) what the browser marks as
coming from another site (the ``Sec-Fetch-Site`` request header, sent by every current
browser), except a top-level visit to one of the archive's own pages: a link to a post
pasted in a chat still opens. Datasette's views under ``/archive``, which run SQL, and
requests that are not plain page visits (images, scripts, frames, forms) are refused.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
FILE_CSP = "default-src 'none'; sandbox"
COMMON_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
#: Datasette templates with inline ``<script>`` blocks, and the values their Jinja takes.
_DATASETTE_SCRIPTS = ("_close_open_menus.html", "_codemirror_foot.html", "table.html")
_SCRIPT_RE = re.compile(r"<script>(.*?)</script>", re.S)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


@cache
def script_hashes() -> tuple[str, ...]:
    """CSP source expressions for the inline scripts of the installed Datasette's templates."""
    env = Environment(autoescape=True, keep_trailing_newline=True)
    hashes: set[str] = set()
    for name in _DATASETTE_SCRIPTS:
        source = (resources.files("datasette") / "templates" / name).read_text("utf-8")
        for body in _SCRIPT_RE.findall(source):
            for allow in ("true", "false"):
                rendered = env.from_string(body).render(datasette_allow_facet=allow)
                digest = hashlib.sha256(rendered.encode("utf-8")).digest()
                hashes.add(f"'sha256-{base64.b64encode(digest).decode('ascii')}'")
    return tuple(sorted(hashes))


def datasette_csp() -> str:
    return (
        f"default-src 'self'; script-src 'self' {' '.join(script_hashes())}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def with_headers(app: App, fallback_csp: str) -> App:
    """ASGI middleware: add the common headers, and ``fallback_csp`` where none was set."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(k).lower() for k, _ in headers}
                extra = dict(COMMON_HEADERS)
                extra["content-security-policy"] = fallback_csp
                for key, value in extra.items():
                    if key.encode() not in present:
                        headers.append([key.encode(), value.encode()])
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped


def same_origin_only(app: App, sql_prefix: str) -> App:
    """ASGI middleware: refuse (403) a request another site sent (``Sec-Fetch-Site``), unless
    it is a top-level visit to a page outside ``sql_prefix`` (Datasette's database views)."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _from_another_site(scope, sql_prefix):
            await _refuse(send, 403, b"open this archive's pages from the archive itself\n")
            return
        await app(scope, receive, send)

    return guarded


def _from_another_site(scope: Scope, sql_prefix: str) -> bool:
    headers = {bytes(k).lower(): bytes(v).lower() for k, v in scope.get("headers", [])}
    site = headers.get(b"sec-fetch-site")
    if site in (None, b"same-origin", b"none"):  # typed, bookmarked, or from these pages
        return False
    path: str = scope.get("path", "")
    visit = (
        scope.get("method") in ("GET", "HEAD")
        and headers.get(b"sec-fetch-mode") == b"navigate"
        and headers.get(b"sec-fetch-dest", b"document") == b"document"
    )
    in_sql = path == sql_prefix or path.startswith((sql_prefix + "/", sql_prefix + "."))
    return not visit or in_sql


async def _refuse(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def loopback_only(app: App) -> App:
    """ASGI middleware: refuse (421) a request whose ``Host`` is not a loopback name or address."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not is_loopback_name(_host_header(scope)):
            await _refuse(send, 421, b"this archive is served to localhost only\n")
            return
        await app(scope, receive, send)

    return guarded


def _host_header(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if bytes(key).lower() == b"host":
            return bytes(value).decode("latin-1")
    return None  # HTTP/1.0 without one: no browser sends that


def is_loopback_name(host: str | None) -> bool:
    """Whether a host (``localhost``, ``127.0.0.1``, ``::1``; with a port, as in a ``Host``
    header) names this machine's loopback; None (no ``Host`` header) counts as such."""
    if host is None:
        return True
    name = host.strip().lower()
    if name.startswith("["):  # [::1]:8001
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:  # 127.0.0.1:8001, localhost:8001
        name = name.split(":", 1)[0]
    if name in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
