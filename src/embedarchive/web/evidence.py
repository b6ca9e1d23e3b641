"""The proof behind a capture, for the provenance panel: WARC records, manifests, seals, recoveries.

Each HTTP exchange links to the WARC record holding its bytes (``warc_records``, m004) and the
sealed WARC file it sits in; each capture names its manifest in the hash chain and the first
RFC 3161 timestamp whose manifest is at or after it in the chain (a token over a later chain head
covers every manifest before it). Recoveries (``recoveries``, m005) say how an embed without a
link, or a post that is gone, was found in the Wayback Machine. All lookups are by index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..manifest import backfills
from .sql import loads, one, rows


def _marks(ids: list[int]) -> str:
    return ",".join("?" * len(ids))


_RECORDS = """select r.id, r.warc_file, r."offset", r.length, r.record_id, r.record_type,
                  r.target_uri, r.role, r.exchange_id, r.capture_id, w.sha256 as file_sha256
               from warc_records r left join warc_files w on w.name = r.warc_file"""


def link_exchanges(conn: sqlite3.Connection, exchanges: Iterable[dict[str, Any]]) -> None:
    """Attach to every exchange its WARC record (``warc``: the response, else the request)."""
    by_id = {e["id"]: e for e in exchanges}
    for e in by_id.values():
        e["warc"] = None
    ids = sorted(by_id)
    if not ids:
        return
    for r in rows(conn, f"{_RECORDS} where r.exchange_id in ({_marks(ids)}) order by r.id", ids):
        if by_id[r["exchange_id"]]["warc"] is None or r["record_type"] == "response":
            by_id[r["exchange_id"]]["warc"] = r


def warc_records(conn: sqlite3.Connection, captures: list[dict[str, Any]]) -> None:
    """Link every exchange of the captures to its WARC record, and attach to each capture the
    records embedarchive wrote for it that are not exchanges (``warc_records``: media, metadata)."""
    link_exchanges(conn, (e for c in captures for e in c["http_exchanges"]))
    by_capture = {c["id"]: c for c in captures}
    for c in captures:
        c["warc_records"] = []
    ids = sorted(by_capture)
    if not ids:
        return
    for r in rows(
        conn,
        # ``+``: by the capture's index; the exchange index walked every record of no exchange
        # (half the table: article resources, metadata, media), growing with the archive.
        f"{_RECORDS} where r.capture_id in ({_marks(ids)}) and +r.exchange_id is null "
        "order by r.id",
        ids,
    ):
        by_capture[r["capture_id"]]["warc_records"].append(r)


def warc_record(conn: sqlite3.Connection, record_id: int) -> dict[str, Any] | None:
    return one(conn, f"{_RECORDS} where r.id = ?", [record_id])


def manifests(conn: sqlite3.Connection, captures: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Attach each capture's manifest and the timestamp sealing it; returns the chain head."""
    for c in captures:
        c["manifest"], c["seal"] = _sealed_manifest(conn, "capture", f"capture:{c['id']}")
    head = one(conn, "select id, seq, sha256, created_at from manifests order by seq desc limit 1")
    if head:
        head["seal"] = sealed_by(conn, head["seq"])
    return head


def link_manifests(conn: sqlite3.Connection, detections: list[dict[str, Any]]) -> None:
    """Attach to each detection the manifest vouching for its link to its post (the latest;
    none for a link made before link manifests existed) and the timestamp sealing it."""
    for d in detections:
        d["link_manifest"], d["link_seal"] = _sealed_manifest(conn, "link", f"detection:{d['id']}")


def backfilled(
    conn: sqlite3.Connection,
    root: Path,
    captures: list[dict[str, Any]],
    detections: list[dict[str, Any]],
) -> None:
    """For a capture or a link from before manifests (none of its own), the backfill manifest
    that lists it, as ``backfill``/``link_backfill``, and the timestamp sealing that: the page
    said "once sealed" after the seal too. Only a backfill that names the row counts (a row
    added behind the chain's back is in none)."""
    bare = [c for c in captures if not c["manifest"]]
    unlinked = [d for d in detections if d.get("post_pk") and not d["link_manifest"]]
    if not bare and not unlinked:
        return
    found = backfills(conn, root)
    for c in bare:
        seq = next((b.seq for b in found if ("captures", c["id"]) in b.rows), None)
        c["backfill"], c["seal"] = _by_seq(conn, seq)
    for d in unlinked:
        seq = next((b.seq for b in found if d["id"] in b.links), None)
        d["link_backfill"], d["link_seal"] = _by_seq(conn, seq)


def _by_seq(
    conn: sqlite3.Connection, seq: int | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    if seq is None:
        return None, None
    found = one(
        conn, "select id, seq, sha256, path, created_at from manifests where seq = ?", [seq]
    )
    return found, sealed_by(conn, seq)


def _sealed_manifest(
    conn: sqlite3.Connection, kind: str, subject: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The latest manifest of this kind and subject, and the timestamp sealing it."""
    found = one(
        conn,
        "select id, seq, sha256, path, created_at from manifests where kind = ? and subject = ? "
        "order by seq desc limit 1",
        [kind, subject],
    )
    return found, sealed_by(conn, found["seq"]) if found else None


def sealed_by(conn: sqlite3.Connection, seq: int) -> dict[str, Any] | None:
    """The earliest timestamp over a manifest at or after ``seq`` in the chain, if any."""
    return one(
        conn,
        """select t.id, t.gen_time, t.tsa_name, t.tsa_url, t.serial, t.sha256,
                  m.seq, m.sha256 as manifest_sha256
           from timestamps t join manifests m on m.id = t.manifest_id
           where m.seq >= ? order by m.seq, t.id limit 1""",
        [seq],
    )


def recoveries(
    conn: sqlite3.Connection, detection_ids: Iterable[int], post_pks: Iterable[int]
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """The successful recovery of each embed (snowflake) and of each post (wayback)."""
    dids = sorted(set(detection_ids))
    pks = sorted({pk for pk in post_pks if pk is not None})
    by_detection: dict[int, dict[str, Any]] = {}
    by_post: dict[int, dict[str, Any]] = {}
    if dids:
        for r in rows(
            conn,
            f"""select * from recoveries where detection_id in ({_marks(dids)})
                and outcome = 'recovered' order by id""",
            dids,
        ):
            by_detection[r["detection_id"]] = _recovery(r)
    if pks:
        for r in rows(
            conn,
            f"""select * from recoveries where post_pk in ({_marks(pks)}) and kind = 'wayback'
                and outcome = 'recovered' order by id""",
            pks,
        ):
            by_post[r["post_pk"]] = _recovery(r)
    return by_detection, by_post


def _recovery(r: dict[str, Any]) -> dict[str, Any]:
    candidates, capture_ids = loads(r["candidates"]), loads(r["capture_ids"])
    return {
        **r,
        "candidates": candidates if isinstance(candidates, list) else [],
        "capture_ids": capture_ids if isinstance(capture_ids, list) else [],
    }
