"""Search: full text (FTS5) with filters and facets, bounded so it stays fast at any size.

The total is always exact. Results are ranked by relevance (bm25) unless the query matches
more than ``RANK_LIMIT`` rows, where ranking them all would be slow; they are then shown newest
first and the page says so. Facet counts are exact up to ``FACET_SAMPLE`` matches; beyond that
they count the newest ``FACET_SAMPLE`` matches, and the page says that too. Matched words are
highlighted in Python on the few rows shown (FTS5's ``snippet()`` would re-run the query for
every row), escaping the text piece by piece around each ``<mark>``.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from markupsafe import Markup, escape

from ..display import isolation
from ..platforms import REGISTRY, match_url
from ..store import sql
from .queries import card_media, rows

PAGE_SIZE = 20
RANK_LIMIT = 10_000
FACET_SAMPLE = 5_000
FACET_SIZE = 8
STATUSES = ("archived", "unavailable", "failed", "changed", "pending", "unresolved")
#: ``what``: the posts, or the embeds that never reached one (the two kinds of result).
KINDS = {"posts": "s.post_pk is not null", "embeds": "s.post_pk is null"}
#: Characters of a post's text, and of the titles of the articles it is in, in a result.
EXCERPT, TITLES = 600, 300
_WORD_RE = re.compile(r"\w+", re.UNICODE)
#: Turkish and Azerbaijani write a dotted and a dotless i. FTS5's unicode61 folds "I" and "İ"
#: to "i" but keeps "ı", so the index holds "IŞIK", "Işık" and "ışık" as "isik", "isık" and
#: "ısık": a query word is asked for in every spelling of its i's (on its first few).
_I_LIKE = frozenset("iıIİ")
_I_VARIED = 4
#: What a post id alone can look like (X's digits, Instagram's and YouTube's codes): with a
#: digit, so that a long word is never looked up as one.
#: A word that may be a post id alone: digits (X, Mastodon, Telegram's message), a code with
#: a digit in it (Instagram, a Bluesky rkey), or eleven characters (a YouTube video id).
_POST_ID = re.compile(r"[0-9]{5,25}|(?=[A-Za-z_-]*[0-9])[A-Za-z0-9_-]{8,40}|[A-Za-z0-9_-]{11}")


@dataclass(frozen=True)
class Filters:
    q: str = ""
    platform: str = ""
    handle: str = ""
    status: str = ""
    captured: str = ""
    article: int | None = None
    what: str = ""
    sort: str = "relevance"
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        def text(name: str) -> str:
            # One spelling of each accented letter (a pasted word may come decomposed).
            return unicodedata.normalize("NFC", (args.get(name) or "").strip()[:200])

        article = sql.row_id(text("article"))
        page = sql.row_id(text("page"))
        captured = text("captured")
        try:
            if date.fromisoformat(captured) == date.max:  # no day after it to search up to
                captured = ""
        except ValueError:
            captured = ""
        return cls(
            q=text("q"),
            platform=text("platform"),
            handle=text("handle").lstrip("@"),
            status=text("status") if text("status") in STATUSES else "",
            captured=captured,
            article=article,
            what=text("what") if text("what") in KINDS else "",
            sort="newest" if text("sort") == "newest" else "relevance",
            page=min(max(page, 1), 10_000) if page is not None else 1,
        )

    def link(self, **changes: Any) -> dict[str, Any]:
        """Query parameters for this search with some filters changed (page back to 1)."""
        new = replace(self, page=1, **changes)
        return {k: v for k, v in new.__dict__.items() if v not in ("", None, 1, "relevance")}


def fts_query(text: str) -> str:
    """The user's words as an FTS5 query: every word must match, as a word prefix, in any
    spelling of its i's."""
    terms = []
    for word in _WORD_RE.findall(text)[:12]:
        spellings = _i_spellings(word)
        phrases = " OR ".join(f'"{w}"*' for w in spellings)
        terms.append(f"({phrases})" if len(spellings) > 1 else phrases)
    return " AND ".join(terms)  # FTS5 takes no implicit AND beside a bracketed group


def _i_spellings(word: str) -> list[str]:
    """``word`` with each of its first ``_I_VARIED`` i's (in either case) written "i" and "ı",
    the two the index may hold; the rest is folded by the tokenizer itself."""
    spellings = [""]
    varied = 0
    for c in word:
        if c in _I_LIKE and varied < _I_VARIED:
            varied += 1
            spellings = [s + i for s in spellings for i in ("i", "ı")]
        else:
            spellings = [s + c for s in spellings]
    return spellings


