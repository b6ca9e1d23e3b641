"""Read-side queries shared by the CLI (and later the web UI)."""

from __future__ import annotations

import json
from typing import Any

from ..errors import InputError
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


def list_articles(store: Store) -> list[dict[str, Any]]:
    return list(
        store.db.query(
            """select a.id, a.source, a.title, a.retrieved_at, a.sha256, a.encoding,
                      count(d.id) as embeds
               from articles a left join detections d on d.article_id = a.id
               group by a.id order by a.id"""
        )
    )


def list_posts(
    store: Store, platform: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    where, params = [], []
    if platform:
        where.append("platform = ?")
        params.append(platform)
    if status:
        where.append("status = ?")
        params.append(status)
    sql = (
        "select id, platform, post_id, uploader, uploader_id, created_at, status, "
        "last_captured_at, url from posts"
        + (" where " + " and ".join(where) if where else "")
        + " order by id"
    )
    return list(store.db.query(sql, params))


def find_post(store: Store, ident: str) -> dict[str, Any]:
    """A post by row id, by ``platform:post_id``, or by post id alone."""
    rows: list[dict[str, Any]] = []
    if ":" in ident:
        platform, _, post_id = ident.partition(":")
        rows = list(
            store.db.table("posts").rows_where("platform = ? and post_id = ?", [platform, post_id])
        )
    else:
        rows = list(store.db.table("posts").rows_where("post_id = ?", [ident]))
        if not rows and ident.isdigit():
            rows = list(store.db.table("posts").rows_where("id = ?", [int(ident)]))
    if not rows:
        raise InputError(f"no post {ident!r} in the archive (see 'embedarchive list')")
    if len(rows) > 1:
        raise InputError(f"{ident!r} is ambiguous; use platform:id")
    return rows[0]


def post_detail(store: Store, ident: str) -> dict[str, Any]:
    post = _decode(find_post(store, ident), "counts")
    pk = post["id"]
    captures = [
        _decode(c, "attempts", "data")
        for c in store.db.query("select * from captures where post_pk = ? order by id", [pk])
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
            """select d.*, a.source as article_source from detections d
               join articles a on a.id = d.article_id where d.post_pk = ? order by d.id""",
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
    post["captures"] = captures
    post["detections"] = detections
    return post
