"""A local video site for yt-dlp, served over real HTTP on 127.0.0.1 (HTTP/1.0, threaded).

yt-dlp's own ``generic`` extractor reads every shape served here, so the real yt-dlp code runs
end to end: extraction, format selection, the native HTTP and HLS downloaders, ffmpeg fixups.

Routes (``base`` is the server's own ``http://127.0.0.1:<port>``):

* ``/media/<file>`` — the files of ``tests/fixtures/media`` (``Range`` honoured);
  ``/hls/<file>`` — the HLS stream of ``tests/fixtures/media/hls`` (``make_hls.sh``).
* ``/smil/sizes.smil`` — a SMIL document offering ``video-best.mp4`` and ``video-low.mp4``
  with their exact sizes, the shape in which yt-dlp knows ``filesize`` before downloading.
* ``/page/video.html?duration=PT30S&src=<url>`` — an HTML page whose JSON-LD ``VideoObject``
  names a video (default ``video-best.mp4``) and a duration (how yt-dlp learns a duration
  before downloading).
* ``/page/two-videos.html`` — a page with two ``<video>`` elements (one post, two videos).
* ``/feed.rss`` — an RSS feed of three videos: yt-dlp reads it as a playlist of links.
* ``/slow/<file>`` — a media file trickled out slowly (0.5 KB every 0.2 s).
* ``/redirect?to=<url>`` — a 302 to ``to``.
* ``/busy`` — 429 with ``Retry-After: 1`` (a site rate-limiting yt-dlp). Anything else is a 404.
"""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MEDIA = Path(__file__).resolve().parent / "fixtures" / "media"
TYPES = {
    ".mp4": "video/mp4",
    ".ts": "video/mp2t",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mp3": "audio/mpeg",
    ".jpg": "image/jpeg",
}


def smil(base: str) -> str:
    best, low = (MEDIA / "video-best.mp4").stat().st_size, (MEDIA / "video-low.mp4").stat().st_size
    return (
        '<?xml version="1.0"?>\n<smil xmlns="http://www.w3.org/2001/SMIL20/Language">'
        '<head><meta name="title" content="Two sizes"/></head><body><switch>'
        f'<video src="{base}/media/video-best.mp4" system-bitrate="200000" size="{best}"'
        ' width="160" height="120"/>'
        f'<video src="{base}/media/video-low.mp4" system-bitrate="50000" size="{low}"'
        ' width="64" height="48"/>'
        "</switch></body></smil>"
    )


def video_page(base: str, duration: str, src: str | None) -> str:
    return (
        "<!doctype html><html><head><title>A video page</title>"
        '<script type="application/ld+json">{"@context": "https://schema.org",'
        ' "@type": "VideoObject", "name": "A test clip", "description": "Served locally",'
        f' "uploadDate": "2024-05-01T10:00:00Z", "duration": "{duration}",'
        f' "contentUrl": "{src or base + "/media/video-best.mp4"}",'
        f' "thumbnailUrl": "{base}/media/photo-orig.jpg"}}</script>'
        "</head><body><p>Video</p></body></html>"
    )


def two_videos(base: str) -> str:
    return (
        "<!doctype html><html><head><title>Two clips</title></head><body>"
        f'<video controls src="{base}/media/video-best.mp4"></video>'
        f'<video controls src="{base}/media/video-low.mp4"></video></body></html>'
    )


def rss(base: str) -> str:
    items = "".join(
        f"<item><title>Clip {n}</title><link>{base}/media/video-best.mp4?n={n}</link>"
        f'<enclosure url="{base}/media/video-best.mp4?n={n}" type="video/mp4" length="1"/></item>'
        for n in range(3)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>A channel</title>'
        f"<link>{base}/</link><description>Videos</description>{items}</channel></rss>"
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: FakeMedia


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "fakemedia"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced; ``FakeMedia.requests`` is the record."""

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        site = self.server.site
        headers = {k.lower(): v for k, v in self.headers.items()}
        site.record({"method": self.command, "path": self.path, "headers": headers})
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query))
        base = site.base_url
        try:
            if url.path.startswith("/media/"):
                self._file(MEDIA / url.path.removeprefix("/media/"), headers, body)
            elif url.path.startswith("/hls/"):
                self._file(MEDIA / "hls" / url.path.removeprefix("/hls/"), headers, body)
            elif url.path.startswith("/slow/"):
                self._slow(MEDIA / url.path.removeprefix("/slow/"), body)
            elif url.path == "/smil/sizes.smil":
                self._text(200, smil(base), "application/smil+xml", body)
            elif url.path == "/page/video.html":
                page = video_page(base, params.get("duration", "PT1S"), params.get("src"))
                self._text(200, page, "text/html", body)
            elif url.path == "/page/two-videos.html":
                self._text(200, two_videos(base), "text/html", body)
            elif url.path == "/feed.rss":
                self._text(200, rss(base), "application/rss+xml", body)
            elif url.path == "/busy":
                self.send_response(429)
                self.send_header("retry-after", "1")
                self.send_header("content-length", "0")
                self.end_headers()
            elif url.path in site.pages:  # a test's own page: (content type, text)
                kind, text = site.pages[url.path]
                self._text(200, text.replace("{base}", base), kind, body)
            elif url.path == "/redirect":
                self.send_response(302)
                self.send_header("location", params["to"])
                self.send_header("content-length", "0")
                self.end_headers()
            else:
                self._text(404, "Not Found", "text/plain", body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _text(self, status: int, text: str, content_type: str, body: bool) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", f"{content_type}; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _file(self, path: Path, headers: dict[str, str], body: bool) -> None:
        if not path.is_file() or MEDIA not in path.resolve().parents:
            self._text(404, "Not Found", "text/plain", body)
            return
        data = path.read_bytes()
        start, end = 0, len(data) - 1
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", headers.get("range", ""))
        if m:
            start, end = int(m[1]), min(int(m[2] or end), end)
        self.send_response(206 if m else 200)
        self.send_header("content-type", TYPES.get(path.suffix, "application/octet-stream"))
        self.send_header("accept-ranges", "bytes")
        if m:
            self.send_header("content-range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("content-length", str(end - start + 1))
        self.end_headers()
        if body:
            self.wfile.write(data[start : end + 1])

    def _slow(self, path: Path, body: bool) -> None:
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("content-type", TYPES.get(path.suffix, "application/octet-stream"))
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        for i in range(0, len(data) if body else 0, 512):
            self.wfile.write(data[i : i + 512])
            self.wfile.flush()
            time.sleep(0.2)


class FakeMedia:
    """The site on ``http://127.0.0.1:<port>``; ``requests`` is every request, oldest first."""

    def __init__(self) -> None:
        self._log: list[dict[str, Any]] = []
        #: Pages a test adds: path → (content type, text; ``{base}`` becomes the site's URL).
        self.pages: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeMedia:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def record(self, request: dict[str, Any]) -> None:
        with self._lock:
            self._log.append(request)

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def requests_to(self, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].startswith(prefix)]

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
