"""Batch inputs → the ordered list of article sources a batch archives.

``embedarchive archive`` takes, besides article URLs and files: list files (``--from FILE``,
one URL or path per line, ``#`` comments; ``--from -`` reads the list from stdin), folders of
``.html``/``.htm``/``.txt`` files, RSS/Atom feeds and sitemaps (``urlset`` or
``sitemapindex``), as a URL or a file. Feeds and sitemaps are recognised by their content,
whatever their name: the first element of the document decides.

Remote inputs are fetched through the one guarded, recording ``Http`` client and size-capped
like articles; their exchanges are returned so the run stores them as provenance. Feeds are
parsed by feedparser (every RSS and Atom dialect, relative links, broken feeds). Sitemaps are
parsed with lxml, already a dependency, with entities, DTDs and network access off (no XXE);
the sitemap libraries on PyPI fetch with their own HTTP client, which would bypass the
private-network guard and leave no record of what was read.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import urljoin

import feedparser
from lxml import etree

from .capture.http import Http, Recorder
from .errors import EmbedArchiveError, InputError, TooLargeError

ARTICLE_SUFFIXES = (".html", ".htm", ".txt")
#: Sitemap indexes may nest; deeper than this is refused as a loop or an abuse.
MAX_SITEMAP_DEPTH = 3
#: Bytes read from a remote input before deciding whether it is a feed or sitemap.
SNIFF_BYTES = 4096
_GZIP = b"\x1f\x8b"
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
#: What may come before the first element: space, processing instructions, comments and a
#: DOCTYPE, whose internal subset (``[<!ENTITY nbsp "&#160;">]``) holds ``>`` of its own.
_SKIP_PROLOG = re.compile(
    rb"\A(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^>\[]|\[.*?\])*>)*", re.DOTALL
)

InputKind = Literal["feed", "sitemap"]


@dataclass(frozen=True)
class BatchSpec:
    """What identifies a batch: the same spec (sources, list contents, options) is the same batch,
    so re-running an interrupted command continues it."""

    sources: tuple[str, ...]
    lists: tuple[tuple[str, tuple[str, ...]], ...] = ()
    recursive: bool = False
    refresh: bool = False

    def __post_init__(self) -> None:
        for source in self.sources:
            _as_text(source)

    def to_json(self) -> dict[str, object]:
        return {
            "sources": list(self.sources),
            "lists": [[name, list(entries)] for name, entries in self.lists],
            "recursive": self.recursive,
            "refresh": self.refresh,
        }

    @property
    def key(self) -> str:
        text = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_list(text: str) -> tuple[str, ...]:
    """One source per line; blank lines and ``#`` comments are ignored."""
    return tuple(
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def read_list(name: str, stdin: BinaryIO, max_bytes: int) -> tuple[str, ...]:
    """The entries of a list file, or of stdin for ``-``."""
    if name == "-":
        raw = stdin.read(max_bytes + 1)
    else:
        path = Path(name)
        if not path.is_file():
            raise InputError(f"{name}: no such list file")
        try:
            with path.open("rb") as fh:
                raw = fh.read(max_bytes + 1)
        except OSError as err:
            raise InputError(f"{name}: cannot read: {err.strerror}") from None
    if len(raw) > max_bytes:
        raise InputError(f"{name}: the list is over the size cap of {max_bytes} bytes")
    return parse_list(raw.decode("utf-8-sig", errors="replace"))


def sniff(head: bytes) -> InputKind | None:
    """``feed`` or ``sitemap`` when the document's first element says so, else None."""
    head = head.lstrip(b"\xef\xbb\xbf")
    m = _FIRST_ELEMENT.match(head, _SKIP_PROLOG.match(head).end())  # type: ignore[union-attr]
    if m is None:
        return None
    name = m.group(1).split(b":")[-1].lower()
    if name in (b"rss", b"feed", b"rdf"):
        return "feed"
    if name in (b"urlset", b"sitemapindex"):
        return "sitemap"
    return None


def _kind_of(body: bytes) -> InputKind | None:
    """``sniff`` that also looks inside a gzipped sitemap (``sitemap.xml.gz``)."""
    if body.startswith(_GZIP):
        try:
            body = _gunzip(body)
        except EmbedArchiveError:
            return None
    return sniff(body[: SNIFF_BYTES * 4])


def feed_links(body: bytes, base: str | None) -> list[str]:
    """The entry links of an RSS/Atom feed, in feed order (feedparser reads bytes, no network)."""
    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-location": base or ""})
    links = []
    for entry in parsed.entries:
        link = entry.get("link") or next(
            (x.get("href") for x in entry.get("links", []) if x.get("rel") == "alternate"), None
        )
        if link:
            links.append(urljoin(base, link) if base else link)
    return [link for link in links if link.lower().startswith(("http://", "https://"))]


def sitemap_locs(body: bytes) -> tuple[bool, list[str]]:
    """(is an index, its ``<loc>`` URLs). Entities, DTDs and network are off in the parser."""
    if body.startswith(_GZIP):
        body = _gunzip(body)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as err:
        raise InputError(f"the sitemap is not valid XML: {err}") from None
    if root is None:
        raise InputError("the sitemap is empty")
    index = etree.QName(root).localname == "sitemapindex"
    locs = [
        (loc.text or "").strip()
        for loc in root.iter("{*}loc")
        if (loc.text or "").strip().lower().startswith(("http://", "https://"))
    ]
    return index, locs


def _gunzip(body: bytes, cap: int = 50_000_000) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as fh:
        try:
            out = fh.read(cap + 1)
        except (OSError, EOFError) as err:
            raise InputError(f"the gzipped sitemap is corrupt: {err}") from None
    if len(out) > cap:
        raise TooLargeError(f"the gzipped sitemap unpacks to over {cap} bytes")
    return out


class ListedSource(InputError):
    """A source fetched as an article is a feed or sitemap: its first read, when the batch was
    made, failed (or it was listed by another list). Its entries are queued instead."""

    def __init__(self, url: str, kind: InputKind, body: bytes, final_url: str) -> None:
        super().__init__(f"{url} is a {kind}, not an article")
        self.url, self.kind, self.body, self.final_url = url, kind, body, final_url

    def entries(self) -> list[str]:
        """Its articles (a feed, a sitemap) or, for a sitemap index, its sitemaps."""
        if self.kind == "feed":
            return feed_links(self.body, self.final_url)
        return sitemap_locs(self.body)[1]

    @property
    def is_index(self) -> bool:
        """A sitemap index: its entries are sitemaps, one more level of nesting."""
        return self.kind == "sitemap" and sitemap_locs(self.body)[0]


def listed_kind(body: bytes) -> InputKind | None:
    """Whether a fetched "article" is a feed or sitemap (``ListedSource``) after all."""
    return (
        _kind_of(body[: SNIFF_BYTES * 4]) if body.startswith(_GZIP) else sniff(body[:SNIFF_BYTES])
    )


class Expander:
    """Expands batch inputs; remote reads go through ``http`` and are recorded in ``recorder``.

    A feed or sitemap that cannot be read now (a reset, a 503, a 404 inside a sitemap index)
    is queued as it is: the pipeline fetches it like an article, finds it is a list
    (``ListedSource``) and queues its entries, or records why it could not be read, for
    ``retry``. Nothing it lists is dropped without a recorded reason."""

    def __init__(self, http: Http, recorder: Recorder, stdin: BinaryIO) -> None:
        self.http = http
        self.recorder = recorder
        self.stdin = stdin
        self.max_bytes = http.settings.max_article_bytes
        self._read: set[str] = set()  # sitemaps read: an index listing itself is read once
        #: Sitemaps of an index queued unread (a failed read, or at the nesting limit), with
        #: their depth: when read at their turn, their nesting goes on from there.
        self.depths: dict[str, int] = {}

    def expand(self, spec: BatchSpec) -> list[str]:
        """Every article source of the batch, in input order, each once."""
        seen: dict[str, None] = {}
        for source in spec.sources:
            seen.update(dict.fromkeys(self._source(source, spec.recursive)))
        for _, entries in spec.lists:
            for entry in entries:  # a folder in a list is read as on the command line
                folder = entry != "-" and not _URL.match(entry) and Path(entry).is_dir()
                seen.update(
                    dict.fromkeys(self._source(entry, spec.recursive) if folder else [entry])
                )
        return [_as_text(source) for source in seen]

    def _source(self, source: str, recursive: bool) -> Iterator[str]:
        if source == "-":
            yield source
        elif _URL.match(source):
            yield from self._url(source)
        elif Path(source).is_dir():
            found = folder_articles(Path(source), recursive)
            if not found:
                # An empty batch would end "done" with nothing done: most likely a wrong folder.
                where = "" if recursive else " (--recursive also reads its sub-folders)"
                raise InputError(f"{source}: no .html, .htm or .txt file in this folder{where}")
            yield from found
        else:
            yield from self._file(Path(source))

    def _file(self, path: Path) -> Iterable[str]:
        try:
            with path.open("rb") as fh:
                head = fh.read(SNIFF_BYTES)
                if not head.startswith(_GZIP) and sniff(head) is None:
                    return [str(path)]
                body = head + fh.read(self.max_bytes + 1 - len(head))
                kind = _kind_of(body)
                if kind is None:
                    return [str(path)]
        except OSError:
            return [str(path)]  # the article loader reports it, with its reason
        if len(body) > self.max_bytes:
            raise InputError(f"{path}: over the size cap of {self.max_bytes} bytes")
        return self._document(kind, body, None, depth=0)

    def _url(self, url: str) -> Iterable[str]:
        """A URL is an article unless its content is a feed or sitemap. Only the first
        ``SNIFF_BYTES`` of an article are read here; the pipeline fetches it in full."""
        try:
            kind, body, final_url = self._fetch(url, sniff_only=True)
        except EmbedArchiveError:
            return [url]  # the pipeline fetches it again and records the failure
        if kind is None:
            return [url]
        return self._document(kind, body, final_url, depth=0)

    def _fetch(self, url: str, *, sniff_only: bool) -> tuple[InputKind | None, bytes, str]:
        with self.http.stream(url, self.recorder, "batch-input") as response:
            if response.status_code >= 400:
                raise InputError(f"{url}: answered HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            kind: InputKind | None = None
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_bytes:
                    raise TooLargeError(f"{url} is over the cap of {self.max_bytes} bytes")
                if sniff_only and kind is None and size >= SNIFF_BYTES:
                    head = b"".join(chunks)
                    kind = sniff(head)
                    if kind is None and not head.startswith(_GZIP):
                        break
            body = b"".join(chunks)
            return kind or _kind_of(body), body, str(response.url)

    def _document(
        self, kind: InputKind, body: bytes, base: str | None, depth: int
    ) -> Iterable[str]:
        if kind == "feed":
            return feed_links(body, base)
        index, locs = sitemap_locs(body)
        if not index:
            return locs
        out: list[str] = []
        for loc in locs:
            if loc in self._read:
                continue
            self._read.add(loc)
            if depth + 1 >= MAX_SITEMAP_DEPTH:
                out.append(loc)  # read when it is its turn, its nesting counted there
                self.depths[loc] = depth + 1
                continue
            try:
                child_kind, child, final = self._fetch(loc, sniff_only=False)
            except EmbedArchiveError:
                out.append(loc)  # read again when it is its turn: the failure is recorded then
                self.depths[loc] = depth + 1
                continue
            if child_kind != "sitemap":
                out.append(loc)  # a page listed as a sitemap: archived as what it is
                continue
            out.extend(self._document("sitemap", child, final, depth + 1))
        return out


def _as_text(source: str) -> str:
    """A source as the archive records it: text. A file name that is not UTF-8 (from a Latin-1
    disk, an old zip) cannot be, so it is refused by name, its odd bytes shown as ``\\xNN``."""
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(source).decode("utf-8", "backslashreplace")
        raise InputError(
            f"{shown}: the file name is not UTF-8 text: rename the file (the archive records "
            "every source as text)"
        ) from None
    return source


def folder_articles(folder: Path, recursive: bool) -> list[str]:
    """The folder's article files (``.html``, ``.htm``, ``.txt``), sorted by path."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(str(p) for p in found if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES)


__all__ = [
    "BatchSpec",
    "Expander",
    "ListedSource",
    "feed_links",
    "folder_articles",
    "listed_kind",
    "parse_list",
    "sitemap_locs",
]
