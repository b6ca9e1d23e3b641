"""Recovering what is gone or unlinked, from the Wayback Machine.

Two cases, both X/Twitter (the platform whose ids say when a post was made):

* **A post that is unavailable now.** The CDX API is asked for snapshots of its status URLs
  (``twitter.com`` and ``x.com``) and of the syndication API answer it is often archived as
  (``cdn.syndication.twimg.com/tweet-result?id=<id>*``); the earliest and the latest snapshot
  with HTTP 200 become captures (:mod:`.wayback`). The post stays ``unavailable``: a snapshot
  is history, not the live post.
* **An embed with no surviving link** (the article shows handle, date and text only). Tweet
  ids are snowflakes: ``(ms since 2010-11-04T01:42:54.657Z) << 22``, so the date shown — a
  local date, so one day either side — bounds the id. Status URLs of the handle archived
  under ``twitter.com/<handle>/status/`` and ``x.com/…`` (CDX prefix queries) inside that range
  are the candidates. Each is fetched through the normal X fetch methods (syndication first;
  not yt-dlp, which would download videos of posts that are not the one) and scored by
  :func:`.findings.similarity`. Exactly one candidate of the same handle at or above
  ``recover_min_similarity`` is taken; it is then captured like any post and the embed's
  resolution becomes ``recovered``. None, or more than one, and it stays ``unresolved``.

Every look-up appends a ``recoveries`` row: the queries, every candidate with its score, the
choice and the captures made. Its HTTP exchanges are kept with the embed or the capture.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .capture.context import FetchContext
from .capture.http import Recorder, utcnow
from .errors import EmbedArchiveError
from .findings import similarity
from .models import Resolution, Target
from .platforms import by_name
from .platforms.twitter import METHODS, STATUS_RE, canonical_status_url
from .recheck import review
from .store.records import Store
from .wayback import SNOWFLAKE_EPOCH_MS, Snapshot, capture_snapshot, cdx, names_post, snowflake_iso

_MAX_LISTED = 200


@dataclass
class Recovery:
    """The outcome of one look-up, for the command's table and ``--json``."""

    kind: str
    outcome: str
    detection_id: int | None = None
    post_pk: int | None = None
    post_id: str | None = None
    score: float | None = None
    candidates: int = 0
    capture_ids: list[int] = field(default_factory=list)
    note: str = ""
    retryable: bool = False


