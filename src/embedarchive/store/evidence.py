"""What the store adds beside the rows: WARC records linked to them, and a manifest per unit.

``Store`` calls one method per unit it writes, inside that unit's transaction; nothing here
decides *what* is stored, only how it is proven. Every media file is linked to a WARC record:
the response that carried its bytes, or, when no response did (yt-dlp merged or remuxed
them), a ``resource`` record of the file itself. yt-dlp's info JSON and what embedarchive
derived (the detections, each capture's result, each run's software) are ``metadata`` records.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from ..manifest import current_links, fetch_row, write_manifest
from ..models import Article, Capture, HttpExchange
from . import sql
from .warc import WarcRef, WarcWriter, recover_open_files


class Evidence:
    def __init__(self, root: Path, db: Database, warc_max_bytes: int) -> None:
        self.root = root
        self.db = db
        self.warc_max_bytes = warc_max_bytes
        self._writer: WarcWriter | None = None
        self._run: dict[str, Any] = {}

    @property
    def warc(self) -> WarcWriter:
        if self._writer is None:
            self._writer = WarcWriter(
                self.root, self.db, self.warc_max_bytes, self._info, self._sealed
            )
        return self._writer

    def _info(self) -> dict[str, Any]:
        import json

        software = self._run.get("software")
        return {
            "run_id": self._run.get("id"),
            "run": self._run or None,
            "software": json.loads(software) if isinstance(software, str) else {},
        }

    def _sealed(self, warc_file_id: int) -> None:
        row = fetch_row(self.db, "warc_files", warc_file_id) or {}
        write_manifest(
            self.db,
            self.root,
            "warc",
            f"warc:{row.get('name')}",
            {"warc_files": [warc_file_id]},
            [{"path": row.get("path"), "sha256": row.get("sha256"), "size": row.get("size")}],
        )

    def recover(self) -> list[str]:
        """Seal WARCs a crashed run left open (``seal`` calls this first; a run does when it
        writes its first record)."""
        return recover_open_files(self.root, self.db, self._sealed)

    def run_started(self, run_id: int, row: dict[str, Any]) -> None:
        """Vouch for the run row at once: a run that stores nothing else (a re-run of a
        finished batch, a run killed early) is in the chain like any other."""
        self._run = {"id": run_id, **row}
        write_manifest(self.db, self.root, "run", f"run:{run_id}", {"runs": [run_id]})

    def between_transactions(self) -> None:
        if self._writer is not None and not self.db.conn.in_transaction:
            self._writer.rotate_if_needed()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    # -- per unit ----------------------------------------------------------
    def _link(self, ref: WarcRef, role: str, **ids: int | None) -> int:
        return sql.insert(
            self.db,
            "warc_records",
            {
                "warc_file": ref.warc_file,
                "offset": ref.offset,
                "length": ref.length,
                "record_id": ref.record_id,
                "record_type": ref.record_type,
                "target_uri": ref.target_uri,
                "digest": ref.digest,
                "role": role,
                "run_id": self._run.get("id"),
                **ids,
            },
        )

    def exchanges(
        self, saved: Sequence[tuple[int, HttpExchange]], **link: int | None
    ) -> list[tuple[int, WarcRef, HttpExchange]]:
        """Request/response records for stored exchanges; returns (link id, record, exchange)."""
        out = []
        for exchange_id, exchange in saved:
            ref = self.warc.exchange(exchange)
            out.append(
                (self._link(ref, "exchange", exchange_id=exchange_id, **link), ref, exchange)
            )
        return out

    def article(
        self,
        article_id: int,
        article: Article,
        raw_path: str,
        run_id: int,
        exchanges: Sequence[tuple[int, WarcRef, HttpExchange]],
    ) -> None:
        links = [link for link, _, _ in exchanges]
        if article.source_kind != "url":  # no response carried it: the file itself
            mime = "text/html" if article.is_html else "text/plain"
            ref = self.warc.resource(
                f"urn:embedarchive:article:{article.sha256}",
                self.root / raw_path,
                mime,
                article.retrieved_at,
            )
            links.append(self._link(ref, "article", article_id=article_id))
        write_manifest(
            self.db,
            self.root,
            "article",
            f"article:{article_id}",
            {
                "articles": [article_id],
                "runs": [run_id],
                "http_exchanges": [fetch_exchange_id(self.db, link) for link in links],
                "warc_records": links,
            },
            [{"path": raw_path, "sha256": article.sha256, "size": len(article.raw)}],
        )

    def detections(self, article_id: int, new_ids: Sequence[int]) -> None:
        if not new_ids:
            return
        article = fetch_row(self.db, "articles", article_id) or {}
        rows = [fetch_row(self.db, "detections", i) for i in new_ids]
        uri = article.get("final_url") or f"urn:embedarchive:article:{article.get('sha256')}"
        ref = self.warc.metadata(
            uri, {"article_id": article_id, "detections": rows}, kind="detections"
        )
        link = self._link(ref, "detections", article_id=article_id)
        write_manifest(
            self.db,
            self.root,
            "detections",
            f"article:{article_id}",
            {"detections": new_ids, "warc_records": [link]},
            links={},  # each is linked to its post by a manifest of its own
        )

    def link(self, detection_id: int) -> None:
        """Vouch for a detection's link to its post (the subject is the detection's, as its
        resolution's is, so a bundle of its article carries it)."""
        write_manifest(
            self.db,
            self.root,
            "link",
            f"detection:{detection_id}",
            {},
            links=current_links(self.db, [detection_id]),
        )

    def resolution(
        self, detection_id: int, exchanges: Sequence[tuple[int, WarcRef, HttpExchange]]
    ) -> None:
        self._exchanges("resolution", f"detection:{detection_id}", exchanges)

    def run_exchanges(
        self, run_id: int, exchanges: Sequence[tuple[int, WarcRef, HttpExchange]]
    ) -> None:
        """Exchanges of the run alone: a feed or sitemap read, an article that never came."""
        self._exchanges("exchanges", f"run:{run_id}", exchanges)

    def _exchanges(
        self, kind: str, subject: str, exchanges: Sequence[tuple[int, WarcRef, HttpExchange]]
    ) -> None:
        if not exchanges:
            return
        write_manifest(
            self.db,
            self.root,
            kind,
            subject,
            {
                "http_exchanges": [fetch_exchange_id(self.db, link) for link, _, _ in exchanges],
                "warc_records": [link for link, _, _ in exchanges],
            },
        )

    def capture(
        self,
        capture_id: int,
        capture: Capture,
        media_ids: Sequence[int],
        run_id: int,
        exchanges: Sequence[tuple[int, WarcRef, HttpExchange]],
    ) -> None:
        links = [link for link, _, _ in exchanges]
        by_sha = {
            e.body_sha256: ref
            for _, ref, e in exchanges
            if e.complete and e.body_sha256 and ref.record_type == "response"
        }
        for media_id, media in zip(media_ids, capture.media, strict=True):
            ids = {"capture_id": capture_id, "media_id": media_id}
            ref = by_sha.get(media.sha256)
            if ref is None:  # no response carried these bytes (yt-dlp merged them): the file
                ref = self.warc.resource(
                    f"urn:embedarchive:media:{media.sha256}",
                    self.root / media.path,
                    media.mime,
                    capture.finished_at,
                )
            links.append(self._link(ref, "media", **ids))
            if "ytdlp" in media.info:
                info = self.warc.metadata(
                    ref.target_uri, media.info["ytdlp"], kind="ytdlp-info", refers_to=ref.record_id
                )
                links.append(self._link(info, "ytdlp-info", **ids))
        derived = {
            "capture_id": capture_id,
            "status": capture.status,
            "method": capture.method,
            "attempts": [a.__dict__ for a in capture.attempts],
            "post": _post_json(capture),
            "media": [{"sha256": m.sha256, "kind": m.kind, "mime": m.mime} for m in capture.media],
            "error": capture.error,
        }
        ref = self.warc.metadata(capture.target.url, derived, kind="capture")
        links.append(self._link(ref, "capture", capture_id=capture_id))
        write_manifest(
            self.db,
            self.root,
            "capture",
            f"capture:{capture_id}",
            {
                "captures": [capture_id],
                "runs": [run_id],
                "media": media_ids,
                "http_exchanges": [fetch_exchange_id(self.db, link) for link, _, _ in exchanges],
                "warc_records": links,
            },
            [{"path": m.path, "sha256": m.sha256, "size": m.size} for m in capture.media],
        )


def fetch_exchange_id(db: Database, link_id: int) -> int | None:
    row = fetch_row(db, "warc_records", link_id)
    return row.get("exchange_id") if row else None


def _post_json(capture: Capture) -> dict[str, Any] | None:
    post = capture.post
    if post is None:
        return None
    return {
        "platform": post.platform,
        "id": post.id,
        "url": post.url,
        "uploader": post.uploader,
        "uploader_id": post.uploader_id,
        "created_at": post.created_at,
        "text": post.text,
        "counts": post.counts,
    }
