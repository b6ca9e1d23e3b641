"""archive_article(): the stages in one short function — load, detect, plan, capture, store.

Every stage result is stored as soon as it exists (article, then detections, then the
article's resolutions, then each capture), so a run that dies midway keeps all it had, and the
next run picks up exactly what is missing.
"""

from __future__ import annotations

import functools
import json
import platform as _platform
import re
import socket
import sqlite3
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from . import __version__
from .article import load
from .batch import ListedSource
from .capture.context import FetchContext
from .capture.http import Http, Recorder, utcnow
from .capture.ytdlp import ytdlp_version
from .detect import detect
from .models import Article, Capture, Detection, HttpExchange, Resolution, Target
from .plan import resolve
from .platforms import REGISTRY, Platform, by_name
from .recheck import review
from .settings import LoadedSettings, describe
from .store.records import Store
from .store.scans import detector_fingerprint, record_scan, settled_embeds


@dataclass
class ArticleResult:
    """What one article run did, for the summary table and ``--json``."""

    source: str
    article_id: int
    new_article: bool
    found: int = 0
    archived: int = 0
    unavailable: int = 0
    failed: int = 0
    unresolved: int = 0
    already: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)


class WorkTracker(Protocol):
    """Where a run reports its units of work (the resumable queue, ``queue.py``).

    ``planned`` is called with every target of an article before any is captured; ``claim``
    is held while a target is checked, captured and stored (one worker per post at a time);
    ``skip`` says a target was already completed by this batch (even if killed before it
    could say so); ``finished`` gets each target's outcome (``already`` for no fetch).
    """

    def planned(self, targets: Sequence[Target]) -> None: ...
    def skip(self, target: Target) -> bool: ...
    def started(self, target: Target) -> None: ...
    def finished(self, target: Target, status: str, error: str | None, retryable: bool) -> None: ...
    def unresolved(self, detection_id: int, resolution: Resolution) -> None: ...
    def claim(self, target: Target) -> AbstractContextManager[None]: ...


class NoTracking:
    """The tracker of a run without a queue: nothing is recorded, nothing is skipped."""

    def planned(self, targets: Sequence[Target]) -> None:
        return None

    def skip(self, target: Target) -> bool:
        return False

    def started(self, target: Target) -> None:
        return None

    def finished(self, target: Target, status: str, error: str | None, retryable: bool) -> None:
        return None

    def unresolved(self, detection_id: int, resolution: Resolution) -> None:
        return None

    def claim(self, target: Target) -> AbstractContextManager[None]:
        return nullcontext()


_SURROGATE = re.compile("[\ud800-\udfff]")


def software_versions() -> dict[str, str]:
    return {
        "embedarchive": __version__,
        "yt-dlp": ytdlp_version(),
        "httpx": httpx.__version__,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "platform": _platform.platform(),
    }


def begin_run(store: Store, loaded: LoadedSettings, command: str, argv: list[str]) -> int:
    settings = loaded.settings
    operator = settings.operator
    if operator is not None:  # typed in a terminal that is not UTF-8: keep what can be read
        operator = operator.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return store.begin_run(
        {
            "started_at": utcnow(),
            "command": command,
            # A file name that is not UTF-8 is a lone surrogate here: kept, as a JSON escape.
            "argv": _SURROGATE.sub(
                lambda m: f"\\u{ord(m.group()):04x}", json.dumps(argv, ensure_ascii=False)
            ),
            "software": json.dumps(software_versions()),
            "settings": json.dumps({r["name"]: r["value"] for r in describe(loaded)}, default=str),
            "operator": operator,
            "hostname": socket.gethostname() if settings.record_host else None,
        }
    )