def id_range(day: date) -> tuple[int, int]:
    """Lowest and highest X id created from the day before ``day`` to the day after (UTC)."""
    day = min(max(day, date(1, 1, 2)), date(9999, 12, 29))  # an article's "9999": no X ids
    start = datetime.combine(day - timedelta(days=1), time(), UTC)
    end = datetime.combine(day + timedelta(days=2), time(), UTC)

    def ms(moment: datetime) -> int:
        return int(moment.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS

    return ms(start) << 22, (ms(end) << 22) - 1


def _save_recovery(store: Store, run_id: int, row: dict[str, Any]) -> None:
    for key in ("query", "candidates", "capture_ids"):
        row[key] = json.dumps(row.get(key), ensure_ascii=False, sort_keys=True)
    with store.atomic():
        store.db.table("recoveries").insert({"run_id": run_id, **row, "finished_at": utcnow()})


def _cdx_urls(recorder: Recorder) -> tuple[str, ...]:
    return tuple(e.url for e in recorder.exchanges() if e.purpose == "wayback:cdx")


# -- an embed without a link ------------------------------------------------------------


def _probe(target: Target, ctx: FetchContext, recorder: Recorder) -> dict[str, Any]:
    """The candidate's text and author through the X methods in order, yt-dlp left out."""
    tried: list[tuple[str, bool]] = []
    for name in ctx.settings.twitter_methods:
        if name == "ytdlp":
            continue
        try:
            post = METHODS[name](target, ctx, recorder).post
        except EmbedArchiveError as err:
            tried.append((f"{name}: {err}", err.retryable))
            continue
        return {
            "method": name,
            "uploader": post.uploader,
            "uploader_id": post.uploader_id,
            "created_at": post.created_at,
            "text": post.text,
        }
    return {
        "method": None,
        "error": "; ".join(t for t, _ in tried) or "no fetch method",
        "retryable": any(r for _, r in tried),
    }


def _decide(
    candidates: list[dict[str, Any]], threshold: float, left_out: int
) -> tuple[str, dict[str, Any] | None, str]:
    """(outcome, the candidate taken or None, why). Exactly one post of the embed's handle at
    or above the threshold is taken; anything less certain is no answer."""
    same = [c for c in candidates if c["same_handle"]]
    eligible = [c for c in same if c["score"] >= threshold]
    unfetched = [c for c in candidates if c.get("retryable")]
    more = f"; {left_out} more candidate(s) not fetched" if left_out else ""
    if unfetched:
        return "failed", None, f"{len(unfetched)} candidate(s) could not be fetched, try again"
    if len(eligible) == 1:
        return "recovered", eligible[0], ""
    if eligible:
        return "ambiguous", None, f"{len(eligible)} posts reach {threshold}; none is taken{more}"
    if not candidates:
        return "no-candidates", None, "no archived status URL of the handle in the id range"
    best = max(same, key=lambda c: c["score"], default=None)
    shown = f"best similarity {best['score']} (post {best['id']})" if best else "no post"
    return "below-threshold", None, f"{shown} of the handle < {threshold}{more}"


def find_unlinked(store: Store, ctx: FetchContext, run_id: int, d: dict[str, Any]) -> Recovery:
    """Snowflake search for one textified X embed (``handle``, ``date`` and ``text`` needed)."""
    started, recorder = utcnow(), Recorder()
    handle = str(d["handle"]).lstrip("@")
    lo, hi = id_range(date.fromisoformat(str(d["date"])[:10]))
    threshold = ctx.settings.recover_min_similarity
    result = Recovery("snowflake", "failed", detection_id=int(d["id"]))
    query: dict[str, Any] = {
        "handle": handle,
        "date": d["date"],
        "id_range": [str(lo), str(hi)],
        "created_between": [snowflake_iso(str(lo)), snowflake_iso(str(hi))],
    }
    row: dict[str, Any] = {
        "kind": "snowflake",
        "detection_id": d["id"],
        "method": "snowflake id range + Wayback CDX prefix query + X fetch methods",
        "threshold": threshold,
        "started_at": started,
    }
    candidates: list[dict[str, Any]] = []
    try:
        found: dict[str, str] = {}
        for host in ("twitter.com", "x.com"):
            for snap in cdx(ctx, recorder, f"{host}/{handle}/status/", prefix=True):
                m = STATUS_RE.search(snap.original)
                if m is not None and lo <= int(m["id"]) <= hi:
                    found.setdefault(m["id"], snap.original)
        ids = sorted(found, key=int)
        query["found"] = len(ids)
        for post_id in ids[: ctx.settings.recover_max_candidates]:
            target = Target("twitter", post_id, canonical_status_url(post_id, handle))
            seen = _probe(target, ctx, recorder)
            seen["score"] = similarity(d["text"], seen.get("text"))
            seen["same_handle"] = str(seen.get("uploader_id") or "").lower() == handle.lower()
            candidates.append({"id": post_id, "archived_url": found[post_id], **seen})
    except EmbedArchiveError as err:
        result.note, result.retryable = str(err), err.retryable
    query["cdx"] = list(_cdx_urls(recorder))
    result.candidates = len(candidates)
    result.score = max((c["score"] for c in candidates if c["same_handle"]), default=None)
    if not result.note:  # else the look-up itself failed: outcome "failed", retry later
        left_out = max(0, query.get("found", 0) - len(candidates))
        result.outcome, chosen, result.note = _decide(candidates, threshold, left_out)
        result.retryable = result.outcome == "failed"
        if chosen is not None:
            return _take(store, ctx, run_id, d, chosen, recorder, result, row, query, candidates)
    store.save_resolution(
        int(d["id"]),
        Resolution("unresolved", hops=_cdx_urls(recorder), error=f"recover: {result.note}"),
        run_id,
        recorder.exchanges(),
        utcnow(),
    )
    _save_recovery(
        store,
        run_id,
        {
            **row,
            "outcome": result.outcome,
            "query": query,
            "candidates": candidates,
            "score": result.score,
            "error": result.note,
        },
    )
    return result


def _take(
    store: Store,
    ctx: FetchContext,
    run_id: int,
    d: dict[str, Any],
    chosen: dict[str, Any],
    recorder: Recorder,
    result: Recovery,
    row: dict[str, Any],
    query: dict[str, Any],
    candidates: list[dict[str, Any]],
) -> Recovery:
    twitter = by_name("twitter")
    assert twitter is not None
    target = Target("twitter", chosen["id"], canonical_status_url(chosen["id"], d["handle"]))
    capture = twitter.fetch(target, ctx)
    post_pk = store.save_capture(capture, run_id)
    hops = (*_cdx_urls(recorder), chosen["archived_url"])
    store.save_resolution(
        int(d["id"]), Resolution("recovered", target, hops), run_id, recorder.exchanges(), utcnow()
    )
    store.link_detection(int(d["id"]), post_pk)
    capture_id = store.db.execute(
        "select max(id) from captures where post_pk = ? and parent_capture_id is null", [post_pk]
    ).fetchone()[0]
    result.outcome, result.post_pk, result.post_id = "recovered", post_pk, chosen["id"]
    result.score, result.capture_ids = chosen["score"], [capture_id]
    result.note = f"capture {capture.status} via {capture.method or '—'}"
    _save_recovery(
        store,
        run_id,
        {
            **row,
            "outcome": "recovered",
            "post_pk": post_pk,
            "query": query,
            "candidates": candidates,
            "chosen_post_id": chosen["id"],
            "score": chosen["score"],
            "capture_ids": [capture_id],
        },
    )
    review(store, post_pk, run_id)
    return result


# -- a post that is gone ----------------------------------------------------------------


def _lookups(store: Store, post: dict[str, Any]) -> list[str]:
    post_id = post["post_id"]
    handles = {str(post["uploader_id"]).lower()} if post["uploader_id"] else set()
    handles |= {
        str(r["handle"]).lstrip("@").lower()
        for r in store.db.query(
            "select handle from detections where post_pk = ? and handle is not null", [post["id"]]
        )
    }
    m = STATUS_RE.search(post["url"] or "")
    if m is not None and m["handle"]:
        handles.add(m["handle"].lower())
    handles = handles or {"i/web"}
    return [
        *(
            f"{host}/{h}/status/{post_id}"
            for h in sorted(handles)
            for host in ("twitter.com", "x.com")
        ),
        f"cdn.syndication.twimg.com/tweet-result?id={post_id}*",
    ]


def recover_post(store: Store, ctx: FetchContext, run_id: int, post: dict[str, Any]) -> Recovery:
    """The earliest and latest Wayback snapshots of a post that is gone, as captures."""
    started, recorder = utcnow(), Recorder()
    result = Recovery("wayback", "failed", post_pk=int(post["id"]), post_id=post["post_id"])
    urls = _lookups(store, post)
    snapshots: dict[tuple[str, str], Snapshot] = {}
    try:
        for url in urls:
            for snap in cdx(ctx, recorder, url):
                if snap.statuscode == "200" and names_post(snap, post["post_id"]):
                    snapshots.setdefault((snap.timestamp, snap.original), snap)
    except EmbedArchiveError as err:
        result.note, result.retryable = str(err), err.retryable
    ordered = sorted(snapshots.values(), key=lambda s: (s.timestamp, s.original))
    result.candidates = len(ordered)
    chosen = ordered[:1] + ordered[-1:] if len(ordered) > 1 else ordered
    if result.note:
        chosen = []
    elif not chosen:
        result.outcome, result.note = "no-snapshots", "the Wayback Machine has no snapshot"
    target = Target("twitter", post["post_id"], post["url"])
    made, statuses = _captured_before(store, int(post["id"]))
    failed: list[tuple[str, bool]] = []
    for i, snap in enumerate(chosen):
        if (snap.timestamp, snap.original) in made:  # an earlier look-up has it: not again
            continue
        capture = capture_snapshot(snap, target, ctx, recorder if i == 0 else Recorder())
        status_before = store.db.table("posts").get(post["id"])["status"]
        store.save_capture(capture, run_id)
        with store.atomic():  # a snapshot is history: the live post is still gone
            store.db.table("posts").update(post["id"], {"status": status_before})
        capture_id = store.db.execute(
            "select max(id) from captures where post_pk = ?", [post["id"]]
        ).fetchone()[0]
        result.capture_ids.append(capture_id)
        if capture.status == "failed":
            failed.append((capture.error or "", capture.retryable))
        else:
            made[(snap.timestamp, snap.original)] = capture_id
            statuses[capture_id] = capture.status
    kept = [made[k] for s in chosen if (k := (s.timestamp, s.original)) in made]
    if chosen and not result.note:
        _settle(result, chosen, kept, statuses, failed)
    _save_recovery(
        store,
        run_id,
        {
            "kind": "wayback",
            "post_pk": post["id"],
            "outcome": result.outcome,
            "method": "Wayback CDX: earliest and latest snapshot, raw replay (id_)",
            "query": {"cdx": list(_cdx_urls(recorder)), "urls": urls},
            "candidates": [
                {**s.to_json(), "capture_id": made.get((s.timestamp, s.original))}
                for s in ordered[:_MAX_LISTED]
            ],
            "chosen_post_id": post["post_id"] if chosen else None,
            "capture_ids": result.capture_ids,
            "error": None if result.outcome == "recovered" else result.note,
            "started_at": started,
        },
    )
    review(store, int(post["id"]), run_id)
    return result


def _captured_before(
    store: Store, post_pk: int
) -> tuple[dict[tuple[str, str], int], dict[int, str]]:
    """The snapshots earlier look-ups of the post captured (not failed), (timestamp, original)
    → capture id, and each capture's status: a later look-up takes only what is missing."""
    made: dict[tuple[str, str], int] = {}
    for (listed,) in store.db.execute(
        "select candidates from recoveries where post_pk = ? and kind = 'wayback'", [post_pk]
    ):
        for c in json.loads(listed or "[]"):
            if isinstance(c, dict) and isinstance(c.get("capture_id"), int):
                made[(str(c.get("timestamp")), str(c.get("original")))] = c["capture_id"]
    statuses = {
        int(i): str(status)
        for i, status in store.db.execute(
            f"select id, status from captures where id in ({','.join('?' * len(made))})",
            list(made.values()),
        )
    }
    return {k: v for k, v in made.items() if statuses.get(v, "failed") != "failed"}, statuses


def _settle(
    result: Recovery,
    chosen: list[Snapshot],
    kept: list[int],
    statuses: dict[int, str],
    failed: list[tuple[str, bool]],
) -> None:
    """The look-up's outcome: ``recovered`` when every chosen snapshot is captured and one
    shows the post; ``partial`` while one failed in a way that may pass later (the next
    look-up fetches only that one); ``no-post`` when the snapshots show the post gone (a
    tombstone: the next look-up may find a snapshot from before); else ``failed``."""
    shows = any(statuses.get(i) == "archived" for i in kept)
    retry = [why for why, retryable in failed if retryable]
    if shows and not retry:
        result.outcome, result.note = "recovered", ", ".join(s.captured_at for s in chosen)
    elif shows:
        result.outcome, result.note, result.retryable = "partial", retry[0], True
    elif kept and not failed:
        result.outcome = "no-post"
        result.note = "every snapshot shows the post gone (a tombstone or an empty answer)"
    elif failed:
        result.note, result.retryable = failed[-1][0], bool(retry)


# -- the command ------------------------------------------------------------------------


def recover(
    store: Store, ctx: FetchContext, run_id: int, article_id: int | None = None
) -> list[Recovery]:
    """Every unlinked textified X embed and every X post that is gone and not yet recovered
    (of one article, or of the whole archive)."""
    params = [article_id, article_id]
    embeds = store.db.query(
        """select * from detections where platform = 'twitter' and post_pk is null
             and resolution = 'unresolved' and handle is not null and text is not null
             and date(date) is not null and (? is null or article_id = ?) order by id""",
        params,
    )
    results = [find_unlinked(store, ctx, run_id, d) for d in list(embeds)]
    posts = store.db.query(
        """select * from posts p where platform = 'twitter' and status = 'unavailable'
             and not exists (select 1 from recoveries r where r.post_pk = p.id
                             and r.kind = 'wayback' and r.outcome = 'recovered')
             and (? is null or id in (select post_pk from detections where article_id = ?))
           order by id""",
        params,
    )
    results += [recover_post(store, ctx, run_id, p) for p in list(posts)]
    return results


__all__ = ["Recovery", "find_unlinked", "id_range", "recover", "recover_post"]
