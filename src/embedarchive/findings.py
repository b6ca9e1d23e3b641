"""As shown vs as captured: each embed's own rendering compared with the captured post.

An article's copy of a post (author, handle, date, text) is evidence of what readers saw; a
capture is evidence of what the platform serves. A finding states how the two relate:

* ``match`` — nothing below differs;
* ``edited`` — the texts differ after normalisation (:func:`normalise_text`);
* ``deleted`` — the platform says the post is gone (deleted, suspended, protected…);
* ``author-mismatch`` — the handle (case-insensitive) or the display name differs;
* ``date-mismatch`` — the article's date cannot be the post's creation date in any time zone.

Findings are computed once per (embed, capture, :data:`RULE`) and appended to the
``findings`` table (append-only): a new capture gets new findings, old ones stay. The
comparison is pure (:func:`compare`); only :func:`record_findings` touches the archive.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from difflib import SequenceMatcher
from typing import Any

from .capture.http import utcnow
from .store import sql
from .store.queries import without_superseded_snapshots
from .store.records import Store

#: Version of the comparison rules; findings are recomputed when it changes.
RULE = "findings-3"
KINDS = ("match", "edited", "deleted", "author-mismatch", "date-mismatch")

#: Links are not compared: articles show ``pic.twitter.com/x``, t.co or truncated display
#: forms of the links the platform stores expanded (or the reverse).
_LINK_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b(?:pic\.(?:twitter|x)\.com|t\.co)/\S+"
    r"|\b(?:[a-z0-9-]+\.)+[a-z]{2,}/\S*"
    # A link to a site's home page is shown as its bare domain ("example.org").
    r"|(?<![\w@.])(?:[a-z0-9-]+\.)+(?:com|org|net|gov|edu|int|mil|io|co|info|news|[a-z]{2})"
    r"(?![\w.@/-])",
    re.IGNORECASE,
)
#: A keycap emoji (1️⃣, #️⃣) is its character, a variation selector and U+20E3: all of it goes.
_KEYCAP_RE = re.compile("[0-9#*]\ufe0f?\u20e3")
#: Emoji, pictographs, variation selectors and invisible format characters: copies of a post
#: lose or gain them (emoji rendered as images, ``▪️`` vs ``▪``).
_DROP_CATEGORIES = frozenset({"So", "Sk", "Cf", "Co", "Cs", "Me"})
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    }
)


def normalise_text(text: str | None) -> str:
    """The words of a post, for comparison only (never stored as evidence).

    HTML entities decoded (the X API escapes ``&amp;``), NFKC, links removed, emoji and
    variation selectors removed, typographic quotes and dashes made plain, whitespace collapsed.
    """
    if not text:
        return ""
    out = unicodedata.normalize("NFKC", html.unescape(text))
    out = _KEYCAP_RE.sub("", out)
    out = _LINK_RE.sub(" ", out)
    out = _VARIATION_SELECTORS.sub("", out)
    out = "".join(ch for ch in out if unicodedata.category(ch) not in _DROP_CATEGORIES)
    return " ".join(out.translate(_PUNCTUATION).split())


#: Characters of each text the similarity score reads: difflib's time and memory grow with
#: the product of the lengths (a 45 MB snapshot page took 2.3 GB). Posts are far shorter; a
#: text past it is scored on its start (whether it differs is decided on the whole text).
SIMILARITY_CHARS = 5_000


def similarity(a: str | None, b: str | None) -> float:
    """difflib's ratio (2·matches / total length) of the normalised texts, 0.0–1.0."""
    na, nb = normalise_text(a)[:SIMILARITY_CHARS], normalise_text(b)[:SIMILARITY_CHARS]
    if not na or not nb:
        return 0.0
    return round(SequenceMatcher(None, na, nb, autojunk=False).ratio(), 4)