def _where(f: Filters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if f.what:
        clauses.append(KINDS[f.what])
    if f.platform:
        clauses.append("s.platform = ?")
        params.append(f.platform)
    if f.handle:
        clauses.append("s.handle = ? collate nocase")
        params.append(f.handle)
    if f.status == "changed":
        clauses.append("s.changed")
    elif f.status:
        clauses.append("s.status = ?")
        params.append(f.status)
    if f.captured:
        day = date.fromisoformat(f.captured)
        clauses.append("s.captured_at >= ? and s.captured_at < ?")
        params += [day.isoformat(), (day + timedelta(days=1)).isoformat()]
    if f.article is not None:
        clauses.append(
            "s.id in (select post_pk from detections where article_id = ? and post_pk is not null"
            " union all select -id from detections where article_id = ? and post_pk is null)"
        )
        params += [f.article, f.article]
    return " and ".join(clauses) or "1", params


def named_post(q: str) -> tuple[str | None, str] | None:
    """The post a query names by its address rather than its words: a post URL (pasted from
    the platform or the article), ``platform:id``, or a word that may be a post id alone
    (platform None). None for anything else."""
    word = q.strip()
    if not word or any(c.isspace() for c in word):
        return None
    platform, colon, post_id = word.partition(":")
    if colon and platform in {p.name for p in REGISTRY} and post_id:
        return platform, post_id  # before URLs: telegram:durov/68 has a slash too
    if "/" in word:
        target = match_url(word)
        return (target.platform, target.id) if target else None
    return (None, word) if _POST_ID.fullmatch(word) else None


def _named_clause(named: tuple[str | None, str]) -> tuple[str, list[Any]]:
    """The post with that id (on that platform), and the embeds naming it that never reached
    a post. Ids stored as ``place/id`` (Mastodon's instance, Telegram's channel, Bluesky's
    DID) are also found by their last part alone, and a Bluesky address with the author's
    handle (``handle/rkey``, as the browser shows it) finds the post stored under the DID."""
    platform, post_id = named
    on = "platform = ? and " if platform else ""
    given = [platform] if platform else []
    actor, slash, last = post_id.rpartition("/")
    ends = "substr(post_id, -length(?) - 1) = '/' || ?"
    if slash:  # handle/rkey: the same last part, by the same author
        by_post = f"post_id = ? or ({ends} and uploader_id = ? collate nocase)"
        by_post_params = [post_id, last, last, actor]
    else:
        by_post, by_post_params = f"post_id = ? or {ends}", [post_id, post_id, post_id]
    clause = (
        f"(s.post_pk in (select id from posts where {on}({by_post}))"
        " or s.detection_id in (select id from detections where post_pk is null"
        f" and {on}(post_id = ? or resolved_post_id = ?)))"
    )
    return clause, [*given, *by_post_params, *given, post_id, post_id]


def search(conn: sqlite3.Connection, f: Filters) -> dict[str, Any]:
    where, params = _where(f)
    named = named_post(f.q)
    if named is not None and named[0] is None:
        # A word that may be an id: by its address when a post has that id, else by its words.
        clause, extra = _named_clause(named)
        hits = conn.execute(f"select 1 from search_items s where {clause} limit 1", extra)
        named = named if hits.fetchone() else None
    if named is not None:
        clause, extra = _named_clause(named)
        where, params = f"{where} and {clause}", [*params, *extra]
    match = "" if named is not None else fts_query(f.q)
    if match:
        # CROSS JOIN keeps the FTS index as the outer loop: run the other way round, SQLite
        # would evaluate the MATCH once per filtered row (seconds on a big archive).
        source = (
            "from search_fts cross join search_items s on s.id = search_fts.rowid "
            f"where search_fts match ? and {where}"
        )
        params = [match, *params]
        newest = "search_fts.rowid desc"
    else:
        source, newest = f"from search_items s where {where}", "s.id desc"
    total = conn.execute(f"select count(*) {source}", params).fetchone()[0]
    ranked = bool(match) and f.sort == "relevance" and total <= RANK_LIMIT
    order = "bm25(search_fts)" if ranked else newest
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    if f.page > max(pages, 1):  # an old link, a hand-edited one: the last page, not "4 of 3"
        f = replace(f, page=max(pages, 1))
    offset = (f.page - 1) * PAGE_SIZE
    ids = [
        r[0]
        for r in conn.execute(
            f"select s.id {source} order by {order} limit {PAGE_SIZE} offset {offset}", params
        )
    ]
    return {
        "filters": f,
        "fts": match,
        "total": total,
        "ranked": ranked,
        "rank_limited": bool(match) and f.sort == "relevance" and not ranked,
        "sampled": total > FACET_SAMPLE,
        "facets": facets(conn, source, newest, params),
        "results": results(conn, ids, "" if named else f.q),
        "named": ":".join(p for p in named if p) if named else None,
        "pages": pages,
    }


def facets(conn: sqlite3.Connection, source: str, newest: str, params: list[Any]) -> dict:
    """Counts by platform, status, author, capture day and article over (a sample of) the hits."""
    hits = f"""with hits as materialized (select s.id, s.post_pk, s.detection_id, s.platform,
        s.status, s.changed, s.author, s.handle, substr(s.captured_at, 1, 10) as day
        {source} order by {newest} limit {FACET_SAMPLE})"""
    top = f"order by n desc, value limit {FACET_SIZE}"
    found = rows(
        conn,
        f"""{hits}
        select 'platform' as facet, platform as value, null as label, count(*) as n
          from hits group by platform
        union all select 'status', status, null, count(*) from hits group by status
        union all select 'status', 'changed', null, count(*) from hits where changed
          having count(*) > 0
        union all select * from (select 'handle', handle as value, max(author), count(*) as n
          from hits where handle is not null group by handle collate nocase {top})
        union all select * from (select 'captured', day, null, count(*) from hits
          where day is not null group by day order by day desc limit {FACET_SIZE})
        union all select * from (select 'article', a.id as value, a.title, count(*) as n from (
            select d.article_id, h.id from hits h join detections d on d.post_pk = h.post_pk
            union select d.article_id, h.id from hits h join detections d on d.id = h.detection_id
          ) x join articles a on a.id = x.article_id group by a.id {top})""",
        params,
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for r in found:
        out.setdefault(r["facet"], []).append(r)
    for name in ("platform", "status"):
        out.get(name, []).sort(key=lambda r: -r["n"])
    return out


def results(conn: sqlite3.Connection, ids: list[int], q: str) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    found = rows(
        conn,
        f"""select s.*, f.text, f.article_titles, f.renderings, p.url, p.post_id,
                   d.resolution_error, d.url as embed_url, d.article_id
            from search_items s join search_fts f on f.rowid = s.id
            left join posts p on p.id = s.post_pk
            left join detections d on d.id = s.detection_id
            where s.id in ({marks})""",
        ids,
    )
    by_id = {r["id"]: r for r in found}
    media = card_media(conn, (r["post_pk"] for r in found))
    words = [_fold(w) for w in _WORD_RE.findall(q)]
    out = []
    for row_id in ids:
        r = by_id[row_id]
        r["media"] = media.get(r["post_pk"], [])
        r["text_html"] = highlight(excerpt(r["text"] or "", words, EXCERPT), words)
        r["context_html"] = highlight(_context(r, words), words, limit=240)
        titles = r["article_titles"] or ""  # a viral post is in thousands of articles
        if len(titles) > TITLES:
            r["article_titles"] = titles[:TITLES].rsplit(" | ", 1)[0] + " | … (more on its page)"
        out.append(r)
    return out


def _fold(text: str) -> str:
    """Lower case without diacritics, as the unicode61 tokenizer with remove_diacritics sees it,
    and one i for the dotted and the dotless (see ``fts_query``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ı", "i"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _context(r: dict[str, Any], words: list[str]) -> str:
    """What the article showed, when the words matched there rather than in the post's text."""

    def matched(text: str | None) -> set[str]:
        tokens = {_fold(t) for t in _WORD_RE.findall(text or "")}
        return {w for w in words if any(t.startswith(w) for t in tokens)}

    if not words or matched(r["text"]) == set(words):
        return ""
    return r["renderings"] or "" if matched(r["renderings"]) else ""


def _starts_any(word: str, prefixes: list[str]) -> bool:
    folded = _fold(word)
    return any(folded.startswith(p) for p in prefixes)


def excerpt(text: str, words: list[str], limit: int) -> str:
    """At most about ``limit`` characters of ``text``, from a little before the first of the
    ``words`` it holds (a post of megabytes is one result among many, not a page of its own)."""
    if len(text) <= limit:
        return text
    # The words as written first (one pass in C); else words spelt otherwise (diacritics, the
    # dotless i) in a bounded look at the start.
    literal = (
        re.compile(r"\b(?:{})".format("|".join(map(re.escape, words))), re.I) if words else None
    )
    found = literal.search(text) if literal else None
    scanned = _WORD_RE.finditer(text, 0, 100 * limit)
    first = (
        found.start()
        if found
        else next((m.start() for m in scanned if _starts_any(m.group(), words)), 0)
    )
    start = max(0, first - limit // 4)
    if start:
        start = text.find(" ", start, first) + 1 or start
    end = start + limit
    part = text[start:end].rsplit(" ", 1)[0] if end < len(text) else text[start:]
    return ("… " if start else "") + part + (" …" if end < len(text) else "")


def highlight(text: str, words: list[str], limit: int | None = None) -> Markup:
    """Escaped ``text`` with words starting with any of ``words`` in ``<mark>``."""
    if limit is not None and len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    before, after = isolation(text)
    out = [escape(before)]
    last = 0
    for m in _WORD_RE.finditer(text) if words else ():
        if _starts_any(m.group(), words):
            out.append(escape(text[last : m.start()]))
            out.append(Markup("<mark>{}</mark>").format(m.group()))
            last = m.end()
    out.append(escape(text[last:]))
    out.append(escape(after))
    return Markup("").join(out)
