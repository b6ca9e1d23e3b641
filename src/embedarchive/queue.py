"""The resumable work queue: a batch's articles and targets are rows before work starts.

Guarantees, with the natural keys of the store (an article's source and bytes, a post's
platform and id) and the temp files discarded at start:

* a run killed at any moment (``kill -9``) is continued by ``archive --resume`` or by the same
  command: articles left ``running`` go back to ``pending``; ``done`` ones are not redone;
  targets and short links left ``running`` (by a killed ``archive`` or ``retry``) become
  retryable failures that are due at once (``requeue_running``);
* a target whose capture was committed just before the kill is recognised by its capture
  (started after the item was), so it is not captured twice even with ``--refresh``;
* a transient failure gets ``next_attempt_at`` = now + exponential backoff with jitter
  (``retry_base_delay`` doubling per attempt, capped at ``retry_max_delay``); ``retry``
  honours it.
"""

from __future__ import annotations

import json
import random
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .batch import MAX_SITEMAP_DEPTH, ListedSource
from .capture.context import FetchContext
from .capture.http import utcnow
from .errors import EmbedArchiveError, InputError, StoreError
from .models import Target
from .pipeline import ArticleResult, archive_article
from .settings import Settings
from .store import sql
from .store.records import Store
from .tracker import QueueTracker
from .workers import Claims, Crew, Serialized, Writer, run_concurrently

#: Articles of a batch loaded (and handed to the workers) at a time: a batch of any size holds
#: one page of them in memory (a page boundary waits for the page's last article).
PAGE = 500


