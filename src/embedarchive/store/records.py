"""Stage 5: captures → rows. Natural keys and one transaction per unit, so re-runs never duplicate
and an interrupted run leaves no half-written rows."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database
from sqlite_utils.db import jsonify_if_needed

from ..errors import StoreError, write_error
from ..models import Article, Capture, Detection, HttpExchange, Resolution
from ..untrusted import dump_json
from . import sql
from .evidence import Evidence
from .schema import READABLE_WITHOUT, migrations
from .warc import WarcRef

T = TypeVar("T")


def _j(value: Any) -> str:
    return dump_json(value, sort_keys=True, default=str)


class Store:
    """The archive database. Open with ``Store.open(path)``; every write method is atomic."""

    def __init__(self, db: Database, evidence: Evidence | None = None) -> None:
        self.db = db
        #: WARC records and manifests for what is written (none for read-only use).
        self.evidence = evidence
        self._depth = 0  # savepoints open inside the current transaction

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        create: bool = True,
        warc_max_bytes: int = 1_000_000_000,
        durable: bool = False,
    ) -> Store:
        if not create:
            require_archive(path)
            if on_read_only_media(path):
                return cls(refuse_newer(_immutable(path), path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = Database(path)
            db.execute("PRAGMA foreign_keys = ON")
            db.enable_wal()
            # NORMAL: a commit is not synced (the WAL is, at checkpoints); an fsync per commit
            # made the one writer thread the bottleneck of a concurrent batch.
            db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            refuse_newer(db, path)
            migrations.apply(db)  # readers too: an older archive is upgraded before it is read
        except sqlite3.DatabaseError as err:
            if _no_room(path):  # SQLite says "disk I/O error" when it cannot make its WAL
                raise write_error(
                    OSError(errno.ENOSPC, "disk full"), f"the archive {path}"
                ) from None
            raise StoreError(f"cannot open archive database {path}: {err}") from None
        except UnicodeDecodeError:  # sqlite-utils reading a schema whose bytes are garbled
            raise StoreError(
                f"cannot open archive database {path}: database disk image is malformed"
            ) from None
        except OSError as err:
            raise StoreError(f"cannot open archive database {path}: {err}") from None
        return cls(db, Evidence(path.parent, db, warc_max_bytes) if create else None)

    def close(self) -> None:
        try:
            if self.evidence is not None:
                self.evidence.close()
        finally:
            self.db.close()

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        return sql.insert(self.db, table, row)

    def _update(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        assignments = ", ".join(f"[{c}] = ?" for c in values)
        self.db.execute(
            f"update [{table}] set {assignments} where id = ?",
            [*(jsonify_if_needed(v) for v in values.values()), row_id],
        )

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` with this store: the seam where a concurrent batch runs it on its one
        writer thread (``workers.Serialized``); here simply the call."""
        return fn(*args)

    def schema_version(self) -> int:
        return len(migrations.applied(self.db))

    @contextmanager
    def atomic(self) -> Iterator[None]:
        if self.evidence is not None:
            self.evidence.between_transactions()
        try:
            with self._transaction():
                yield
        except sqlite3.OperationalError as err:
            raise write_error(err, "the archive database") from None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """sqlite-utils' ``atomic`` (a transaction; inside one, a savepoint), with savepoints
        named by their depth: its random names cost an ``os.urandom`` and a statement the
        connection cannot cache for every nested block, several per stored target."""
        conn = self.db.conn
        if not conn.in_transaction:
            with self.db.atomic():
                yield
            return
        name = f"embedarchive_{self._depth}"
        self._depth += 1
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # an error can end the whole transaction, savepoints too
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            conn.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._depth -= 1

    # -- runs ---------------------------------------------------------------
    def begin_run(self, row: dict[str, Any]) -> int:
        with self.atomic():
            run_id = self._insert("runs", row)
            if self.evidence is not None:
                self.evidence.run_started(run_id, row)
        return run_id

    def finish_run(self, run_id: int, finished_at: str) -> None:
        with self.atomic():
            self._update("runs", run_id, {"finished_at": finished_at})

    # -- articles -----------------------------------------------------------
    def save_article(
        self, article: Article, raw_path: str, run_id: int, exchanges: Iterable[HttpExchange]
    ) -> tuple[int, bool]:
        """Returns (article id, created). The same bytes from the same source are one row."""
        existing = self.find_article(article.source, article.sha256)
        if existing is not None:
            return int(existing["id"]), False
        with self.atomic():
            article_id = self._insert(
                "articles",
                {
                    "source": article.source,
                    "source_kind": article.source_kind,
                    "url": article.url,
                    "final_url": article.final_url,
                    "sha256": article.sha256,
                    "size": len(article.raw),
                    "raw_path": raw_path,
                    "encoding": article.encoding,
                    "is_html": int(article.is_html),
                    "title": article.title,
                    "text": article.text,
                    "retrieved_at": article.retrieved_at,
                    "http_status": article.http_status,
                    "http_headers": _j(list(article.http_headers))
                    if article.http_headers
                    else None,
                    "run_id": run_id,
                },
            )
            saved = self._save_exchanges(exchanges, run_id, article_id=article_id)
            if self.evidence is not None:
                self.evidence.article(article_id, article, raw_path, run_id, saved)
        return article_id, True

    def find_article(self, source: str, sha256: str) -> dict[str, Any] | None:
        return sql.first(
            self.db, "select * from articles where source = ? and sha256 = ?", [source, sha256]
        )

    # -- detections ---------------------------------------------------------
    def save_detections(self, article_id: int, detections: Iterable[Detection]) -> list[int]:
        """Insert-or-keep: a detection already stored for this article is not touched again."""
        ids, new = [], []
        with self.atomic():
            for d in detections:
                found = self.db.execute(
                    "select id from detections where article_id = ? and platform = ? "
                    "and offset = ?",
                    [article_id, d.platform, d.offset],
                ).fetchone()
                if found:
                    ids.append(int(found[0]))
                    continue
                row = {
                    "article_id": article_id,
                    "platform": d.platform,
                    "kind": d.kind,
                    "markup": d.markup,
                    "offset": d.offset,
                    "url": d.url,
                    "post_id": d.id,
                    "author": d.author,
                    "handle": d.handle,
                    "date": d.date,
                    "text": d.text,
                    "links": _j(list(d.links)),
                    "snippet": d.snippet,
                    "resolution": "pending",
                }
                ids.append(self._insert("detections", row))
                new.append(ids[-1])
            if self.evidence is not None:
                self.evidence.detections(article_id, new)
        return ids

    def detection(self, detection_id: int) -> dict[str, Any]:
        row = sql.first(self.db, "select * from detections where id = ?", [detection_id])
        if row is None:
            raise StoreError(f"no detection {detection_id} in the archive")
        return row

    def save_resolution(
        self,
        detection_id: int,
        resolution: Resolution,
        run_id: int,
        exchanges: Iterable[HttpExchange],
        resolved_at: str,
    ) -> None:
        target = resolution.target
        with self.atomic():
            self._update(
                "detections",
                detection_id,
                {
                    "resolution": resolution.status,
                    "resolved_url": target.url if target else None,
                    "resolved_post_id": target.id if target else None,
                    "resolution_hops": _j(list(resolution.hops)),
                    "resolution_error": resolution.error,
                    "resolved_at": resolved_at,
                },
            )
            saved = self._save_exchanges(exchanges, run_id, detection_id=detection_id)
            if self.evidence is not None:
                self.evidence.resolution(detection_id, saved)

    def link_detection(self, detection_id: int, post_pk: int) -> None:
        """Link a detection to the post it showed, vouched for by a manifest when it changes
        (a re-run links it to the same post again: nothing to write)."""
        with self.atomic():
            found = self.db.execute(
                "select post_pk from detections where id = ?", [detection_id]
            ).fetchone()
            if found is not None and found[0] == post_pk:
                return
            self._update("detections", detection_id, {"post_pk": post_pk})
            if self.evidence is not None:
                self.evidence.link(detection_id)

    # -- posts and captures -------------------------------------------------
    def find_post(self, platform: str, post_id: str) -> dict[str, Any] | None:
        return sql.first(
            self.db, "select * from posts where platform = ? and post_id = ?", [platform, post_id]
        )

    def save_capture(self, capture: Capture, run_id: int) -> int:
        """Store a capture, its media, exchanges and related captures in one transaction.

        Returns the post row id. Earlier captures are never changed; the post row shows the
        latest successful data, and its status the latest outcome.
        """
        with self.atomic():
            return self._save_capture(capture, run_id, None)

    def _save_capture(self, capture: Capture, run_id: int, parent: int | None) -> int:
        target = capture.target
        post = capture.post
        existing = self.find_post(target.platform, target.id)
        if existing is None:
            post_pk = self._insert(
                "posts",
                {
                    "platform": target.platform,
                    "post_id": target.id,
                    "url": target.url,
                    "status": capture.status,
                    "first_captured_at": capture.finished_at,
                },
            )
        else:
            post_pk = int(existing["id"])
        capture_id = self._insert(
            "captures",
            {
                "post_pk": post_pk,
                "run_id": run_id,
                "platform": target.platform,
                "post_id": target.id,
                "target_url": target.url,
                "started_at": capture.started_at,
                "finished_at": capture.finished_at,
                "method": capture.method,
                "status": capture.status,
                "error": capture.error,
                "retryable": int(capture.retryable),
                "attempts": _j([a.__dict__ for a in capture.attempts]),
                "data": _j(_post_fields(post)) if post else None,
                "raw": post.raw if post else None,
                "raw_sha256": _sha(post.raw) if post and post.raw else None,
                "parent_capture_id": parent,
            },
        )
        media_ids = []
        for position, m in enumerate(capture.media):
            media_ids.append(
                self._insert(
                    "media",
                    {
                        "capture_id": capture_id,
                        "post_pk": post_pk,
                        "position": position,
                        "kind": m.kind,
                        "sha256": m.sha256,
                        "size": m.size,
                        "mime": m.mime,
                        "path": m.path,
                        "source_url": m.source_url,
                        "final_url": m.final_url,
                        "info": _j(m.info),
                    },
                )
            )
        saved = self._save_exchanges(capture.exchanges, run_id, capture_id=capture_id)
        if self.evidence is not None:
            self.evidence.capture(capture_id, capture, media_ids, run_id, saved)
        update: dict[str, Any] = {
            "last_capture_id": capture_id,
            "last_captured_at": capture.finished_at,
        }
        if post is not None:
            update.update(_post_fields(post))
            update["quoted_post_id"] = post.quoted.id if post.quoted else None
            update["counts"] = _j(post.counts)
        kept = (
            existing is not None
            and existing.get("text") is not None
            and existing["status"] == "archived"
        )
        if not (capture.status == "failed" and kept):
            update["status"] = capture.status
        self._update("posts", post_pk, update)
        for related in capture.related:
            self._save_capture(related, run_id, capture_id)
        return post_pk

    def save_exchanges(self, exchanges: Iterable[HttpExchange], run_id: int) -> None:
        """Exchanges that belong to the run only (reading a feed or sitemap of a batch, an
        article that could not be fetched), in the hash chain like every other."""
        exchanges = tuple(exchanges)
        if exchanges:
            with self.atomic():
                saved = self._save_exchanges(exchanges, run_id)
                if self.evidence is not None:
                    self.evidence.run_exchanges(run_id, saved)

    def _save_exchanges(
        self, exchanges: Iterable[HttpExchange], run_id: int, **link: int
    ) -> list[tuple[int, WarcRef, HttpExchange]]:
        """Insert the exchanges; with evidence on, also their WARC records, linked to the rows."""
        saved = []
        for e in exchanges:
            location = next((v for k, v in e.response_headers if k.lower() == "location"), None)
            row_id = self._insert(
                "http_exchanges",
                {
                    "run_id": run_id,
                    **link,
                    "purpose": e.purpose,
                    "method": e.method,
                    "url": e.url,
                    "status": e.status,
                    "location": location,
                    "http_version": e.http_version,
                    "request_headers": _j(list(e.request_headers)),
                    "response_headers": _j(list(e.response_headers)),
                    "body_sha256": e.body_sha256,
                    "body_size": e.body_size,
                    "complete": int(e.complete),
                    "started_at": e.started_at,
                    "elapsed_ms": e.elapsed_ms,
                    "error": e.error,
                },
            )
            saved.append((row_id, e))
        if self.evidence is None:
            return []
        return self.evidence.exchanges(saved, **link)


