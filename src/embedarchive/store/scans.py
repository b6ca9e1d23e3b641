"""Article scans: which detector read a stored article, so re-running a finished batch over
unchanged articles skips detection and every per-embed step (issue 6: a re-run costs < 5%)."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from .records import Store

_PACKAGE = Path(__file__).resolve().parent.parent
#: What decides which embeds an article yields: the detectors and the platforms' markers.
_DETECTOR_SOURCES = ("detect", "platforms")
FINAL_POST_STATUSES = ("archived", "unavailable")
FINAL_RESOLUTIONS = ("direct", "resolved", "recovered")


@cache
def _source_digest() -> str:
    sha = hashlib.sha256()
    for folder in _DETECTOR_SOURCES:
        for path in sorted((_PACKAGE / folder).glob("*.py")):
            sha.update(path.name.encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()


def detector_fingerprint(platform_names: tuple[str, ...]) -> str:
    """The detection code's own digest and the registry's platforms, in order: a changed
    detector or registry reads stored articles again."""
    names = ",".join(platform_names)
    return hashlib.sha256(f"{_source_digest()}|{names}".encode()).hexdigest()[:32]


def record_scan(
    store: Store, article_id: int, detector: str, found: int, run_id: int, scanned_at: str
) -> None:
    with store.atomic():
        store.db.execute(
            "insert or ignore into article_scans (article_id, detector, found, scanned_at, run_id)"
            " values (?, ?, ?, ?, ?)",
            [article_id, detector, found, scanned_at, run_id],
        )


def settled_embeds(store: Store, article_id: int, detector: str) -> list[dict[str, Any]] | None:
    """The article's detections with their post's status, if ``detector`` has read it and
    every embed reached an end no re-run would change (its post archived or unavailable, or
    a plain-text embed without a link that nothing can resolve); otherwise None."""
    scan = store.db.execute(
        "select found from article_scans where article_id = ? and detector = ?",
        [article_id, detector],
    ).fetchone()
    if scan is None:
        return None
    cursor = store.db.execute(
        """select d.id as detection_id, d.platform, d.handle, d.url, d.links, d.resolution,
                  d.resolved_url, d.resolution_error, d.post_pk, p.status as post_status
           from detections d left join posts p on p.id = d.post_pk
           where d.article_id = ? order by d.id""",
        [article_id],
    )
    columns = [c[0] for c in cursor.description]
    rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    if len(rows) != scan[0]:
        return None
    for row in rows:
        linked = row["resolution"] in FINAL_RESOLUTIONS and row["post_status"] in (
            FINAL_POST_STATUSES
        )
        hopeless = row["resolution"] == "unresolved" and not json.loads(row["links"] or "[]")
        if not (linked or hopeless):
            return None
    return rows


__all__ = ["detector_fingerprint", "record_scan", "settled_embeds"]
