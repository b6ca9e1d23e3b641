"""Re-checks over time: capture archived posts again and record what changed between captures.

A re-check is an ordinary capture, added beside the earlier ones (captures are append-only).
:func:`record_changes` then compares consecutive *observations* of the post — captures where
the platform answered with the post or said it is gone; a failed fetch observes nothing and
web-archive snapshots are history, not the live post — and appends to ``post_changes``:

* ``unavailable`` — it answered before, now it says the post is gone;
* ``available-again`` — it was gone, now it answers again;
* ``text-edited`` — the text differs from the previous observation that had text: by the same
  method any change but spacing (a link swapped, an emoji); by another, which writes links
  and emoji its own way, the words (normalised as in :mod:`.findings`);
* ``media-changed`` — the sha256 sets of the media differ from the previous complete capture
  by the same method (another method sees other files, so that would not be a change).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .capture.context import FetchContext
from .capture.http import utcnow
from .errors import InputError
from .findings import normalise_text, observations, record_findings
from .models import Target
from .platforms import REGISTRY, Platform, by_name
from .store import sql
from .store.records import Store

CHANGE_KINDS = ("text-edited", "media-changed", "unavailable", "available-again")
_DURATION_RE = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[smhdw]?)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "": 86400}
_DURATION_MAX = timedelta(days=36525)


def parse_duration(text: str) -> timedelta:
    """``30s``, ``15m``, ``12h``, ``7d``, ``2w``; a bare number is days."""
    m = _DURATION_RE.fullmatch(text.strip().lower())
    if m is None:
        raise InputError(f"cannot read {text!r} as a duration (examples: 12h, 7d, 2w)")
    seconds = float(m["n"]) * _UNITS[m["unit"]]
    if not seconds <= _DURATION_MAX.total_seconds():  # also inf, from hundreds of digits
        raise InputError(f"{text!r} is longer than any archive is old (at most 100 years)")
    return timedelta(seconds=seconds)


def _method(capture: dict[str, Any]) -> str:
    """``syndication (quoted in 123)`` is the syndication method too."""
    return str(capture.get("method") or "").split(" (")[0]


def _media(store: Store, capture_id: int) -> list[str]:
    rows = store.db.execute("select sha256 from media where capture_id = ?", [capture_id])
    return sorted({r[0] for r in rows})


def _text_differs(before: str, after: str, *, same_method: bool) -> bool:
    """Whether a post's text changed between two captures. By the same method the platform
    writes it the same way, so any change but spacing is an edit (a link swapped, an emoji);
    another method writes links and emoji its own way, so only the words are compared."""
    if same_method:
        return " ".join(before.split()) != " ".join(after.split())
    return normalise_text(before) != normalise_text(after)


def _changes(store: Store, observed: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    previous: dict[str, Any] | None = None
    with_text: dict[str, Any] | None = None
    complete: dict[str, dict[str, Any]] = {}
    for current in observed:
        gone = current["status"] == "unavailable"
        if previous is not None and gone and previous["status"] != "unavailable":
            yield _change(previous, current, "unavailable", {"reason": current["error"]})
        if previous is not None and not gone and previous["status"] == "unavailable":
            yield _change(previous, current, "available-again", {"gone_since": previous["id"]})
        text = current["data"].get("text")
        if text is not None:
            if with_text is not None:
                before = with_text["data"]["text"]
                if _text_differs(before, text, same_method=_method(with_text) == _method(current)):
                    yield _change(
                        with_text, current, "text-edited", {"before": before, "after": text}
                    )
            with_text = current
        if current["status"] == "archived":
            method = _method(current)
            earlier = complete.get(method)
            if earlier is not None:
                old, new = _media(store, earlier["id"]), _media(store, current["id"])
                if old != new:
                    details = {
                        "method": method,
                        "added": sorted(set(new) - set(old)),
                        "removed": sorted(set(old) - set(new)),
                    }
                    yield _change(earlier, current, "media-changed", details)
            complete[method] = current
        previous = current


def _change(
    before: dict[str, Any], after: dict[str, Any], kind: str, details: dict[str, Any]
) -> dict[str, Any]:
    return {
        "from_capture_id": before["id"],
        "to_capture_id": after["id"],
        "kind": kind,
        "details": {**details, "from_at": before["finished_at"], "to_at": after["finished_at"]},
    }


def record_changes(store: Store, post_pk: int, run_id: int | None = None) -> int:
    """Append the changes between the post's observations not recorded yet; returns how many."""
    live = [o for o in observations(store, post_pk) if not o["wayback"]]
    added = 0
    for change in _changes(store, live):
        exists = store.db.execute(
            "select 1 from post_changes where from_capture_id = ? and to_capture_id = ? "
            "and kind = ?",
            [change["from_capture_id"], change["to_capture_id"], change["kind"]],
        ).fetchone()
        if exists:
            continue
        with store.atomic():
            sql.insert(
                store.db,
                "post_changes",
                {
                    **change,
                    "post_pk": post_pk,
                    "details": json.dumps(change["details"], ensure_ascii=False, sort_keys=True),
                    "detected_at": utcnow(),
                    "run_id": run_id,
                },
            )
        added += 1
    return added