def archive_article(
    source: str,
    *,
    store: Store,
    ctx: FetchContext,
    run_id: int,
    refresh: bool = False,
    registry: tuple[Platform, ...] = REGISTRY,
    tracker: WorkTracker | None = None,
) -> ArticleResult:
    tracker = tracker or NoTracking()
    recorder = Recorder()
    try:
        article = load(source, ctx.http, recorder, ctx.settings.max_article_bytes)
    except ListedSource:  # a feed or sitemap the batch could not read when it was made
        store.save_exchanges(recorder.exchanges(), run_id)
        raise
    article_id, created = _store_article(store, ctx, article, run_id, recorder)
    detector = detector_fingerprint(tuple(p.name for p in registry))
    if not (created or refresh):
        settled = store.call(settled_embeds, store, article_id, detector)
        if settled is not None:
            return _already_settled(source, article_id, settled)
    detections = detect(article, registry)
    detection_ids, rows = store.call(
        _save_detections, store, article_id, detections, detector, run_id
    )
    result = ArticleResult(source, article_id, created, found=len(detections))

    resolutions, new = _resolve_all(
        store, ctx.http, detection_ids, detections, rows, registry, run_id
    )
    targets: dict[Target, list[int]] = {}
    failed: dict[int, Resolution] = {}
    for detection_id, detection in zip(detection_ids, detections, strict=True):
        resolution = resolutions[detection_id]
        item = {
            "detection_id": detection_id,
            "platform": detection.platform,
            "handle": detection.handle,
            "resolution": resolution.status,
            "url": resolution.target.url if resolution.target else detection.url,
        }
        if resolution.target is None:
            item["status"] = "failed" if resolution.status == "failed" else "unresolved"
            item["error"] = resolution.error
            if resolution.status == "failed":
                result.failed += 1
                failed[detection_id] = resolution
            else:
                result.unresolved += 1
            result.items.append(item)
            continue
        targets.setdefault(resolution.target, []).append(detection_id)
        result.items.append(item)

    store.call(_save_plan, store, tracker, new, failed, list(targets), run_id)
    captures = [
        functools.partial(
            archive_target,
            target,
            ids,
            store=store,
            ctx=ctx,
            run_id=run_id,
            refresh=refresh,
            registry=registry,
            tracker=tracker,
        )
        for target, ids in targets.items()
    ]
    outcomes = dict(zip(targets, ctx.share(captures), strict=True))
    for item in result.items:
        target_url = item.get("url")
        match = next((o for t, o in outcomes.items() if t.url == target_url), None)
        if match is None or "status" in item:
            continue
        status, detail = match
        item["status"] = status if status != "already" else f"already {detail}"
        if status in ("failed", "unavailable") and detail:
            item["error"] = detail
    for status, _ in outcomes.values():
        if status == "already":
            result.already += 1
        else:
            setattr(result, status, getattr(result, status) + 1)
    return result


def _already_settled(source: str, article_id: int, rows: list[dict[str, Any]]) -> ArticleResult:
    """The result of an unchanged article whose every embed is settled, from the store alone:
    no detection, no request, no write but the queue's."""
    result = ArticleResult(source, article_id, False, found=len(rows))
    result.already = len({r["post_pk"] for r in rows if r["post_pk"] is not None})
    for row in rows:
        item: dict[str, Any] = {
            "detection_id": row["detection_id"],
            "platform": row["platform"],
            "handle": row["handle"],
            "resolution": row["resolution"],
            "url": row["resolved_url"] or row["url"],
        }
        if row["post_pk"] is None:
            result.unresolved += 1
            item.update(status="unresolved", error=row["resolution_error"])
        else:
            item["status"] = f"already {row['post_status']}"
        result.items.append(item)
    return result


def archive_target(
    target: Target,
    detection_ids: Sequence[int],
    *,
    store: Store,
    ctx: FetchContext,
    run_id: int,
    refresh: bool = False,
    registry: tuple[Platform, ...] = REGISTRY,
    tracker: WorkTracker | None = None,
) -> tuple[str, str | None]:
    """Capture one target unless it is already archived (or done by this batch), link the
    detections that showed it, and review it. Returns (status or ``already``, detail)."""
    tracker = tracker or NoTracking()
    with tracker.claim(target):
        return _archive_target(
            target, detection_ids, store, ctx, run_id, refresh, registry, tracker
        )