def backoff(attempts: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Seconds to wait after ``attempts`` failures: base·2^(n-1), capped, jittered to 50–100 %."""
    delay = min(settings.retry_max_delay, settings.retry_base_delay * 2 ** max(attempts - 1, 0))
    return delay * (0.5 + 0.5 * (rng or random).random())


def _later(seconds: float) -> str:
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Item:
    id: int
    batch_id: int
    kind: str
    key: str
    state: str
    attempts: int
    payload: dict[str, Any]
    next_attempt_at: str | None = None
    last_error: str | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Item:
        return cls(
            int(row["id"]),
            int(row["batch_id"]),
            row["kind"],
            row["key"],
            row["state"],
            int(row["attempts"] or 0),
            json.loads(row["payload"] or "{}"),
            row["next_attempt_at"],
            row["last_error"],
        )


def _captured_later(status: str) -> str:
    return f"""kind = 'target' and exists (select 1 from captures c
        where c.platform = json_extract(queue.payload, '$.platform')
        and c.post_id = json_extract(queue.payload, '$.id')
        and c.finished_at > queue.updated_at and c.status = '{status}')"""


#: (state, condition) of a failed queue item whose work was done since it failed.
_SETTLED = (
    ("done", _captured_later("archived")),
    ("unavailable", _captured_later("unavailable")),
    (
        "done",
        """kind = 'detection' and exists (select 1 from detections d
           where d.id = json_extract(queue.payload, '$.id') and d.post_pk is not null)""",
    ),
    (  # not stdin ("-" is any text) and not a --refresh batch (its point is a new capture)
        "done",
        """kind = 'article' and key <> '-' and not coalesce((select json_extract(b.spec,
             '$.refresh') from queue_batches b where b.id = queue.batch_id), 0)
           and exists (select 1 from queue later
             where later.kind = 'article' and later.key = queue.key
             and later.state = 'done' and later.updated_at > queue.updated_at)""",
    ),
)


class Queue:
    """Queue rows of one archive; every method is one short transaction."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.db = store.db
        self.settings = settings

    # -- batches --------------------------------------------------------------
    def unfinished(self, key: str | None = None) -> dict[str, Any] | None:
        """The latest batch (with this key) that still has articles to archive."""
        where = "key = ? and " if key else ""
        rows = list(
            self.db.query(
                f"""select * from queue_batches b where {where} exists (select 1 from queue q
                    where q.batch_id = b.id and q.kind = 'article'
                    and q.state in ('pending', 'running')) order by id desc limit 1""",
                [key] if key else [],
            )
        )
        return rows[0] if rows else None

    def create_batch(
        self,
        key: str,
        command: str,
        spec: dict[str, Any],
        sources: Sequence[str],
        run_id: int,
        depths: Mapping[str, int] | None = None,
    ) -> int:
        """The batch and all its article items in one transaction (all or nothing).
        ``depths``: sitemaps queued unread, at that depth of a sitemap index's nesting."""
        depths = depths or {}
        with self.store.atomic():
            batch_id = self._insert(
                "queue_batches",
                {
                    "key": key,
                    "command": command,
                    "spec": json.dumps(spec, ensure_ascii=False),
                    "created_at": utcnow(),
                    "run_id": run_id,
                },
            )
            now = utcnow()
            self.db.table("queue").insert_all(
                {
                    "batch_id": batch_id,
                    "kind": "article",
                    "key": source,
                    "position": i,
                    "state": "pending",
                    "attempts": 0,
                    "updated_at": now,
                    "payload": json.dumps({"depth": depths[source]}) if source in depths else None,
                }
                for i, source in enumerate(sources)
            )
        return batch_id

    def batch(self, batch_id: int) -> dict[str, Any]:
        return dict(self.db.table("queue_batches").get(batch_id))

    def requeue_running(self, batch_id: int | None = None) -> int:
        """Take up what a killed run left ``running`` (call it before any work: one writer).

        An article goes back to ``pending``: ``archive --resume`` or the same command runs it
        again, and it plans its targets again; one that had failed before (``retry`` was
        trying it again) is a failure due now, for ``retry``. A target or short link becomes a
        retryable failure due now, so ``retry`` takes it up even when no article will (a
        killed ``retry``); an article run again still finds what the killed run committed.
        """
        where = " and batch_id = ?" if batch_id is not None else ""
        args = [batch_id] if batch_id is not None else []
        now = utcnow()
        with self.store.atomic():
            articles = self.db.execute(
                f"""update queue set state = 'pending', updated_at = ?
                    where state = 'running' and kind = 'article'
                    and last_error is null{where}""",
                [now, *args],
            ).rowcount
            others = self.db.execute(
                f"""update queue set state = 'failed', retryable = 1, next_attempt_at = ?,
                    last_error = 'interrupted: the run stopped before this item finished',
                    updated_at = ? where state = 'running'{where}""",
                [now, now, *args],
            ).rowcount
        return int(articles) + int(others)

    def finish_batch(self, batch_id: int) -> None:
        if self.unfinished_items(batch_id) == 0:
            with self.store.atomic():
                self.db.table("queue_batches").update(batch_id, {"finished_at": utcnow()})

    def unfinished_items(self, batch_id: int) -> int:
        """Articles of the batch still to archive (targets are done by them, or by ``retry``)."""
        return int(
            self.db.execute(
                """select count(*) from queue where batch_id = ? and kind = 'article'
                   and state in ('pending', 'running')""",
                [batch_id],
            ).fetchone()[0]
        )

    def counts(self, batch_id: int) -> dict[str, int]:
        rows = self.db.execute(
            "select state, count(*) from queue where batch_id = ? and kind = 'article' group by state",
            [batch_id],
        ).fetchall()
        return {state: int(n) for state, n in rows}

    # -- items ----------------------------------------------------------------
    def articles(self, batch_id: int, states: Sequence[str] = ("pending",)) -> list[Item]:
        ids = self.article_ids(batch_id, states)
        return [item for i in range(0, len(ids), PAGE) for item in self.items(ids[i : i + PAGE])]

    def article_ids(
        self, batch_id: int, states: Sequence[str] = ("pending",), under: Sequence[int] = ()
    ) -> array[int]:
        """The ids of ``articles``, in the same order: 8 bytes an article, whatever the batch.
        ``under``: only the entries (at any depth) that these feeds or sitemaps queued."""
        marks = ",".join("?" * len(states))
        below = ""
        if under:
            below = f""" and id in (with recursive down(id) as (
                select id from queue where parent_id in ({",".join("?" * len(under))})
                union select q.id from queue q join down on q.parent_id = down.id)
              select id from down)"""
        rows = self.db.execute(
            f"""select id from queue where batch_id = ? and kind = 'article'
                and state in ({marks}){below} order by position, id""",
            [batch_id, *states, *under],
        )
        return array("q", (row[0] for row in rows))

    def lists_with_pending_entries(self) -> list[int]:
        """Feeds or sitemaps read late whose entries are still pending (a killed run)."""
        return [
            r[0]
            for r in self.db.execute(
                """select distinct parent_id from queue where kind = 'article'
                   and state = 'pending' and parent_id is not null"""
            )
        ]

    def items(self, ids: Sequence[int]) -> list[Item]:
        """These items, in this order (at most ``PAGE`` at once)."""
        marks = ",".join("?" * len(ids))
        rows = {
            r["id"]: r for r in self.db.query(f"select * from queue where id in ({marks})", ids)
        }
        return [Item.of(rows[i]) for i in ids if i in rows]

    def add(self, batch_id: int, kind: str, key: str, parent: int | None, payload: Any) -> int:
        """Insert-or-keep an item; returns its id."""
        return self.add_all(batch_id, kind, [(key, payload)], parent)[0]

    def add_all(
        self, batch_id: int, kind: str, items: Sequence[tuple[str, Any]], parent: int | None
    ) -> list[int]:
        """Insert-or-keep items given as (key, payload), in one transaction; their ids in order
        (an article's targets: one commit, not one each)."""
        now = utcnow()
        with self.store.atomic():
            self.db.conn.executemany(
                """insert or ignore into queue (batch_id, kind, key, parent_id, payload, state,
                   attempts, retryable, updated_at) values (?, ?, ?, ?, ?, 'pending', 0, 0, ?)""",
                [[batch_id, kind, key, parent, json.dumps(payload), now] for key, payload in items],
            )
        return [
            int(
                self.db.execute(
                    "select id from queue where batch_id = ? and kind = ? and key = ?",
                    [batch_id, kind, key],
                ).fetchone()[0]
            )
            for key, _ in items
        ]

    def item(self, batch_id: int, kind: str, key: str) -> dict[str, Any] | None:
        return sql.first(
            self.db,
            "select * from queue where batch_id = ? and kind = ? and key = ?",
            [batch_id, kind, key],
        )

    def start(self, item_id: int) -> None:
        """Mark an item running and count the attempt; starting an item that is running
        already is the same attempt (``retry`` starts a target, then its capture reports it
        started again: counted twice, the backoff grew four-fold per retry)."""
        now = utcnow()
        with self.store.atomic():
            self.db.execute(
                """update queue set attempts = attempts + (state <> 'running'),
                   state = 'running', started_at = ?, updated_at = ? where id = ?""",
                [now, now, item_id],
            )

    def finish(
        self, item_id: int, state: str, error: str | None = None, retryable: bool = False
    ) -> None:
        """Record an outcome; a retryable failure gets its next attempt time."""
        attempts = int(
            self.db.execute("select attempts from queue where id = ?", [item_id]).fetchone()[0]
        )
        next_at = (
            _later(backoff(max(attempts, 1), self.settings))
            if state == "failed" and retryable
            else None
        )
        with self.store.atomic():
            self.db.execute(
                """update queue set state = ?, last_error = ?, retryable = ?,
                   next_attempt_at = ?, updated_at = ? where id = ?""",
                [state, error, int(retryable), next_at, utcnow(), item_id],
            )

    def copy_outcome(self, source_id: int, item_ids: Sequence[int]) -> None:
        """Give ``item_ids`` the outcome (state, error, next attempt) of item ``source_id``."""
        marks = ",".join("?" * len(item_ids))
        with self.store.atomic():
            self.db.execute(
                f"""update queue set (state, last_error, retryable, next_attempt_at, updated_at)
                    = (select state, last_error, retryable, next_attempt_at, updated_at
                       from queue where id = ?)
                    where id in ({marks})""",
                [source_id, *item_ids],
            )

    def settle(self) -> int:
        """Settle failed items whose work a later run did meanwhile (the same article archived
        by another batch, the short link resolved and linked, the post captured): retrying them
        would wait for their time only to find the work done. Returns how many."""
        now = utcnow()
        settled = 0
        with self.store.atomic():
            for state, when in _SETTLED:
                settled += self.db.execute(
                    f"""update queue set state = ?, retryable = 0, next_attempt_at = null,
                        updated_at = ? where state = 'failed' and retryable = 1 and {when}""",
                    [state, now],
                ).rowcount
        return settled

    def failures(self, *, due_only: bool) -> list[Item]:
        """Failed, retryable items (due now, or all), oldest first."""
        due = " and (next_attempt_at is null or next_attempt_at <= ?)" if due_only else ""
        return [
            Item.of(r)
            for r in self.db.query(
                f"""select * from queue where state = 'failed' and retryable = 1{due}
                    order by next_attempt_at, id""",
                [utcnow()] if due_only else [],
            )
        ]

    def captured_since(self, target: Target, started_at: str) -> bool:
        """Whether the target has a final capture started at or after ``started_at``."""
        return (
            self.db.execute(
                """select 1 from captures where platform = ? and post_id = ? and started_at >= ?
                   and status in ('archived', 'unavailable') limit 1""",
                [target.platform, target.id, started_at],
            ).fetchone()
            is not None
        )

    def batches_with_entries_of(self, item_ids: Sequence[int]) -> list[int]:
        """The batches where these items (feeds or sitemaps) queued entries still pending."""
        found: set[int] = set()
        for start in range(0, len(item_ids), 500):
            part = item_ids[start : start + 500]
            found.update(
                r[0]
                for r in self.db.execute(
                    f"""select distinct batch_id from queue where kind = 'article'
                        and state = 'pending' and parent_id in ({",".join("?" * len(part))})""",
                    part,
                )
            )
        return sorted(found)

    def depth(self, item_id: int) -> int:
        """How deep a list is nested: its chain of parents (a list's entries are its
        children), from the depth its first ancestor was queued at (a sitemap of an index)."""
        row = self.db.execute(
            """with recursive up(id, parent, payload, n) as (
                 select id, parent_id, payload, 0 from queue where id = ?
                 union all select q.id, q.parent_id, q.payload, up.n + 1 from queue q
                 join up on q.id = up.parent where up.n < 100)
               select n + coalesce(json_extract(payload, '$.depth'), 0) from up
               order by n desc limit 1""",
            [item_id],
        ).fetchone()
        return int(row[0] or 0)

    def state(self, item_id: int) -> tuple[str, int | None]:
        """An item's state and parent item."""
        row = self.db.execute("select state, parent_id from queue where id = ?", [item_id])
        state, parent = row.fetchone()
        return str(state), parent

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        pk = self.db.table(table).insert(row).last_pk
        return int(pk)  # type: ignore[arg-type]


@dataclass
class Outcome:
    """One article item's outcome, for the progress display, ``--json`` and the exit code."""

    source: str
    state: str
    result: ArticleResult | None = None
    error: str | None = None
    retryable: bool = False
    bad_input: bool = False
    #: A feed or sitemap read only now: how many sources it added to the batch.
    listed: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.source, "state": self.state}
        if self.result is not None:
            data.update(self.result.__dict__)
        if self.listed is not None:
            data["listed"] = self.listed
        if self.error is not None:
            data.update(error=self.error, retryable=self.retryable)
        return data