@contextmanager
def read_snapshot(root: Path) -> Iterator[Database]:
    """The archive's database for a command that reads all of it as one (``verify``,
    ``export``): one read transaction, so a run committing meanwhile (readers take no lock) is
    seen whole or not at all; nothing is written or migrated. A file that is not a database,
    or one damaged past reading, is a ``StoreError``."""
    path = root / "archive.db"
    require_archive(path)
    db = _immutable(path) if on_read_only_media(path) else Database(path)
    try:
        db.execute("begin")
        refuse_newer(db, path)
        if not db["manifests"].exists():
            raise StoreError(f"archive {root} predates manifests: run 'embedarchive seal' first")
        yield db
    except sqlite3.DatabaseError as err:
        raise StoreError(f"cannot read archive database {path}: {err}") from None
    except UnicodeDecodeError:  # text whose bytes are garbled: a damaged page
        raise StoreError(
            f"cannot read archive database {path}: database disk image is malformed"
        ) from None
    finally:
        db.conn.rollback()  # nothing was written: ends the read transaction
        db.close()


def refuse_newer(db: Database, path: Path) -> Database:
    """``db`` unless a newer release wrote it (migrations this one does not know): its tables
    may mean what this release cannot check, so every command refuses it rather than misread
    it (a ``verify`` that passed it would vouch for what it cannot read)."""
    known = {m.name for m in migrations.pending(Database(memory=True))}
    applied = {m.name for m in migrations.applied(db)}
    if applied - known:
        raise StoreError(
            f"archive {path} was written by a newer embedarchive "
            f"(unknown migrations: {', '.join(sorted(applied - known))})"
        )
    return db


