"""The WACZ-specific parts of an export: the CDXJ index and the pages list.

CDXJ lines are ``<SURT key> <14-digit timestamp> <JSON>``, sorted, with the fields ReplayWeb.page
and pywb read (url, mime, status, digest, offset, length, filename); response and resource
records are indexed.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def surt(url: str) -> str:
    """Sort-friendly URI key: ``https://www.Example.com/a?b=1&a=2`` → ``com,example)/a?a=2&b=1``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return url
    host = parts.hostname.lower().removeprefix("www.")
    key = ",".join(reversed(host.split(".")))
    default = {"http": 80, "https": 443}[parts.scheme]
    if parts.port and parts.port != default:
        key += f":{parts.port}"
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    return f"{key}){(parts.path or '/').lower()}" + (f"?{query.lower()}" if query else "")


def cdxj_lines(warc: Path, filename: str) -> list[str]:
    from warcio.archiveiterator import ArchiveIterator

    lines = []
    with open(warc, "rb") as fh:
        iterator = ArchiveIterator(fh)
        for record in iterator:
            kind = record.rec_type
            headers = record.rec_headers
            iterator.read_to_end()
            if kind not in ("response", "resource"):
                continue
            url = headers.get_header("WARC-Target-URI") or ""
            date = headers.get_header("WARC-Date") or ""
            entry: dict[str, Any] = {
                "url": url,
                "digest": headers.get_header("WARC-Payload-Digest"),
                "offset": iterator.get_record_offset(),
                "length": iterator.get_record_length(),
                "filename": filename,
                "recordId": headers.get_header("WARC-Record-ID"),
            }
            if kind == "response" and record.http_headers is not None:
                entry["status"] = record.http_headers.get_statuscode()
                mime = record.http_headers.get_header("Content-Type") or ""
            else:
                entry["status"] = 200
                mime = headers.get_header("Content-Type") or ""
            entry["mime"] = mime.split(";")[0].strip()
            stamp = "".join(ch for ch in date if ch.isdigit())[:14]
            lines.append(f"{surt(url)} {stamp} {json.dumps(entry, sort_keys=True)}\n")
    return sorted(lines)


def page_entries(
    articles: list[dict[str, Any]],
    captures: list[dict[str, Any]],
    exchanges: list[dict[str, Any]],
    cdx: list[str],
) -> list[dict[str, Any]]:
    """pages.jsonl: each fetched article, and each capture's first successful answer."""
    indexed = {json.loads(line.split(" ", 2)[2])["url"] for line in cdx}
    pages: list[dict[str, Any]] = [
        {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    ]

    def add(url: str | None, ts: str, title: str) -> None:
        if url and url in indexed:
            # An id from what the page is, so the list is made again the same (verify).
            page_id = hashlib.sha256(f"{len(pages)} {ts} {url}".encode()).hexdigest()[:32]
            pages.append({"id": page_id, "url": url, "ts": ts, "title": title[:200]})

    for a in articles:
        add(a.get("final_url") or a.get("url"), a["retrieved_at"], a.get("title") or a["source"])
    for c in captures:
        answer = next(
            (
                e
                for e in exchanges
                if e["capture_id"] == c["id"] and e["status"] == 200 and e["url"] in indexed
            ),
            None,
        )
        if answer is not None:
            add(
                answer["url"],
                answer["started_at"],
                f"{c['platform']} {c['post_id']} ({c['status']})",
            )
    return pages


_FANNED_OUT = re.compile(r"^(media|manifests|timestamps)/[0-9a-f]{2}/([^/]+)$")


def member_name(archive_path: str) -> str:
    """Where an archive file sits inside a bundle: ``media/ab/<sha>.jpg`` → ``media/<sha>.jpg``.

    The archive fans files out by the first two hex digits; a bundle keeps every member two
    levels deep, which the reference validator (py-wacz's ``wacz validate``) expects.
    """
    m = _FANNED_OUT.match(archive_path)
    return f"{m.group(1)}/{m.group(2)}" if m else archive_path
