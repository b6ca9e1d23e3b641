"""A local Wayback Machine: the CDX API and raw replay, over real HTTP on 127.0.0.1.

* ``/cdx/search/cdx?url=…&output=json&fl=…`` answers like web.archive.org's CDX server: a
  JSON array whose first row names the fields (``[]`` when nothing matches). URLs are compared
  as the CDX server's keys are (no scheme, no ``www.``, lower case, query parameters sorted).
  ``matchType=prefix`` or a trailing ``*`` matches by prefix; ``collapse=urlkey`` keeps the
  first line of each URL.
* ``/web/<timestamp><flag>/<original>`` (``id_``, ``im_``…) answers the archived bytes with
  the archived content type and a ``memento-datetime`` header. A time the URL was not archived
  at redirects (302) to its nearest snapshot, as the real replay does.

Tests add snapshots with :meth:`FakeWayback.add` (``replayable=False``: listed by the CDX, but
its replay redirects elsewhere); ``cdx_body`` replaces the CDX's answer; ``reset()`` forgets them
and the request log.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

_REPLAY = re.compile(r"/web/(?P<ts>\d{1,14})(?P<flag>[a-z]{2}_)?/(?P<original>.+)")


def urlkey(url: str) -> str:
    """A URL as the CDX server compares it (a simplified SURT)."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return (host + parts.path + ("?" + query if query else "")).lower()


@dataclass(frozen=True)
class Snap:
    timestamp: str
    original: str
    body: bytes
    mimetype: str
    statuscode: str = "200"
    #: False: the CDX lists it, but its replay redirects to the nearest snapshot that is kept.
    replayable: bool = True

    @property
    def digest(self) -> str:
        import base64
        import hashlib

        return base64.b32encode(hashlib.sha1(self.body).digest()).decode()

    def field(self, name: str) -> str:
        return str(getattr(self, name, ""))


class FakeWayback:
    def __init__(self) -> None:
        self.snapshots: list[Snap] = []
        self.requests: list[str] = []
        self.down = False
        #: A CDX answer to give instead of the snapshots' lines (a broken or hostile server).
        self.cdx_body: bytes | None = None
        #: Timestamps whose replay answers 503 (busy), for now.
        self.busy: set[str] = set()
        self._server: ThreadingHTTPServer | None = None

    def add(
        self,
        original: str,
        timestamp: str,
        body: bytes | str | dict[str, Any],
        mimetype: str = "application/json",
        statuscode: str = "200",
        replayable: bool = True,
    ) -> None:
        if isinstance(body, dict):
            body = json.dumps(body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.snapshots.append(Snap(timestamp, original, body, mimetype, statuscode, replayable))

    def reset(self) -> None:
        self.snapshots.clear()
        self.requests.clear()
        self.down = False
        self.cdx_body = None
        self.busy = set()

    # -- the two endpoints ------------------------------------------------------------------
    def cdx(self, params: dict[str, str]) -> tuple[int, bytes, str]:
        if self.cdx_body is not None:
            return 200, self.cdx_body, "application/json"
        wanted = params.get("url", "")
        prefix = params.get("matchType") == "prefix" or wanted.endswith("*")
        key = urlkey(wanted.rstrip("*"))
        fields = (params.get("fl") or "timestamp,original,statuscode,mimetype,digest").split(",")
        seen: set[str] = set()
        rows = []
        for snap in sorted(self.snapshots, key=lambda s: s.timestamp):
            k = urlkey(snap.original)
            if not (k.startswith(key) if prefix else k == key):
                continue
            if params.get("collapse") == "urlkey":
                if k in seen:
                    continue
                seen.add(k)
            rows.append([snap.field(f) for f in fields])
        body = json.dumps([fields, *rows] if rows else [])
        return 200, body.encode(), "application/json"

    def replay(self, path: str, query: str) -> tuple[int, bytes, str, list[tuple[str, str]]]:
        m = _REPLAY.fullmatch(path)
        if m is None:
            return 404, b"not in archive", "text/plain", []
        if m["ts"] in self.busy:
            return 503, b"busy", "text/plain", []
        original = m["original"] + ("?" + query if query else "")
        same = [
            s for s in self.snapshots if s.replayable and urlkey(s.original) == urlkey(original)
        ]
        if not same:
            return 404, b"Wayback Machine has not archived that URL.", "text/plain", []
        exact = next((s for s in same if s.timestamp == m["ts"]), None)
        if exact is None:
            nearest = min(same, key=lambda s: abs(int(s.timestamp) - int(m["ts"].ljust(14, "0"))))
            location = f"/web/{nearest.timestamp}{m['flag'] or ''}/{nearest.original}"
            return 302, b"", "text/plain", [("location", location)]
        moment = datetime.strptime(exact.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        return (
            200,
            exact.body,
            exact.mimetype,
            [("memento-datetime", format_datetime(moment, True))],
        )

    # -- the server -------------------------------------------------------------------------
    def __enter__(self) -> FakeWayback:
        wayback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                wayback.requests.append(self.path)
                if wayback.down:
                    self.send_response(503)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                url = urlsplit(self.path)
                headers: list[tuple[str, str]] = []
                if url.path == "/cdx/search/cdx":
                    status, body, ctype = wayback.cdx(dict(parse_qsl(url.query)))
                else:
                    status, body, ctype, headers = wayback.replay(url.path, url.query)
                self.send_response(status)
                self.send_header("content-type", ctype)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: ``requests`` is the log."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def env(self) -> dict[str, str]:
        return {
            "EMBEDARCHIVE_WAYBACK_CDX_URL": f"{self.base_url}/cdx/search/cdx",
            "EMBEDARCHIVE_WAYBACK_URL": f"{self.base_url}/web",
        }

    def cdx_requests(self) -> Iterator[dict[str, str]]:
        for path in self.requests:
            url = urlsplit(path)
            if url.path == "/cdx/search/cdx":
                yield dict(parse_qsl(url.query))