def date_window(created_at: str) -> tuple[date, date] | None:
    """The calendar dates a post created at ``created_at`` (UTC) shows anywhere on Earth.

    Local time runs from UTC−12 to UTC+14; a date-only value (oEmbed) gets a day either side.
    """
    try:
        if "T" in created_at:
            moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
            return (moment - timedelta(hours=12)).date(), (moment + timedelta(hours=14)).date()
        day = date.fromisoformat(created_at[:10])
        return day - timedelta(days=1), day + timedelta(days=1)
    except (ValueError, OverflowError):  # not a date; a client's year 1 or 9999 at the edge
        return None


def _name(value: str | None) -> str:
    return normalise_text(value).casefold()


def _handle(value: str | None) -> str:
    return (value or "").strip().lstrip("@").casefold()


def compare(shown: dict[str, Any], captured: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Findings for one embed (``author``, ``handle``, ``date``, ``text`` as the article showed
    them) against one capture (``status``, ``error`` and the post's ``uploader``,
    ``uploader_id``, ``created_at``, ``text``). Empty when the capture says nothing."""
    if captured.get("status") == "unavailable":
        return [("deleted", {"reason": captured.get("error")})]
    found: list[tuple[str, dict[str, Any]]] = []
    compared: list[str] = []
    score = None
    if shown.get("text") and captured.get("text"):
        compared.append("text")
        score = similarity(shown["text"], captured["text"])
        if normalise_text(shown["text"]) != normalise_text(captured["text"]):
            found.append(
                (
                    "edited",
                    {"similarity": score, "shown": shown["text"], "captured": captured["text"]},
                )
            )
    differs = []
    if shown.get("handle") and captured.get("uploader_id"):
        compared.append("handle")
        if _handle(shown["handle"]) != _handle(captured["uploader_id"]):
            differs.append("handle")
    if shown.get("author") and captured.get("uploader"):
        compared.append("author")
        if _name(shown["author"]) != _name(captured["uploader"]):
            differs.append("author")
    if differs:
        found.append(
            (
                "author-mismatch",
                {
                    "fields": differs,
                    "shown": {"author": shown.get("author"), "handle": shown.get("handle")},
                    "captured": {
                        "author": captured.get("uploader"),
                        "handle": captured.get("uploader_id"),
                    },
                },
            )
        )
    window = date_window(captured["created_at"]) if captured.get("created_at") else None
    if shown.get("date") and window is not None:
        compared.append("date")
        try:
            shown_day: date | None = date.fromisoformat(str(shown["date"])[:10])
        except ValueError:
            shown_day = None
        if shown_day is not None and not window[0] <= shown_day <= window[1]:
            found.append(
                (
                    "date-mismatch",
                    {
                        "shown": shown["date"],
                        "created_at": captured["created_at"],
                        "possible": [window[0].isoformat(), window[1].isoformat()],
                    },
                )
            )
    if not compared:
        return []
    if not found:
        found.append(("match", {"compared": compared, "similarity": score}))
    return found


def summary(kind: str, details: dict[str, Any]) -> str:
    """One line for tables."""
    if kind == "match":
        return "same " + ", ".join(details.get("compared") or [])
    if kind == "edited":
        return f"text differs (similarity {details.get('similarity')})"
    if kind == "deleted":
        return str(details.get("reason") or "unavailable")
    if kind == "author-mismatch":
        shown, captured = details.get("shown") or {}, details.get("captured") or {}
        return (
            f"shown {shown.get('author') or ''} @{shown.get('handle') or '?'}, "
            f"captured {captured.get('author') or ''} @{captured.get('handle') or '?'}"
        )
    if kind == "date-mismatch":
        return f"shown {details.get('shown')}, created {details.get('created_at')}"
    return json.dumps(details, ensure_ascii=False)[:120]


# -- the archive -------------------------------------------------------------------------


def observations(store: Store, post_pk: int) -> list[dict[str, Any]]:
    """Captures that say something about the post, oldest first: it answered (with data) or
    it is gone. A failed fetch says nothing. ``wayback`` marks snapshots from the web archive."""
    rows = sql.rows(
        store.db,
        """select id, status, method, data, error, started_at, finished_at from captures
           where post_pk = ? and (status = 'unavailable' or data is not null) order by id""",
        [post_pk],
    )
    out = []
    for row in rows:
        data = json.loads(row["data"]) if row["data"] else {}
        out.append({**row, "data": data, "wayback": row["method"] == "wayback"})
    return out


def _targets(observed: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The live capture to judge by, plus the latest web-archive snapshot if the post is gone:
    the latest that has the post's text, when one has (a later script shell that shows only
    the handle would otherwise "match" a copy whose words differ from the earlier snapshot's)."""
    live = [o for o in observed if not o["wayback"]]
    out: list[tuple[str, dict[str, Any]]] = []
    if live:
        out.append(("live", live[-1]))
    if not live or live[-1]["status"] == "unavailable":
        snapshots = [o for o in observed if o["wayback"] and o["data"]]
        with_text = [o for o in snapshots if o["data"].get("text")]
        if with_text or snapshots:
            out.append(("wayback", (with_text or snapshots)[-1]))
    return out


def record_findings(
    store: Store,
    detection_ids: Iterable[int] | None = None,
    run_id: int | None = None,
    article_id: int | None = None,
) -> int:
    """Compute findings of linked embeds that have a rendering; returns how many rows were added.

    ``detection_ids`` and ``article_id`` None mean every detection. Re-running adds nothing new.
    """
    where = "post_pk is not null and coalesce(text, author, handle, date) is not null"
    params: list[Any] = []
    if article_id is not None:
        where += " and article_id = ?"
        params.append(article_id)
    if detection_ids is not None:
        ids = sorted(set(detection_ids))
        if not ids:
            return 0
        where += f" and id in ({', '.join('?' * len(ids))})"
        params.extend(ids)
    detections = sql.rows(
        store.db, f"select * from detections where {where} order by post_pk, id", params
    )
    added = 0
    post_pk, observed = None, []
    for d in detections:
        if d["post_pk"] != post_pk:  # each post's captures read once, and only one held
            post_pk, observed = d["post_pk"], observations(store, d["post_pk"])
        for source, capture in _targets(observed):
            done = store.db.execute(
                "select 1 from findings where detection_id = ? and capture_id = ? and rule = ?",
                [d["id"], capture["id"], RULE],
            ).fetchone()
            if done:
                continue
            captured = {**capture["data"], "status": capture["status"], "error": capture["error"]}
            rows = [
                {
                    "detection_id": d["id"],
                    "capture_id": capture["id"],
                    "post_pk": d["post_pk"],
                    "source": source,
                    "kind": kind,
                    "details": json.dumps(details, ensure_ascii=False, sort_keys=True),
                    "rule": RULE,
                    "computed_at": utcnow(),
                    "run_id": run_id,
                }
                for kind, details in compare(d, captured)
            ]
            if rows:
                with store.atomic():
                    sql.insert_all(store.db, "findings", rows)
                added += len(rows)
    return added


def current_findings(store: Store, article_id: int | None = None) -> list[dict[str, Any]]:
    """The findings of each embed (of one article, or all) against the capture it was judged
    against last under the current rule: the live one, and a web-archive snapshot when the
    post is gone."""
    where, params = ("", []) if article_id is None else ("and d.article_id = ?", [article_id])
    rows = store.db.query(
        f"""select f.id, f.kind, f.details, f.source, f.computed_at, f.detection_id, f.capture_id,
                   f.post_pk, d.article_id, a.source as article_source, d.markup, d.offset,
                   p.platform, p.post_id, c.method, c.status as capture_status,
                   c.finished_at as captured_at
            from findings f join detections d on d.id = f.detection_id
              join articles a on a.id = d.article_id join posts p on p.id = f.post_pk
              join captures c on c.id = f.capture_id
            where f.rule = ? {where} and f.capture_id = (
              select g.capture_id from findings g where g.detection_id = f.detection_id
                and g.source = f.source and g.rule = f.rule order by g.id desc limit 1)
            order by d.article_id, d.id, f.source, f.id""",
        [RULE, *params],
    )
    return without_superseded_snapshots([{**r, "details": json.loads(r["details"])} for r in rows])


__all__ = [
    "KINDS",
    "RULE",
    "compare",
    "current_findings",
    "date_window",
    "normalise_text",
    "observations",
    "record_findings",
    "similarity",
    "summary",
]