def review(store: Store, post_pk: int, run_id: int | None = None) -> None:
    """After a post was captured: its changes, and the findings of every embed linked to it
    (and of the posts quoted in it, which the same capture stored)."""
    pks = [post_pk] + [
        int(r[0])
        for r in store.db.execute(
            """select distinct c.post_pk from captures c join captures parent
               on parent.id = c.parent_capture_id where parent.post_pk = ?""",
            [post_pk],
        )
    ]
    for pk in dict.fromkeys(pks):
        record_changes(store, pk, run_id)
        ids = [r[0] for r in store.db.execute("select id from detections where post_pk = ?", [pk])]
        record_findings(store, ids, run_id)


@dataclass
class RecheckItem:
    post_pk: int
    platform: str
    post_id: str
    status_before: str | None
    status: str = "failed"
    capture_id: int | None = None
    error: str | None = None
    changes: list[str] = field(default_factory=list)


def due_posts(
    store: Store, older_than: timedelta | None, platform: str | None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Posts whose latest live capture is older than ``older_than`` (all when None)."""
    rows = store.db.query(
        """select p.*, (select max(c.finished_at) from captures c where c.post_pk = p.id
                          and coalesce(c.method, '') <> 'wayback') as checked_at
           from posts p where (? is null or p.platform = ?) order by p.id""",
        [platform, platform],
    )
    if older_than is None:
        return list(rows)
    cutoff = (now or datetime.now(UTC)) - older_than
    stamp = cutoff.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [r for r in rows if not r["checked_at"] or r["checked_at"] <= stamp]


def recheck(
    store: Store,
    ctx: FetchContext,
    run_id: int,
    *,
    older_than: timedelta | None = None,
    platform: str | None = None,
    registry: tuple[Platform, ...] = REGISTRY,
) -> list[RecheckItem]:
    """Capture every due post again; each result names the changes it revealed."""
    if platform is not None and by_name(platform, registry) is None:
        known = ", ".join(p.name for p in registry)
        raise InputError(f"unknown platform {platform!r}; known: {known}")
    items = []
    for row in due_posts(store, older_than, platform):
        again = store.db.execute(
            "select 1 from captures where post_pk = ? and run_id = ?", [row["id"], run_id]
        ).fetchone()
        if again:  # captured in this run already, inside a post that quotes it
            continue
        item = RecheckItem(int(row["id"]), row["platform"], row["post_id"], row["status"])
        items.append(item)
        fetcher = by_name(row["platform"], registry)
        if fetcher is None:
            item.error = f"no platform {row['platform']!r} in this version"
            continue
        before = store.db.execute(
            "select coalesce(max(id), 0) from post_changes where post_pk = ?", [item.post_pk]
        ).fetchone()[0]
        capture = fetcher.fetch(
            Target(row["platform"], row["post_id"], row["url"], fetcher.kind), ctx
        )
        store.save_capture(capture, run_id)
        item.status, item.error = capture.status, capture.error
        item.capture_id = store.db.execute(
            "select max(id) from captures where post_pk = ? and parent_capture_id is null",
            [item.post_pk],
        ).fetchone()[0]
        review(store, item.post_pk, run_id)
        item.changes = [
            r["kind"]
            for r in store.db.query(
                "select kind from post_changes where post_pk = ? and id > ? order by id",
                [item.post_pk, before],
            )
        ]
    return items


__all__ = [
    "CHANGE_KINDS",
    "RecheckItem",
    "due_posts",
    "parse_duration",
    "record_changes",
    "recheck",
    "review",
]
