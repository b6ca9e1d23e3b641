"""Everything drawn on the terminal with rich; commands stay thin and output-agnostic."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from rich.console import Console
from rich.filesize import decimal
from rich.markup import escape
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

#: C0 controls but tab and newline, DEL, and C1 controls: what a terminal may act on. Rich drops
#: a few (bell, backspace, carriage return) but passes ESC, which starts every escape sequence
#: (clear the screen, retitle the window, write the clipboard, fake a link). And lone
#: surrogates (a file name that is not UTF-8), which no terminal encoding can write.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_C1 = re.compile(r"[\x7f-\x9f]")
#: The width of output to a file or a pipe (logs, CI, grep), where rich would take 80 and fold
#: every long URL and path into a cell of several lines.
PIPE_WIDTH = 200


def output(*, highlight: bool = True) -> Console:
    """The console a command writes its result to: as wide as the terminal, or ``PIPE_WIDTH``
    when the output is not a terminal (``COLUMNS`` still decides when it is set)."""
    console = Console(highlight=highlight)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def printable(value: object) -> str:
    """Text from an article or a platform as the terminal may show it: each control character
    as its visible symbol (``␛`` for ESC), so it is seen as evidence and never acted on; a
    bidirectional embedding, override or isolate as its code point (``⟨U+202E⟩``), which a
    terminal that lays out right-to-left text would otherwise apply to the handle and the
    verdict after it (left-to-right and right-to-left marks, common in such text, stay)."""
    return _CONTROLS.sub(_symbol, str(value))


def tail(source: str, width: int) -> str:
    """The end of a long source (a path or URL ends with what tells it apart), marked as cut."""
    return source if len(source) <= width else "…" + source[-(width - 1) :]


def _symbol(m: re.Match[str]) -> str:
    code = ord(m.group())
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return f"\u27e8U+{code:04X}\u27e9"
    return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else "\ufffd"


T = TypeVar("T")

STATUS_STYLE = {
    "archived": "green",
    "unavailable": "yellow",
    "failed": "red",
    "unresolved": "magenta",
    "pending": "dim",
}


#: A download announced smaller than this gets no bar of its own: it is over before the bar
#: could be read, and adding a bar redraws the whole display (a photo each, in a batch).
BAR_FROM = 1024 * 1024


class RichProgress:
    """A ProgressSink that shows one bar per running download (and hides when done); small
    downloads (``BAR_FROM``) have none, their handle is None."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
            transient=True,
        )

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start(self, label: str, total: int | None) -> object:
        if total is not None and total < BAR_FROM:
            return None
        return self.progress.add_task(escape(printable(label)), total=total)

    def advance(self, handle: object, size: int) -> None:
        if handle is not None:
            self.progress.advance(handle, size)  # type: ignore[arg-type]

    def finish(self, handle: object) -> None:
        if handle is not None:
            self.progress.remove_task(handle)  # type: ignore[arg-type]

    def article(self, source: str) -> object:
        return self.progress.add_task(
            f"[bold]article[/] {escape(printable(tail(source, 60)))}", total=None
        )


class BatchProgress(RichProgress):
    """One display for a batch: a bar of articles done/total with embeds, bytes, rate and ETA,
    above the bars of the downloads running now (a ProgressSink like ``RichProgress``)."""

    def __init__(self, console: Console, total: int) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.embeds = 0
        self.bytes = 0
        self.batch = self.progress.add_task("[bold]articles[/]", total=total, detail="")
        self._refresh()

    def __enter__(self) -> BatchProgress:
        self.progress.start()
        return self

    def already_done(self, count: int) -> None:
        """Articles a resumed batch finished before this run."""
        self.progress.update(self.batch, completed=count)  # type: ignore[arg-type]

    def _refresh(self) -> None:
        task = self.progress.tasks[self.batch]
        rate = f"{task.speed * 60:.1f}/min" if task.speed else "—/min"
        detail = f"{self.embeds} embeds · {decimal(self.bytes)} · {rate}"
        self.progress.update(self.batch, detail=detail)  # type: ignore[arg-type]

    def start(self, label: str, total: int | None) -> object:
        if total is not None and total < BAR_FROM:
            return None  # its bytes still count on the batch's line
        return self.progress.add_task(escape(printable(label)), total=total, detail="")

    def advance(self, handle: object, size: int) -> None:
        self.bytes += size
        super().advance(handle, size)
        self._refresh()

    def article(self, source: str) -> object:
        return self.progress.add_task(
            f"[bold]article[/] {escape(printable(tail(source, 60)))}", total=None, detail=""
        )

    def article_done(self, embeds: int, listed: int = 0) -> None:
        """One article done; ``listed``: sources a feed or sitemap read only now added."""
        self.embeds += embeds
        if listed:
            task = self.progress.tasks[self.batch]
            self.progress.update(self.batch, total=(task.total or 0) + listed)  # type: ignore[arg-type]
        self.progress.advance(self.batch, 1)  # type: ignore[arg-type]
        self._refresh()