def run_article(
    queue: Queue,
    item: Item,
    store: Store,
    ctx: FetchContext,
    run_id: int,
    refresh: bool,
    claims: Claims | None = None,
) -> Outcome:
    """Archive one article item, recording its state before and after."""
    queue.start(item.id)
    tracker = QueueTracker(queue, item.batch_id, item.id, claims)
    try:
        result = archive_article(
            item.key, store=store, ctx=ctx, run_id=run_id, refresh=refresh, tracker=tracker
        )
    except StoreError:
        raise  # the archive cannot be written (a full disk): the run stops, not just this item
    except ListedSource as found:
        return _queue_entries(queue, item, found)
    except InputError as err:
        queue.finish(item.id, "failed", str(err), False)
        return Outcome(item.key, "failed", error=str(err), bad_input=True)
    except EmbedArchiveError as err:
        queue.finish(item.id, "failed", str(err), err.retryable)
        return Outcome(item.key, "failed", error=str(err), retryable=err.retryable)
    queue.finish(item.id, "done")
    return Outcome(item.key, "done", result=result)


def _queue_entries(queue: Queue, item: Item, found: ListedSource) -> Outcome:
    """A feed or sitemap read only now: its entries join the batch after it, as its
    children (so nesting is counted: lists listing lists stop at ``MAX_SITEMAP_DEPTH``)."""
    try:
        entries = found.entries()
        depth = queue.depth(item.id)
        # As when the batch is made: an index at the limit lists lists, one past it anything.
        if entries and (
            depth > MAX_SITEMAP_DEPTH or (depth == MAX_SITEMAP_DEPTH and found.is_index)
        ):
            raise InputError(f"{item.key}: lists nested deeper than {MAX_SITEMAP_DEPTH}")
    except InputError as err:
        queue.finish(item.id, "failed", str(err), False)
        return Outcome(item.key, "failed", error=str(err), bad_input=True)
    queue.add_all(item.batch_id, "article", [(entry, {}) for entry in entries], item.id)
    queue.finish(item.id, "done")
    return Outcome(item.key, "done", listed=len(entries))