def _archive_target(
    target: Target,
    detection_ids: Sequence[int],
    store: Store,
    ctx: FetchContext,
    run_id: int,
    refresh: bool,
    registry: tuple[Platform, ...],
    tracker: WorkTracker,
) -> tuple[str, str | None]:
    existing = store.call(_begin_target, store, tracker, target, refresh)
    if existing is not None:
        store.call(_settle_target, store, tracker, target, detection_ids, run_id, existing)
        return ("already", existing["status"])
    capture = _capture(target, ctx, registry)
    store.call(_settle_target, store, tracker, target, detection_ids, run_id, capture)
    return (capture.status, capture.error)


# The two steps below each run as one call on the store's writer (a concurrent batch has one
# writer thread for every worker): a handful of round trips per target instead of a dozen.


def _begin_target(
    store: Store, tracker: WorkTracker, target: Target, refresh: bool
) -> dict[str, Any] | None:
    """The stored post if the target needs no fetch (archived, unavailable, or done by this
    batch); otherwise None, with the target marked started."""
    existing = store.find_post(target.platform, target.id)
    if existing is not None and (
        tracker.skip(target) or (existing["status"] in ("archived", "unavailable") and not refresh)
    ):
        return existing
    tracker.started(target)
    return None


def _settle_target(
    store: Store,
    tracker: WorkTracker,
    target: Target,
    detection_ids: Sequence[int],
    run_id: int,
    done: Capture | dict[str, Any],
) -> None:
    """Store the capture (or take the post already stored), report the outcome to the
    tracker, link the detections that showed the post, and review it: one transaction (one
    commit, not four), so a run killed halfway leaves the target as it found it."""
    with store.atomic():
        if isinstance(done, Capture):
            post_pk = store.save_capture(done, run_id)
            tracker.finished(target, done.status, done.error, done.retryable)
        else:
            post_pk = int(done["id"])
            tracker.finished(target, "already", None, False)
        for detection_id in detection_ids:
            store.link_detection(detection_id, post_pk)
        review(store, post_pk, run_id)  # changes since the last capture, findings


def _store_article(
    store: Store, ctx: FetchContext, article: Article, run_id: int, recorder: Recorder
) -> tuple[int, bool]:
    mime = "text/html" if article.is_html else "text/plain"
    _, raw_path = ctx.files.put_bytes(article.raw, mime)
    return store.save_article(article, raw_path, run_id, recorder.exchanges())


def resolve_detection(
    store: Store,
    http: Http,
    detection_id: int,
    run_id: int,
    registry: tuple[Platform, ...] = REGISTRY,
) -> Resolution:
    """Resolve a stored detection again (``embedarchive retry``), reusing what is stored."""
    row = store.detection(detection_id)
    detection = Detection(
        platform=row["platform"],
        kind=row["kind"],
        markup=row["markup"],
        offset=row["offset"],
        url=row["url"],
        id=row["post_id"],
        author=row["author"],
        handle=row["handle"],
        date=row["date"],
        text=row["text"],
        links=tuple(json.loads(row["links"] or "[]")),
        snippet=row["snippet"] or "",
    )
    return _resolution(store, http, detection, detection_id, run_id, registry)


def _resolution(
    store: Store,
    http: Http,
    detection: Detection,
    detection_id: int,
    run_id: int,
    registry: tuple[Platform, ...],
) -> Resolution:
    """Reuse a stored resolution; only pending or failed ones touch the network again."""
    reused = _reused(detection, store.detection(detection_id))
    if reused is not None:
        return reused
    new = _resolve_now(http, detection, detection_id, registry)
    store.save_resolution(detection_id, new.resolution, run_id, new.exchanges, new.resolved_at)
    return new.resolution


