"""``embedarchive retry``: re-attempt what failed transiently, when its next attempt is due.

Covers the queue's failed, retryable items (articles, targets, short-link resolutions) and
what earlier runs recorded outside any queue: posts whose latest capture failed retryably and
detections whose resolution failed. Those are first added to the queue (a ``retry`` batch)
with the backoff their failed attempts earned, so one rule — ``next_attempt_at`` has passed —
decides what is fetched, and a killed retry is continued like any batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .capture.context import FetchContext
from .capture.http import utcnow
from .errors import EmbedArchiveError
from .models import Target
from .pipeline import archive_target, resolve_detection
from .queue import Item, Outcome, Queue, backoff, run_article, run_batch
from .store.records import Store
from .tracker import QueueTracker, target_key
from .workers import Claims, Serialized, Writer, run_concurrently


@dataclass(frozen=True)
class Retried:
    kind: str
    key: str
    state: str
    error: str | None = None


def _after(at: str | None, seconds: float) -> str:
    base = datetime.fromisoformat((at or utcnow()).replace("Z", "+00:00"))
    return (
        (base + timedelta(seconds=seconds))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def import_earlier_failures(queue: Queue, run_id: int) -> int:
    """Queue the failed posts and resolutions of earlier runs that no queue item covers yet."""
    db = queue.db
    open_keys = {
        (r["kind"], r["key"])
        for r in db.query(
            "select kind, key from queue where state in ('pending', 'running', 'failed')"
        )
    }
    items = []
    for r in db.query(
        """select p.platform, p.post_id, p.url, c.finished_at, c.error, p.id as pk,
             (select count(*) from captures f where f.post_pk = p.id and f.status = 'failed'
                and f.parent_capture_id is null) as failures
           from posts p join captures c on c.id = p.last_capture_id
           where p.status = 'failed' and c.retryable = 1"""
    ):
        target = Target(r["platform"], r["post_id"], r["url"])
        if ("target", target_key(target)) in open_keys:
            continue
        payload = {"platform": target.platform, "id": target.id, "url": target.url}
        items.append(
            ("target", target_key(target), payload, r["failures"], r["finished_at"], r["error"])
        )
    for r in db.query(
        "select id, resolution_error, resolved_at from detections where resolution = 'failed'"
    ):
        if ("detection", str(r["id"])) in open_keys:
            continue
        items.append(
            ("detection", str(r["id"]), {"id": r["id"]}, 1, r["resolved_at"], r["resolution_error"])
        )
    if not items:
        return 0
    batch_id = queue.create_batch(f"retry:{run_id}", "retry", {"imported": len(items)}, (), run_id)
    with queue.store.atomic():
        queue.db.table("queue").insert_all(
            {
                "batch_id": batch_id,
                "kind": kind,
                "key": key,
                "payload": json.dumps(payload),
                "state": "failed",
                "attempts": attempts,
                "retryable": 1,
                "last_error": error,
                "next_attempt_at": _after(at, backoff(max(attempts, 1), queue.settings)),
                "updated_at": utcnow(),
            }
            for kind, key, payload, attempts, at, error in items
        )
    return len(items)


def retry_failed(
    queue: Queue,
    store: Store,
    ctx: FetchContext,
    run_id: int,
    on_done: Callable[[Retried], None] = lambda _: None,
    jobs: int = 1,
) -> list[Retried]:
    """Re-attempt every failed, retryable item whose ``next_attempt_at`` has passed, ``jobs``
    at a time (one writer: see ``workers.py``); first what a killed run left ``running``."""
    queue.requeue_running()
    queue.settle()
    import_earlier_failures(queue, run_id)
    items, copies = _one_per_key(queue.failures(due_only=True))
    if jobs <= 1:
        done = []
        for item in items:
            outcome = _retry_item(queue, item, store, ctx, run_id)
            done.append(outcome)
            on_done(outcome)
    else:
        writer = Writer()
        shared_queue: Any = Serialized(queue, writer)
        shared_store: Any = Serialized(store, writer)
        claims = Claims()
        done = run_concurrently(
            jobs,
            lambda item: _retry_item(shared_queue, item, shared_store, ctx, run_id, claims),
            items,
            writer,
            on_done,
        )
    for first, others in copies.items():
        queue.copy_outcome(first, others)
    # A feed or sitemap read only now (or by a killed run) queued its entries in its batch:
    # they are archived here too, and nothing else of that batch.
    lists = [i.id for i in items if i.kind == "article"] + queue.lists_with_pending_entries()
    for batch_id in queue.batches_with_entries_of(lists):
        listed = run_batch(
            queue, batch_id, store, ctx, run_id, lambda o: on_done(_retried(o)), jobs, under=lists
        )
        done += [_retried(o) for o in listed]
    return done


def _retried(outcome: Outcome) -> Retried:
    return Retried("article", outcome.source, outcome.state, outcome.error)


def _one_per_key(items: list[Item]) -> tuple[list[Item], dict[int, list[int]]]:
    """The first item of each (kind, key), and the ids of the others by the first's id: the
    same failure recorded by several batches (an article archived again while a platform was
    down) is fetched once, and its outcome is theirs too."""
    firsts: dict[tuple[str, str], Item] = {}
    copies: dict[int, list[int]] = {}
    for item in items:
        first = firsts.setdefault((item.kind, item.key), item)
        if first is not item:
            copies.setdefault(first.id, []).append(item.id)
    return list(firsts.values()), copies


def _retry_item(
    queue: Queue,
    item: Item,
    store: Store,
    ctx: FetchContext,
    run_id: int,
    claims: Claims | None = None,
) -> Retried:
    _, parent = queue.state(item.id)
    tracker = QueueTracker(queue, item.batch_id, parent, claims)
    if item.kind == "article":
        refresh = bool(json.loads(queue.batch(item.batch_id)["spec"] or "{}").get("refresh"))
        outcome: Outcome = run_article(queue, item, store, ctx, run_id, refresh, claims)
        return _retried(outcome)
    queue.start(item.id)
    try:
        if item.kind == "target":
            p = item.payload
            target = Target(p["platform"], p["id"], p["url"], p.get("kind", "post"))
            status, error = archive_target(
                target,
                store.call(_unlinked, store, target),
                store=store,
                ctx=ctx,
                run_id=run_id,
                tracker=tracker,
            )
            state, _ = queue.state(item.id)
            return Retried(item.kind, item.key, state, error if status != "already" else None)
        resolution = resolve_detection(store, ctx.http, int(item.payload["id"]), run_id)
        if resolution.target is not None:
            archive_target(
                resolution.target,
                [int(item.payload["id"])],
                store=store,
                ctx=ctx,
                run_id=run_id,
                tracker=tracker,
            )
            queue.finish(item.id, "done")
            return Retried(item.kind, item.key, "done")
        state = "failed" if resolution.status == "failed" else "done"
        queue.finish(item.id, state, resolution.error, resolution.retryable)
        return Retried(item.kind, item.key, state, resolution.error)
    except EmbedArchiveError as err:
        queue.finish(item.id, "failed", str(err), err.retryable)
        return Retried(item.kind, item.key, "failed", str(err))


def _unlinked(store: Store, target: Target) -> list[int]:
    """Detections that resolved to the target but were never linked to its post."""
    return [
        int(r["id"])
        for r in store.db.query(
            """select id from detections where platform = ? and resolved_post_id = ?
               and post_pk is null""",
            [target.platform, target.id],
        )
    ]


__all__ = ["Retried", "import_earlier_failures", "retry_failed"]