def json_text(data: Any, indent: int | None = None) -> str:
    """JSON that is safe on a terminal and decodes to ``data``: json writes C0 controls as
    ``\\u`` escapes, and C1 ones (``\\x9b`` starts an escape sequence too) are escaped here."""
    return _escape_c1(json.dumps(data, ensure_ascii=False, indent=indent, default=str))


def _escape_c1(text: str) -> str:
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(console: Console, data: Any) -> None:
    """``json_text(data, indent=2)`` written as it is made: a whole archive's listing is tens
    of megabytes, which as one string through rich took ten times that in memory. Not rich's
    print_json either, which decodes the text and writes C1 controls raw again."""
    out = console.file
    encoder = json.JSONEncoder(ensure_ascii=False, indent=2, default=str)
    for chunk in encoder.iterencode(data):
        out.write(_escape_c1(chunk))
    out.write("\n")
    out.flush()


def styled(status: str | None) -> Text:
    status = status or ""
    base = status.split()[-1] if status else ""
    return Text(status, style=STATUS_STYLE.get(base, "white"))


def table(title: str | Text, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    if not isinstance(title, Text):  # it names sources and URLs: plain text, never markup
        title = Text(printable(title), style="table.title")
    t = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        t.add_column(column, overflow="fold")
    for row in rows:
        t.add_row(
            *[v if isinstance(v, Text) else Text(printable("" if v is None else v)) for v in row]
        )
    return t


#: A batch's tables list every row up to this many; beyond it only what needs attention and a
#: total (a 10,000-embed table helps no one and takes seconds to draw). --json has every row.
LISTED = 50
SETTLED = ("archived", "already archived", "already unavailable", "unavailable")
COUNTS = ("found", "archived", "already", "unavailable", "unresolved", "failed")


class Tally:
    """A batch's article results as the end-of-batch tables need them, added one at a time.

    A result is kept while the tables would list every row (at most ``LISTED`` articles, or
    embeds), and after that only if it needs attention; the rest only count. Memory is thus
    bounded by what the tables show, not by the size of the batch.
    """

    def __init__(self) -> None:
        self.articles = 0
        self.embeds = 0
        self.totals = dict.fromkeys(COUNTS, 0)
        self.kept: list[Any] = []

    @classmethod
    def of(cls, results: Iterable[Any]) -> Tally:
        tally = cls()
        for result in results:
            tally.add(result)
        return tally

    def add(self, result: Any) -> None:
        crossed = self.articles == LISTED or self.embeds <= LISTED < self.embeds + len(result.items)
        self.articles += 1
        self.embeds += len(result.items)
        for column in COUNTS:
            self.totals[column] += getattr(result, column)
        if crossed:  # past a limit: what was kept only to be listed is dropped, once
            self.kept = [r for r in self.kept if self._needed(r)]
        if self._needed(result):
            self.kept.append(result)

    def _needed(self, r: Any) -> bool:
        if self.articles <= LISTED or r.failed or r.unresolved:
            return True
        if self.embeds <= LISTED:
            return bool(r.items)
        return any(item.get("status") not in SETTLED for item in r.items)

    def summary_table(self) -> Table:
        shown = [r for r in self.kept if self.articles <= LISTED or r.failed or r.unresolved]
        rows: list[list[Any]] = [
            [r.source, *(getattr(r, c) for c in COUNTS[:-1]), _failed(r.failed)] for r in shown
        ]
        if len(shown) < self.articles:
            totals = [self.totals[c] for c in COUNTS]
            label = Text(f"all {self.articles} articles", style="bold")
            rows.append([label, *totals[:-1], _failed(totals[-1])])
        return table("Summary", ["article", *COUNTS], rows)

    def items_table(self) -> Table:
        items = [(r, item) for r in self.kept for item in r.items]
        if self.embeds > LISTED:
            items = [(r, item) for r, item in items if item.get("status") not in SETTLED]
        t = table(
            "Embeds",
            ["article", "platform", "post", "status", "note"],
            (
                [
                    tail(r.source, 40),
                    item["platform"],
                    item.get("url") or f"@{item.get('handle')}",
                    styled(item.get("status")),
                    (item.get("error") or "")[:120],
                ]
                for r, item in items
            ),
        )
        if hidden := self.embeds - len(items):
            t.caption = f"{hidden} archived embeds not listed (--json lists every one)"
        return t


def summary_table(results: Sequence[Any]) -> Table:
    return Tally.of(results).summary_table()


def items_table(results: Sequence[Any]) -> Table:
    return Tally.of(results).items_table()


def _failed(count: int) -> Text:
    return Text(str(count), style="red" if count else "")


def post_panel(post: dict[str, Any]) -> Panel:
    def shown(value: str) -> str:
        return escape(printable(value))

    lines = [
        f"[bold]{shown(post.get('uploader') or '?')}[/] @{shown(post.get('uploader_id') or '?')}",
        f"{shown(post.get('created_at') or '')}  {shown(post.get('url') or '')}",
        "",
        shown(post.get("text") or "(no text captured)"),
    ]
    return Panel(
        "\n".join(lines),
        title=f"{shown(post['platform'])} {shown(post['post_id'])} — {shown(post.get('status') or '')}",
        title_align="left",
    )


FINDING_STYLE = {
    "match": "green",
    "edited": "yellow",
    "author-mismatch": "yellow",
    "date-mismatch": "yellow",
    "deleted": "red",
    "text-edited": "yellow",
    "media-changed": "yellow",
    "unavailable": "red",
    "available-again": "green",
    "recovered": "green",
    "below-threshold": "magenta",
    "ambiguous": "magenta",
    "no-candidates": "magenta",
    "no-snapshots": "magenta",
    "no-post": "magenta",
    "partial": "yellow",
    "failed": "red",
}


def _kind(kind: str) -> Text:
    return Text(kind, style=FINDING_STYLE.get(kind, "white"))


def _listed(rows: Sequence[T], needs_a_look: Callable[[T], bool]) -> Sequence[T]:
    """Every row of a short list; past ``LISTED`` rows, only those that need a look (the
    table's caption counts the others; --json has every row)."""
    return rows if len(rows) <= LISTED else [r for r in rows if needs_a_look(r)]


def findings_table(rows: Sequence[dict[str, Any]]) -> Table:
    """``embedarchive check``: each embed as shown vs as captured; past ``LISTED`` rows, only
    the findings that need a look (matches are counted in the caption)."""
    from .findings import summary

    total = len(rows)
    rows = _listed(rows, lambda r: r["kind"] != "match")
    t = table(
        f"{total} finding(s): as the article showed it vs as captured",
        ["article", "embed", "post", "capture", "finding", "details"],
        (
            [
                f"{r['article_id']} {tail(r['article_source'], 40)}",
                f"{r['detection_id']} ({r['markup']})",
                f"{r['platform']}:{r['post_id']}",
                f"{r['capture_id']} {r['method'] or r['capture_status']} {r['captured_at'][:19]}",
                _kind(r["kind"]),
                summary(r["kind"], r["details"])[:160],
            ]
            for r in rows
        ),
    )
    if hidden := total - len(rows):
        t.caption = f"{hidden} matches not listed (--json lists every finding)"
    return t


def history_table(history: Sequence[dict[str, Any]]) -> Table:
    """``embedarchive show``: every capture of the post and what changed at it."""

    def changes(entry: dict[str, Any]) -> Text:
        out = Text()
        for change in entry["changes"]:
            out.append(("; " if out else "") + change["kind"], FINDING_STYLE[change["kind"]])
        return out or Text(printable(entry.get("snapshot") or ""))

    return table(
        "History",
        ["capture", "time", "status", "method", "media", "changes", "text"],
        (
            [
                h["capture_id"],
                h["at"],
                styled(h["status"]),
                h["method"] or "—",
                len(h["media"]),
                changes(h),
                (h["text"] or h["error"] or "")[:80],
            ]
            for h in history
        ),
    )


def recheck_table(items: Sequence[Any]) -> Table:
    """``embedarchive recheck``; past ``LISTED`` posts, only those that changed or failed."""
    total = len(items)
    items = _listed(items, lambda i: bool(i.changes or i.error or i.status != i.status_before))
    t = table(
        f"Re-checked {total} post(s)",
        ["post", "before", "now", "capture", "changes", "note"],
        (
            [
                f"{i.platform}:{i.post_id}",
                styled(i.status_before),
                styled(i.status),
                i.capture_id,
                Text(", ".join(i.changes) or "no change"),
                (i.error or "")[:120],
            ]
            for i in items
        ),
    )
    if hidden := total - len(items):
        t.caption = f"{hidden} unchanged posts not listed (--json lists every one)"
    return t


def retried_table(items: Sequence[Any]) -> Table:
    """``embedarchive retry``; past ``LISTED`` items, only those that failed again."""
    total = len(items)
    items = _listed(items, lambda i: i.state == "failed")
    t = table(
        f"Retried {total} item(s)",
        ["kind", "key", "state", "error"],
        ([i.kind, i.key, styled(i.state), (i.error or "")[:120]] for i in items),
    )
    if hidden := total - len(items):
        t.caption = f"{hidden} items done not listed (--json lists every one)"
    return t


def recovery_table(results: Sequence[Any]) -> Table:
    return table(
        f"{len(results)} recovery look-up(s) in the Wayback Machine",
        ["kind", "embed", "post", "outcome", "score", "candidates", "captures", "note"],
        (
            [
                r.kind,
                r.detection_id,
                r.post_id,
                _kind(r.outcome),
                r.score,
                r.candidates,
                " ".join(str(c) for c in r.capture_ids),
                r.note[:120],
            ]
            for r in results
        ),
    )


def finding_line(finding: dict[str, Any]) -> Text:
    """One finding under an embed in ``embedarchive show``."""
    from .findings import summary

    line = Text(f"finding vs capture {finding['capture_id']} ({finding['source']}): ")
    line.append(finding["kind"], FINDING_STYLE.get(finding["kind"], "white"))
    return line.append(" — " + printable(summary(finding["kind"], finding["details"])))