def _resolve_all(
    store: Store,
    http: Http,
    detection_ids: Sequence[int],
    detections: Sequence[Detection],
    rows: Sequence[dict[str, Any]],
    registry: tuple[Platform, ...],
    run_id: int,
) -> tuple[dict[int, Resolution], list[_Resolved]]:
    """Each stored detection's resolution (reused, or made now), and the ones made now that
    are not stored yet. One that took requests (a short link followed) is stored at once: a
    run killed before the article's plan is stored does not ask the network again."""
    resolutions: dict[int, Resolution] = {}
    new: list[_Resolved] = []
    for detection_id, detection, row in zip(detection_ids, detections, rows, strict=True):
        if detection_id in resolutions:
            continue
        resolution = _reused(detection, row)
        if resolution is None:
            made = _resolve_now(http, detection, detection_id, registry)
            if made.exchanges:
                store.call(_store_resolutions, store, [made], run_id)
            else:
                new.append(made)
            resolution = made.resolution
        resolutions[detection_id] = resolution
    return resolutions, new


def _reused(detection: Detection, row: dict[str, Any]) -> Resolution | None:
    """The stored resolution when it stands (linked, or no link to try); else None."""
    if row["resolution"] in ("direct", "resolved", "recovered") and row["resolved_post_id"]:
        target = Target(
            detection.platform, row["resolved_post_id"], row["resolved_url"], detection.kind
        )
        return Resolution(row["resolution"], target)
    if row["resolution"] == "unresolved" and not detection.links:
        return Resolution("unresolved", error=row["resolution_error"])
    return None


@dataclass(frozen=True)
class _Resolved:
    """A resolution made now, with the requests it took, for the store."""

    detection_id: int
    resolution: Resolution
    exchanges: tuple[HttpExchange, ...]
    resolved_at: str


def _resolve_now(
    http: Http, detection: Detection, detection_id: int, registry: tuple[Platform, ...]
) -> _Resolved:
    recorder = Recorder()
    resolution = resolve(detection, http, recorder, registry)
    return _Resolved(detection_id, resolution, recorder.exchanges(), utcnow())


# An article's store work between detection and capture is two calls on the writer, each one
# transaction (plus one per short link followed): a concurrent batch's workers wait for the
# one writer thread at every call.


def _save_detections(
    store: Store, article_id: int, detections: Sequence[Detection], detector: str, run_id: int
) -> tuple[list[int], list[dict[str, Any]]]:
    """Store the detections and that ``detector`` read the article; returns their ids and
    stored rows (a re-run finds resolutions there)."""
    with store.atomic():
        ids = store.save_detections(article_id, detections)
        record_scan(store, article_id, detector, len(set(ids)), run_id, utcnow())
    return ids, [store.detection(i) for i in ids]


def _save_plan(
    store: Store,
    tracker: WorkTracker,
    new: Sequence[_Resolved],
    failed: dict[int, Resolution],
    targets: Sequence[Target],
    run_id: int,
) -> None:
    """Store the resolutions made now, and give the tracker the failed ones and the targets."""
    with store.atomic():
        _store_resolutions(store, new, run_id)
        for detection_id, resolution in failed.items():
            tracker.unresolved(detection_id, resolution)
        tracker.planned(targets)


def _store_resolutions(store: Store, made: Sequence[_Resolved], run_id: int) -> None:
    with store.atomic():
        for r in made:
            store.save_resolution(r.detection_id, r.resolution, run_id, r.exchanges, r.resolved_at)


def _capture(target: Target, ctx: FetchContext, registry: tuple[Platform, ...]) -> Capture:
    platform = by_name(target.platform, registry)
    if platform is None:
        raise ValueError(f"no platform {target.platform!r} in the registry")
    return platform.fetch(target, ctx)


__all__ = [
    "ArticleResult",
    "NoTracking",
    "WorkTracker",
    "archive_article",
    "archive_target",
    "begin_run",
    "resolve_detection",
    "software_versions",
]
