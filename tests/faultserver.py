"""A small HTTP server on 127.0.0.1 that misbehaves on purpose, one fault per path.

Written on raw sockets (not ``http.server``) so it can lie: a Content-Length it never honours,
a reset instead of an answer, bytes one at a time, a body that never ends. Runs in a thread,
as httpx's own tests do; every request is logged so tests can prove what was (not) asked.

Routes are chosen by the first path segment, so an API base URL may point at one and the
client's own path after it is ignored (``/html/api/v1/statuses/1`` is ``/html``). Query
``?n=`` sets sizes where it makes sense:

``/json``            200 application/json ``{"ok": true}``
``/typed?type=&body=`` 200 with that Content-Type and one of ``TYPED_BODIES``: a page with
                     a script, a PNG's first bytes, an SVG, real files filetype cannot name
``/bytes?n=``        200 application/octet-stream, n bytes with an honest Content-Length
``/reset``           the request is read, then the connection is reset (RST)
``/truncated``       Content-Length 100000, 1000 bytes sent, then the connection closes
``/stall``           headers sent, then nothing (a read timeout)
``/silent``          nothing at all, not even a status line
``/trickle``         headers, then one byte every 0.2 s for ever
``/loop/a``          302 → ``/loop/b`` → 302 → ``/loop/a`` …
``/redirect?to=``    302 to ``to``
``/html-as-json``    an HTML error page labelled application/json
``/html``            an HTML error page labelled text/html (where JSON was expected)
``/malformed-json``  application/json that does not parse
``/gzip-bomb?n=``    ``Content-Encoding: gzip``: a few kB that decode to n zero bytes
                     (``&layers=2``: ``gzip, gzip``, which decodes to n from even less)
``/gzipped?n=``      ``ranged_body(n)`` sent gzip-encoded, Content-Length the encoded size
                     (as CDNs send images); ``&cut=`` hangs up after that many encoded bytes
``/endless``         200 with no length, zero bytes until the client leaves
``/429``, ``/503``   the status with ``Retry-After: 1``
``/ranged?n=&cut=``  n bytes (``ranged_body(n)``) with ``Accept-Ranges: bytes`` and an ETag; a
                     full answer hangs up after ``cut`` bytes, a ``Range: bytes=N-`` request
                     gets ``206`` with the rest. Options: ``once=KEY`` cuts only the first full
                     answer for KEY; ``ranges=0`` advertises no ranges and ignores Range;
                     ``range=ignore`` answers Range with the full body (200); ``range=wrong``
                     answers it with a Content-Range that starts at 0; ``cut206=1`` hangs up
                     ranged answers after ``cut`` bytes too. An ``If-Range`` that is not the
                     ETag gets the full body, as RFC 9110 says.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import socketserver
import struct
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

_HTML = b"<!doctype html><html><head><title>Oops</title></head><body><h1>502 Bad Gateway</h1></body></html>"

#: Bodies of ``/typed``: what a server may send under any Content-Type it likes.
TYPED_BODIES = {
    "html": b"<html><body><script>alert(1)</script></body></html>",
    "png": b"\x89PNG\r\n\x1a\n" + bytes(64),
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>',
    # Real files beyond filetype's signatures: a fragmented MP4's first box, an MP3 frame
    # with a CRC (FFFA), animated AVIF.
    "fmp4": b"\x00\x00\x00\x18ftypiso6\x00\x00\x00\x00iso6cmfc" + bytes(64),  # CMAF
    "mp3crc": b"\xff\xfa\x90\x64" + bytes(64),
    "avis": b"\x00\x00\x00\x1cftypavis\x00\x00\x00\x00avisavifmif1" + bytes(64),
}


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(10)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                data += chunk
        except OSError:
            return
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        target = line.split(" ")[1] if line.count(" ") >= 2 else "/"
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.server.log.append(parts.path)
        self.head = data.decode("latin-1")
        try:
            self.route(sock, parts.path, query)
        except OSError:
            pass  # the client left (timeouts, caps): that is the point of most paths

    def send(self, sock: socket.socket, status: str, headers: dict[str, str], body: bytes) -> None:
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(head.encode("latin-1") + b"Connection: close\r\n\r\n" + body)

    def route(self, sock: socket.socket, path: str, query: dict[str, str]) -> None:
        n = int(query.get("n", "1000"))
        stop = self.server.stopping
        segments = path.split("/")
        if segments[1] != "loop":
            path = "/" + segments[1]
        if path == "/json":
            body = b'{"ok": true}'
            self.send(sock, "200 OK", _length("application/json", body), body)
        elif path == "/typed":
            body = TYPED_BODIES[query.get("body", "html")]
            self.send(sock, "200 OK", _length(query.get("type", "image/png"), body), body)
        elif path == "/bytes":
            body = bytes(range(256)) * (n // 256) + bytes(n % 256)
            self.send(sock, "200 OK", _length("application/octet-stream", body), body)
        elif path == "/reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        elif path == "/truncated":
            headers = {"Content-Type": "application/json", "Content-Length": "100000"}
            self.send(sock, "200 OK", headers, b"[" + b"1," * 499 + b"1")
        elif path == "/stall":
            self.send(sock, "200 OK", {"Content-Type": "application/json"}, b"")
            stop.wait(30)
        elif path == "/silent":
            stop.wait(30)
        elif path == "/trickle":
            self.send(sock, "200 OK", {"Content-Type": "application/octet-stream"}, b"")
            while not stop.wait(0.2):
                sock.sendall(b"x")
        elif path in ("/loop/a", "/loop/b"):
            other = "/loop/b" if path == "/loop/a" else "/loop/a"
            self.send(sock, "302 Found", {"Location": other, "Content-Length": "0"}, b"")
        elif path == "/redirect":
            self.send(sock, "302 Found", {"Location": query["to"], "Content-Length": "0"}, b"")
        elif path == "/html-as-json":
            self.send(sock, "200 OK", _length("application/json", _HTML), _HTML)
        elif path == "/html":
            self.send(sock, "200 OK", _length("text/html; charset=utf-8", _HTML), _HTML)
        elif path == "/malformed-json":
            body = b'{"id_str": "1", "text": "unterminated'
            self.send(sock, "200 OK", _length("application/json", body), body)
        elif path == "/gzip-bomb":
            layers = int(query.get("layers", "1"))
            body = self.server.bomb(n, layers)
            headers = _length("application/json", body)
            headers["Content-Encoding"] = ", ".join(["gzip"] * layers)
            self.send(sock, "200 OK", headers, body)
        elif path == "/gzipped":
            body = gzip.compress(ranged_body(n))
            headers = {**_length("application/octet-stream", body), "Content-Encoding": "gzip"}
            self.send(sock, "200 OK", headers, body[: int(query.get("cut", len(body)))])
        elif path == "/endless":
            self.send(sock, "200 OK", {"Content-Type": "application/octet-stream"}, b"")
            block = bytes(65536)
            while not stop.is_set():
                sock.sendall(block)
        elif path in ("/429", "/503"):
            status = "429 Too Many Requests" if path == "/429" else "503 Service Unavailable"
            body = b'{"error": "slow down"}'
            headers = {**_length("application/json", body), "Retry-After": "1"}
            self.send(sock, status, headers, body)
        elif path == "/ranged":
            self.ranged(sock, n, query)
        else:
            self.send(sock, "404 Not Found", {"Content-Length": "0"}, b"")

    def header(self, name: str) -> str | None:
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name:
                return value.strip()
        return None

    def ranged(self, sock: socket.socket, n: int, query: dict[str, str]) -> None:
        """See ``/ranged`` in the module docstring."""
        body, etag = ranged_body(n), '"ranged-v1"'
        cut = int(query.get("cut", str(n // 2)))
        asked = self.header("range") if query.get("ranges") != "0" else None
        if_range = self.header("if-range")
        if asked and (if_range is None or if_range == etag) and query.get("range") != "ignore":
            start = int(asked.removeprefix("bytes=").split("-")[0])
            first = 0 if query.get("range") == "wrong" else start
            headers = {
                "Content-Type": "application/octet-stream",
                "Content-Length": str(n - start),
                "Content-Range": f"bytes {first}-{n - 1 + first - start}/{n}",
                "Accept-Ranges": "bytes",
                "ETag": etag,
            }
            part = body[start:]
            self.send(
                sock, "206 Partial Content", headers, part[:cut] if "cut206" in query else part
            )
            return
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(n)}
        if query.get("ranges") != "0":
            headers.update({"Accept-Ranges": "bytes", "ETag": etag})
        once = query.get("once")
        with self.server.lock:
            first_time = once is None or once not in self.server.seen
            if once is not None:
                self.server.seen.add(once)
        self.send(sock, "200 OK", headers, body[:cut] if first_time else body)


def ranged_body(n: int) -> bytes:
    """The ``/ranged`` body: n bytes that never repeat, so a splice at a wrong offset shows."""
    blocks = (hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n // 32 + 1))
    return b"".join(blocks)[:n]


def _length(content_type: str, body: bytes) -> dict[str, str]:
    return {"Content-Type": content_type, "Content-Length": str(len(body))}


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.log: list[str] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        self._bombs: dict[tuple[int, int], bytes] = {}

    def bomb(self, size: int, layers: int) -> bytes:
        if (size, layers) not in self._bombs:
            body = bytes(size)
            for _ in range(layers):
                body = gzip.compress(body, compresslevel=9)
            self._bombs[size, layers] = body
        return self._bombs[size, layers]


class FaultServer:
    """``with FaultServer() as server: server.url("/reset")``."""

    def __init__(self) -> None:
        self._server = _Server()
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def requests(self) -> list[str]:
        """The paths asked for, in order."""
        return list(self._server.log)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()


class Unanswered:
    """A listening socket whose backlog is full, so a new connection is never accepted: the
    only reliable local way to make ``connect`` itself time out."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._fillers: list[socket.socket] = []
        for _ in range(4):  # fill the accept queue (Linux lets backlog + 1 through)
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", self.port))
            self._fillers.append(filler)
        time.sleep(0.05)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Unanswered:
        return self

    def __exit__(self, *exc: Any) -> None:
        for filler in self._fillers:
            filler.close()
        self._listener.close()