def run_batch(
    queue: Queue,
    batch_id: int,
    store: Store,
    ctx: FetchContext,
    run_id: int,
    on_outcome: Callable[[Outcome], None],
    jobs: int = 1,
    collect: Callable[[Outcome], None] | None = None,
    under: Sequence[int] = (),
) -> list[Outcome]:
    """Archive every pending article of the batch (after a kill: the rest of it), or only the
    entries feeds or sitemaps ``under`` queued, ``jobs`` at a time; with one job in order on
    this thread, else on workers with this thread as the one writer (``workers.py``).

    ``on_outcome`` gets each outcome as it comes (completion order). The outcomes are returned
    in batch order, or, with ``collect``, handed to it in batch order a page at a time and not
    kept: then a batch of any size holds one page of items, futures and outcomes in memory.
    """
    refresh = bool(json.loads(queue.batch(batch_id)["spec"] or "{}").get("refresh"))
    queue.requeue_running(batch_id)
    ids = queue.article_ids(batch_id, under=under)
    outcomes: list[Outcome] = []
    claims = Claims()

    def concurrently(items: Sequence[Item]) -> list[Outcome]:
        writer = Writer()
        shared_queue: Any = Serialized(queue, writer)
        shared_store: Any = Serialized(store, writer)
        crew = Crew(jobs)
        shared_ctx = replace(ctx, share=crew.map)  # an article's targets go to idle threads too
        done = run_concurrently(
            jobs,
            lambda item: run_article(
                shared_queue, item, shared_store, shared_ctx, run_id, refresh, claims
            ),
            items,
            writer,
            on_outcome,
            crew,
        )
        order = {item.key: i for i, item in enumerate(items)}
        return sorted(done, key=lambda o: order.get(o.source, len(order)))

    while ids:  # again for what a feed or sitemap read only now added
        for start in range(0, len(ids), PAGE):
            items = queue.items(ids[start : start + PAGE])
            if jobs > 1:
                page = concurrently(items)
            else:
                page = []
                for item in items:
                    page.append(run_article(queue, item, store, ctx, run_id, refresh))
                    on_outcome(page[-1])
            if collect is None:
                outcomes += page
                continue
            for outcome in page:
                collect(outcome)
        ids = queue.article_ids(batch_id, under=under)
    queue.finish_batch(batch_id)
    return outcomes


__all__ = [
    "Item",
    "Outcome",
    "Queue",
    "backoff",
    "run_article",
    "run_batch",
]
