"""Read-side queries shared by the CLI (and later the web UI)."""

from __future__ import annotations

import json
from typing import Any

from ..errors import InputError
from . import sql
from .records import Store


def _decode(row: dict[str, Any], *names: str) -> dict[str, Any]:
    out = dict(row)
    for name in names:
        if isinstance(out.get(name), str):
            try:
                out[name] = json.loads(out[name])
            except ValueError:
                pass
    return out


def list_articles(store: Store, limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """The newest ``limit`` articles (all when None), oldest first, and how many there are."""
    rows = list(
        store.db.query(
            """select a.id, a.source, a.title, a.retrieved_at, a.sha256, a.encoding,
                      (select count(*) from detections d where d.article_id = a.id) as embeds
               from articles a order by a.id desc limit ?""",
            [-1 if limit is None else limit],
        )
    )
    total = store.db.execute("select count(*) from articles").fetchone()[0]
    return rows[::-1], int(total)


def list_posts(
    store: Store, platform: str | None = None, status: str | None = None, limit: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The newest ``limit`` posts (all when None) of a platform and status, oldest first, and
    how many there are."""
    where, params = [], []
    if platform:
        where.append("platform = ?")
        params.append(platform)
    if status:
        where.append("status = ?")
        params.append(status)
    clause = " where " + " and ".join(where) if where else ""
    rows = list(
        store.db.query(
            "select id, platform, post_id, uploader, uploader_id, created_at, status, "
            f"last_captured_at, url from posts{clause} order by id desc limit ?",
            [*params, -1 if limit is None else limit],
        )
    )
    total = store.db.execute(f"select count(*) from posts{clause}", params).fetchone()[0]
    return rows[::-1], int(total)


def find_post(store: Store, ident: str) -> dict[str, Any]:
    """A post by row id, by ``platform:post_id``, or by post id alone."""
    rows: list[dict[str, Any]] = []
    if ":" in ident:
        platform, _, post_id = ident.partition(":")
        rows = list(
            store.db.table("posts").rows_where("platform = ? and post_id = ?", [platform, post_id])
        )
    if not rows:  # an id alone, a colon in it too (a Bluesky id is ``did:plc:…/rkey``)
        rows = list(store.db.table("posts").rows_where("post_id = ?", [ident]))
    if not rows and (pk := sql.row_id(ident)) is not None:
        rows = list(store.db.table("posts").rows_where("id = ?", [pk]))
    if not rows:
        raise InputError(f"no post {ident!r} in the archive (see 'embedarchive list')")
    if len(rows) > 1:
        raise InputError(f"{ident!r} is ambiguous; use platform:id")
    return rows[0]


def post_detail(store: Store, ident: str, limit: int | None = None) -> dict[str, Any]:
    """A post with its captures, embeds and history; ``limit``: at most that many captures
    (the latest) and embeds (the first), with ``captures_total`` and ``detections_total``
    saying how many there are (a post embedded by thousands of articles)."""
    post = _decode(find_post(store, ident), "counts")
    pk = post["id"]
    bound = "" if limit is None else f" limit {int(limit)}"
    captures = [
        _decode(c, "attempts", "data")
        for c in store.db.query(
            f"select * from (select * from captures where post_pk = ? order by id desc{bound}) "
            "order by id",
            [pk],
        )
    ]
    for capture in captures:
        capture.pop("raw", None)
        capture["media"] = [
            _decode(m, "info")
            for m in store.db.query(
                "select * from media where capture_id = ? order by position", [capture["id"]]
            )
        ]
        capture["http_exchanges"] = [
            _decode(e, "request_headers", "response_headers")
            for e in store.db.query(
                "select * from http_exchanges where capture_id = ? order by id", [capture["id"]]
            )
        ]
        run = store.db.query("select * from runs where id = ?", [capture["run_id"]])
        capture["run"] = (
            [_decode(r, "software", "argv") for r in run][0] if capture["run_id"] else None
        )
        if capture["run"]:
            capture["run"].pop("settings", None)
    detections = [
        _decode(d, "links", "resolution_hops")
        for d in store.db.query(
            f"""select d.*, a.source as article_source from detections d
               join articles a on a.id = d.article_id where d.post_pk = ? order by d.id{bound}""",
            [pk],
        )
    ]
    for detection in detections:
        detection["resolution_exchanges"] = [
            _decode(e, "response_headers")
            for e in store.db.query(
                "select id, url, status, location, body_sha256, started_at from http_exchanges where detection_id = ? order by id",
                [detection["id"]],
            )
        ]
        detection.pop("snippet", None)
        detection["findings"] = detection_findings(store, detection["id"])
    post["captures"] = captures
    post["detections"] = detections
    for table, key in (("captures", "captures_total"), ("detections", "detections_total")):
        post[key] = store.db.execute(
            f"select count(*) from {table} where post_pk = ?", [pk]
        ).fetchone()[0]
    post["history"] = post_history(store, pk)
    return post


def _has_table(store: Store, name: str) -> bool:
    """Tables of later migrations are absent from archives that read commands did not upgrade."""
    return name in store.db.table_names()


def post_history(store: Store, post_pk: int) -> list[dict[str, Any]]:
    """Every capture of a post, oldest first, with the changes it revealed (``post_changes``):
    ``text-edited``, ``media-changed``, ``unavailable``, ``available-again``."""
    changes: dict[int, list[dict[str, Any]]] = {}
    if _has_table(store, "post_changes"):
        for row in store.db.query(
            "select * from post_changes where post_pk = ? order by id", [post_pk]
        ):
            changes.setdefault(row["to_capture_id"], []).append(_decode(row, "details"))
    out = []
    for c in store.db.query(
        """select id, status, method, finished_at, error, data, attempts from captures
           where post_pk = ? order by id""",
        [post_pk],
    ):
        data = _decode(c, "data")["data"] or {}
        attempts = _decode(c, "attempts")["attempts"] or [{}]
        media = store.db.query("select sha256 from media where capture_id = ?", [c["id"]])
        out.append(
            {
                "capture_id": c["id"],
                "at": c["finished_at"],
                "status": c["status"],
                "method": c["method"],
                "wayback": c["method"] == "wayback",
                "snapshot": attempts[0].get("detail") if c["method"] == "wayback" else None,
                "error": c["error"],
                "text": data.get("text") if isinstance(data, dict) else None,
                "media": sorted({m["sha256"] for m in media}),
                "changes": changes.get(c["id"], []),
            }
        )
    return out


def detection_findings(store: Store, detection_id: int) -> list[dict[str, Any]]:
    """An embed's latest judgement against its live capture and against a web-archive
    snapshot: the findings of the capture and rule judged last for each (as
    ``embed_comparisons`` picks them)."""
    if not _has_table(store, "findings"):
        return []
    rows = store.db.query(
        """select f.* from findings f where f.detection_id = ? and f.id in (
             select x.id from findings x join (select g.capture_id, g.rule from findings g
                 where g.detection_id = f.detection_id and g.source = f.source
                 order by g.id desc limit 1) l on x.capture_id = l.capture_id and x.rule = l.rule
               where x.detection_id = f.detection_id and x.source = f.source)
           order by f.source, f.id""",
        [detection_id],
    )
    return without_superseded_snapshots([_decode(r, "details") for r in rows])


def without_superseded_snapshots(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings less those against a Wayback snapshot of an embed whose post a live capture
    has back: judged while the post was gone, they are history now (``check``, ``show`` and
    the post page alike)."""
    live = {f["detection_id"] for f in found if f["source"] == "live" and f["kind"] != "deleted"}
    return [f for f in found if f["source"] != "wayback" or f["detection_id"] not in live]


def find_article(store: Store, ident: str) -> dict[str, Any]:
    """An article by row id or by its source (path, URL or ``-``) as archived."""
    rows = list(store.db.table("articles").rows_where("source = ?", [ident]))
    if not rows and (pk := sql.row_id(ident)) is not None:
        rows = list(store.db.table("articles").rows_where("id = ?", [pk]))
    if not rows:
        raise InputError(f"no article {ident!r} in the archive (see 'embedarchive list')")
    return rows[-1]
