"""What each page reads: plain functions over one read-only ``sqlite3`` connection.

They run inside Datasette's SQL threads (``Database.execute_fn``), one call per page, so a page
costs one thread hop. Every query is bounded (indexed lookups, LIMITs), so pages stay fast on
archives of hundreds of thousands of posts; the post page reuses ``store.queries.post_detail``,
the same reading as ``embedarchive show``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from ..store.queries import post_detail
from ..store.records import Store
from . import evidence
from .compare import NOTHING_SHOWN, compare, history, shows_nothing
from .sql import loads as _json
from .sql import one, rows

LATEST = 12
__all__ = ["article", "capture_raw", "card_media", "home", "one", "post", "rows"]


def card_media(conn: sqlite3.Connection, post_pks: Iterable[int]) -> dict[int, list[dict]]:
    """The media of each post's latest capture that has any, in the post's order."""
    pks = sorted({pk for pk in post_pks if pk is not None})
    if not pks:
        return {}
    marks = ",".join("?" * len(pks))
    found: dict[int, list[dict]] = {}
    for m in rows(
        conn,
        f"""select m.post_pk, m.kind, m.sha256, m.mime, m.size, m.position from media m
            join (select post_pk, max(capture_id) as capture_id from media
                  where post_pk in ({marks}) group by post_pk) latest
              on latest.capture_id = m.capture_id and latest.post_pk = m.post_pk
            order by m.post_pk, m.position""",
        pks,
    ):
        found.setdefault(m["post_pk"], []).append(m)
    return found


def home(conn: sqlite3.Connection) -> dict[str, Any]:
    by_status = rows(
        conn,
        "select platform, status, count(*) as n from posts group by platform, status "
        "order by platform, status",
    )
    platforms: dict[str, dict[str, int]] = {}
    for r in by_status:
        platforms.setdefault(r["platform"], {})[r["status"]] = r["n"]
    counts = one(
        conn,
        """select (select count(*) from articles) as articles,
                  (select count(*) from posts) as posts,
                  (select count(*) from captures) as captures,
                  (select count(*) from search_items where changed) as changed,
                  (select count(*) from detections where post_pk is null) as pending""",
    )
    media = one(
        conn,
        "select count(*) as files, coalesce(sum(size), 0) as bytes from "
        "(select sha256, max(size) as size from media group by sha256)",
    )
    latest = rows(
        conn,
        f"""select c.id, c.finished_at, c.status, c.method, c.error, p.id as post_pk, p.platform,
                   p.post_id,
                   p.uploader, p.uploader_id, substr(p.text, 1, 240) as text
            from captures c join posts p on p.id = c.post_pk
            order by c.finished_at desc limit {LATEST}""",
    )
    articles = rows(
        conn,
        f"""select a.id, a.title, a.source, a.retrieved_at,
                   (select count(*) from detections d where d.article_id = a.id) as embeds
            from articles a order by a.id desc limit {LATEST}""",
    )
    return {
        "counts": counts,
        "platforms": platforms,
        "statuses": sorted({r["status"] for r in by_status}),
        "media": media,
        "latest": latest,
        "articles": articles,
    }


def article(conn: sqlite3.Connection, article_id: int) -> dict[str, Any] | None:
    found = one(conn, "select * from articles where id = ?", [article_id])
    if found is None:
        return None
    found["http_headers"] = _json(found["http_headers"]) or []
    run = one(conn, "select * from runs where id = ?", [found["run_id"]])
    if run:
        run["software"] = _json(run["software"]) or {}
    exchanges = rows(
        conn, "select * from http_exchanges where article_id = ? order by id", [article_id]
    )
    for e in exchanges:
        e["request_headers"] = _json(e["request_headers"]) or []
        e["response_headers"] = _json(e["response_headers"]) or []
    evidence.link_exchanges(conn, exchanges)
    embeds = rows(
        conn,
        """select d.*, p.id as pk, p.uploader, p.uploader_id, p.created_at, p.text as post_text,
                  p.status, p.url as post_url, p.platform as post_platform
           from detections d left join posts p on p.id = d.post_pk
           where d.article_id = ? order by d.offset, d.id""",
        [article_id],
    )
    kinds: dict[int, list[str]] = {}
    for f in rows(
        conn,
        """select e.detection_id, f.kind from embed_comparisons e join findings f
             on f.detection_id = e.detection_id and f.capture_id = e.capture_id
            and f.rule = e.rule and f.source = e.source
           where e.article_id = ? order by f.id""",
        [article_id],
    ):
        kinds.setdefault(f["detection_id"], []).append(f["kind"])
    media = card_media(conn, (e["pk"] for e in embeds))
    recovered, _ = evidence.recoveries(conn, (e["id"] for e in embeds), ())
    for e in embeds:
        e["links"] = _json(e["links"]) or []
        e["media"] = media.get(e["pk"], [])
        nothing = e["pk"] is not None and shows_nothing(e)
        e["findings"] = kinds.get(e["id"]) or ([NOTHING_SHOWN] if nothing else [])
        e["recovery"] = recovered.get(e["id"])
    return {"article": found, "run": run, "exchanges": exchanges, "embeds": embeds}


#: Captures and embeds a post page shows unless asked for all (``?all=1``).
POST_PAGE_ITEMS = 50


def post(
    conn: sqlite3.Connection, post_pk: int, root: Path, everything: bool = False
) -> dict[str, Any] | None:
    key = one(conn, "select platform, post_id from posts where id = ?", [post_pk])
    if key is None:
        return None
    detail = post_detail(
        Store(Database(conn)),
        f"{key['platform']}:{key['post_id']}",
        None if everything else POST_PAGE_ITEMS,
    )
    titles = {
        r["id"]: r["title"]
        for r in rows(
            conn,
            "select a.id, a.title from articles a join detections d on d.article_id = a.id "
            "where d.post_pk = ?",
            [post_pk],
        )
    }
    captures = {c["id"]: c for c in detail["captures"]}
    latest_media: list[dict[str, Any]] = next(
        (c["media"] for c in reversed(detail["captures"]) if c["media"]), []
    )
    # What earlier captures held and the latest does not (a video taken down, a photo
    # swapped): the evidence a fact-checker most wants to play, newest capture first.
    shown = {m["sha256"] for m in latest_media}
    earlier_media: list[dict[str, Any]] = []
    for c in reversed(detail["captures"]):
        for m in c["media"]:
            if m["sha256"] not in shown:
                shown.add(m["sha256"])
                earlier_media.append({**m, "capture_id": c["id"]})
    comparisons = [
        c for d in detail["detections"] for c in _comparisons(d, detail, captures, titles)
    ]
    recovered, by_post = evidence.recoveries(
        conn, (d["id"] for d in detail["detections"]), [post_pk]
    )
    for d in detail["detections"]:
        d["recovery"] = recovered.get(d["id"])
    evidence.link_manifests(conn, detail["detections"])
    evidence.warc_records(conn, detail["captures"])
    head = evidence.manifests(conn, detail["captures"])
    evidence.backfilled(conn, root, detail["captures"], detail["detections"])
    quoted = None
    if detail["quoted_post_id"]:
        quoted = one(
            conn,
            "select id, platform, post_id, uploader, uploader_id, created_at, text, status, url "
            "from posts where platform = ? and post_id = ?",
            [detail["platform"], detail["quoted_post_id"]],
        )
        if quoted:
            quoted["media"] = card_media(conn, [quoted["id"]]).get(quoted["id"], [])
    changed = one(conn, "select changed from search_items where id = ?", [post_pk])
    return {
        "post": detail,
        "media": latest_media,
        "earlier_media": earlier_media,
        "comparisons": comparisons,
        "history": history(detail["history"]),
        "recovery": by_post.get(post_pk),
        "chain_head": head,
        "quoted": quoted,
        "changed": bool(changed and changed["changed"]),
    }


def _comparisons(
    detection: dict[str, Any],
    post: dict[str, Any],
    captures: dict[int, dict[str, Any]],
    titles: dict[int, str],
) -> Iterable[dict[str, Any]]:
    """The embed against each capture its findings judged (live, then a Wayback snapshot when
    the post is gone), or against the post as last captured when nothing was judged yet."""
    title = titles.get(detection["article_id"])
    by_source: dict[str, list[dict[str, Any]]] = {}
    for f in detection["findings"]:
        by_source.setdefault(f["source"], []).append(f)
    if not by_source:
        yield compare(detection, post, [], None, title)
    for source in sorted(by_source, key=lambda s: s != "live"):
        found = by_source[source]
        capture = captures.get(found[0]["capture_id"])
        data = capture["data"] if capture and isinstance(capture["data"], dict) else {}
        yield compare(detection, data, found, capture, title)


def capture_raw(conn: sqlite3.Connection, capture_id: int) -> dict[str, Any] | None:
    return one(conn, "select id, raw, raw_sha256 from captures where id = ?", [capture_id])