def on_read_only_media(path: Path) -> bool:
    """Whether the archive is on a file system mounted read-only (a disc, a read-only mount
    of evidence handed over): nothing can write it there."""
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _immutable(path: Path) -> Database:
    """The archive on read-only media, opened as immutable: SQLite cannot make its ``-shm``
    file there to read a WAL database the usual way, and nothing can change the file under
    it. An archive that still needs a migration, or whose last commits are only in its WAL,
    cannot be read this way."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(
            f"archive {path.parent} is on read-only media with commits still in {wal.name}, "
            "which SQLite cannot read there: copy the archive somewhere writable"
        )
    try:
        db = Database(sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True))
        if {m.name for m in migrations.pending(db)} - READABLE_WITHOUT:
            raise StoreError(
                f"archive {path.parent} is on read-only media and was written by an older "
                "embedarchive: copy it somewhere writable to read it"
            )
    except (sqlite3.DatabaseError, UnicodeDecodeError) as err:
        raise StoreError(f"cannot open archive database {path}: {err}") from None
    return db


def require_archive(path: Path) -> None:
    """Refuse, for a command that needs an archive, no database, or one of 0 bytes with
    nothing in its WAL (which SQLite would read as a new, empty archive: "No articles" where
    the archive was lost)."""
    if not path.exists():
        raise StoreError(f"no archive at {path.parent} (run 'embedarchive archive' first)")
    wal = path.with_name(path.name + "-wal")
    if path.stat().st_size == 0 and not (wal.exists() and wal.stat().st_size > 0):
        raise StoreError(
            f"archive database {path} is empty (0 bytes): it was lost or cut short; "
            "restore it from a copy (its media, WARC and manifest files are untouched)"
        )


def _no_room(path: Path) -> bool:
    """Whether the file system holding ``path`` has less room than SQLite needs to open it."""
    try:
        return shutil.disk_usage(path.parent).free < 1024 * 1024
    except OSError:
        return False


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _post_fields(post: Any) -> dict[str, Any]:
    return {
        "url": post.url,
        "uploader": post.uploader,
        "uploader_id": post.uploader_id,
        "user_id": post.user_id,
        "created_at": post.created_at,
        "text": post.text,
        "lang": post.lang,
        "reply_to_id": post.reply_to_id,
    }
