"""Stage 1: URL / HTML file / text file / stdin → Article (exact bytes, sha256, decoded text).

Articles arrive in UTF-8, Latin-2, Windows-1250…; decoding follows the evidence in order —
BOM, HTTP header, HTML meta, strict UTF-8, statistical detection — and never crashes.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import sys
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from charset_normalizer import from_bytes

from .batch import ListedSource, listed_kind
from .capture.http import Http, Recorder, utcnow
from .errors import FetchError, InputError
from .models import Article

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|article|div|p|blockquote|iframe|meta)\b",
    re.IGNORECASE | re.DOTALL,
)
#: ``<title[^>]*>(.*?)</title>`` in two steps: as one pattern, each ``<title`` without an end
#: tag after it read the rest of the page again (a page of them took seconds per thousand).
_TITLE_OPEN = re.compile(r"<(?i:title)")
_TITLE_CLOSE = re.compile(r"</(?i:title)>")


def _known(encoding: str | None) -> str | None:
    """A text encoding's canonical name; None for unknown names and for bytes-to-bytes codecs
    (``<meta charset="base64">`` names a codec that ``bytes.decode`` refuses)."""
    if not encoding:
        return None
    try:
        name = codecs.lookup(encoding.strip().strip("\"'")).name
        b"a".decode(name)
    except UnicodeError:
        return name  # a text encoding, just not of this sample byte (utf-16, idna…)
    except (LookupError, ValueError):
        return None
    return name


def decode(raw: bytes, declared: str | None = None, is_html: bool = False) -> tuple[str, str]:
    """Returns (text, encoding name). Falls back to cp1252 with replacement, never raises."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return raw.decode(name, errors="replace"), name
    candidates = [_known(declared)]
    if is_html:
        m = _META_CHARSET.search(raw[:4096])
        candidates.append(_known(m.group(1).decode("ascii", "ignore")) if m else None)
    for candidate in candidates:
        if candidate:
            try:
                return raw.decode(candidate), candidate
            except UnicodeError:  # not only UnicodeDecodeError: "idna" raises its parent
                continue
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw[:2_000_000]).best()
    if best is not None and best.encoding:
        return raw.decode(best.encoding, errors="replace"), str(best.encoding)
    return raw.decode("cp1252", errors="replace"), "cp1252"


def _looks_binary(raw: bytes) -> bool:
    head = raw[:8192]
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return False
    return b"\x00" in head


def _charset_of(content_type: str) -> str | None:
    m = re.search(r"charset=([^;\s]+)", content_type, re.IGNORECASE)
    return m.group(1) if m else None


def _title(text: str, is_html: bool) -> str | None:
    if is_html:
        head = text[:200_000]
        opened = _TITLE_OPEN.search(head)
        start = head.find(">", opened.end()) + 1 if opened else 0
        closed = _TITLE_CLOSE.search(head, start) if start else None
        if closed:
            from html import unescape

            return _clipped(" ".join(unescape(head[start : closed.start()]).split()), 300) or None
        return None
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return _clipped(" ".join(first.split()), 120) or None


def _clipped(title: str, limit: int) -> str:
    """At most ``limit`` characters, cut after a whole word and marked as cut."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–—") + "…"


def build_article(
    raw: bytes,
    *,
    source: str,
    source_kind: str,
    is_html: bool | None = None,
    declared_charset: str | None = None,
    **http_fields: object,
) -> Article:
    if not raw.strip():
        raise InputError(f"{source}: the article is empty")
    if _looks_binary(raw):
        raise InputError(f"{source}: this is binary data, not an article (HTML or text)")
    html = bool(_HTML_START.match(raw[:4096])) if is_html is None else is_html
    text, encoding = decode(raw, declared_charset, html)
    return Article(
        source=source,
        source_kind=source_kind,  # type: ignore[arg-type]
        raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        encoding=encoding,
        text=text,
        is_html=html,
        retrieved_at=utcnow(),
        title=_title(text, html),
        **http_fields,  # type: ignore[arg-type]
    )


def load_file(path: Path, max_bytes: int) -> Article:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give an article file, a URL or -")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{path}: {size} bytes is over the article size cap of {max_bytes}")
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from None
    suffix = path.suffix.lower()
    is_html = True if suffix in (".html", ".htm", ".xhtml") else False if suffix == ".txt" else None
    return build_article(raw, source=str(path), source_kind="file", is_html=is_html)


def load_stdin(stream: BinaryIO, max_bytes: int) -> Article:
    raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise InputError(f"standard input is over the article size cap of {max_bytes} bytes")
    return build_article(raw, source="-", source_kind="stdin")


def load_url(url: str, http: Http, recorder: Recorder) -> Article:
    fetched = http.get(url, recorder, "article", max_bytes=http.settings.max_article_bytes)
    if fetched.status >= 400:
        raise FetchError(
            f"{url}: the article answered HTTP {fetched.status}",
            retryable=fetched.status >= 500 or fetched.status == 429,
        )
    listed = listed_kind(fetched.body)
    if listed is not None:  # a feed or sitemap (gzipped too) the batch could not read at first
        raise ListedSource(url, listed, fetched.body, fetched.final_url or url)
    content_type = fetched.content_type
    is_html = "html" in content_type.lower() if content_type else None
    return build_article(
        fetched.body,
        source=url,
        source_kind="url",
        is_html=is_html,
        declared_charset=_charset_of(content_type),
        url=url,
        final_url=fetched.final_url,
        http_status=fetched.status,
        http_headers=fetched.headers,
    )


def _has_host(url: str) -> bool:
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:  # an unclosed IPv6 bracket, a port that is no number
        return False


def load(source: str, http: Http | None, recorder: Recorder, max_bytes: int) -> Article:
    """Dispatch on the form of SOURCE. Anything else is an ``InputError`` with one line."""
    if source == "-":
        return load_stdin(sys.stdin.buffer, max_bytes)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source):
        if not source.lower().startswith(("http://", "https://")):
            raise InputError(f"{source}: only http(s) URLs, files and - are accepted")
        if not _has_host(source):
            raise InputError(f"{source}: not a URL (no host name)")
        if http is None:
            raise InputError(f"{source}: URLs need the network; use 'archive'")
        return load_url(source, http, recorder)
    return load_file(Path(source), max_bytes)
