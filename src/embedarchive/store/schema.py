"""The archive's schema, as an ordered list of migrations (sqlite-utils ``Migrations``).

Never edit a released migration: add a new one. ``SCHEMA_VERSION`` is the number of
migrations this release knows; an archive written by a newer release is refused rather
than silently misread.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("embedarchive")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("runs").create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "command": str,
            "argv": str,
            "software": str,
            "settings": str,
            "operator": str,
            "hostname": str,
        },
        pk="id",
    )
    db.table("articles").create(
        {
            "id": int,
            "source": str,
            "source_kind": str,
            "url": str,
            "final_url": str,
            "sha256": str,
            "size": int,
            "raw_path": str,
            "encoding": str,
            "is_html": int,
            "title": str,
            "text": str,
            "retrieved_at": str,
            "http_status": int,
            "http_headers": str,
            "run_id": int,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("articles").create_index(["source", "sha256"], unique=True)
    db.table("posts").create(
        {
            "id": int,
            "platform": str,
            "post_id": str,
            "url": str,
            "uploader": str,
            "uploader_id": str,
            "user_id": str,
            "created_at": str,
            "text": str,
            "lang": str,
            "reply_to_id": str,
            "quoted_post_id": str,
            "counts": str,
            "status": str,
            "first_captured_at": str,
            "last_captured_at": str,
            "last_capture_id": int,
        },
        pk="id",
    )
    db.table("posts").create_index(["platform", "post_id"], unique=True)
    db.table("detections").create(
        {
            "id": int,
            "article_id": int,
            "platform": str,
            "kind": str,
            "markup": str,
            "offset": int,
            "url": str,
            "post_id": str,
            "author": str,
            "handle": str,
            "date": str,
            "text": str,
            "links": str,
            "snippet": str,
            "resolution": str,
            "resolved_url": str,
            "resolved_post_id": str,
            "resolution_hops": str,
            "resolution_error": str,
            "resolved_at": str,
            "post_pk": int,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id"), ("post_pk", "posts", "id")],
    )
    db.table("detections").create_index(["article_id", "platform", "offset"], unique=True)
    db.table("captures").create(
        {
            "id": int,
            "post_pk": int,
            "run_id": int,
            "platform": str,
            "post_id": str,
            "target_url": str,
            "started_at": str,
            "finished_at": str,
            "method": str,
            "status": str,
            "error": str,
            "retryable": int,
            "attempts": str,
            "data": str,
            "raw": str,
            "raw_sha256": str,
            "parent_capture_id": int,
        },
        pk="id",
        foreign_keys=[("post_pk", "posts", "id"), ("run_id", "runs", "id")],
    )
    db.table("captures").create_index(["post_pk"])
    db.table("media").create(
        {
            "id": int,
            "capture_id": int,
            "post_pk": int,
            "position": int,
            "kind": str,
            "sha256": str,
            "size": int,
            "mime": str,
            "path": str,
            "source_url": str,
            "final_url": str,
            "info": str,
        },
        pk="id",
        foreign_keys=[("capture_id", "captures", "id"), ("post_pk", "posts", "id")],
    )
    db.table("media").create_index(["sha256"])
    db.table("media").create_index(["post_pk"])
    db.table("http_exchanges").create(
        {
            "id": int,
            "run_id": int,
            "article_id": int,
            "detection_id": int,
            "capture_id": int,
            "purpose": str,
            "method": str,
            "url": str,
            "status": int,
            "location": str,
            "http_version": str,
            "request_headers": str,
            "response_headers": str,
            "body_sha256": str,
            "body_size": int,
            "complete": int,
            "started_at": str,
            "elapsed_ms": float,
            "error": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("http_exchanges").create_index(["capture_id"])
    db.table("http_exchanges").create_index(["article_id"])


@migrations()
def m002_append_only(db: Database) -> None:
    """Evidence rows can be added, never changed or removed: SQLite itself refuses.

    A detection's own rendering is fixed; only its resolution (and the post it links to)
    may be filled in later. The ``posts`` table is a summary of the latest capture and is
    deliberately not covered.
    """
    for table in ("articles", "captures", "media", "http_exchanges", "runs"):
        db.execute(
            f"""create trigger {table}_no_delete before delete on {table}
                begin select raise(abort, '{table} are append-only evidence'); end"""
        )
    for table in ("articles", "captures", "media", "http_exchanges"):
        db.execute(
            f"""create trigger {table}_no_update before update on {table}
                begin select raise(abort, '{table} are append-only evidence'); end"""
        )
    db.execute(
        """create trigger runs_no_rewrite before update of started_at, command, argv, software,
               settings, operator, hostname on runs
           begin select raise(abort, 'runs are append-only evidence'); end"""
    )
    db.execute(
        """create trigger detections_as_shown_fixed before update of article_id, platform, kind,
               markup, offset, url, post_id, author, handle, date, text, links, snippet on detections
           begin select raise(abort, 'what the article showed is fixed evidence'); end"""
    )
    db.execute(
        """create trigger detections_no_delete before delete on detections
           begin select raise(abort, 'detections are append-only evidence'); end"""
    )


SCHEMA_VERSION = len(migrations.pending(Database(memory=True)))
