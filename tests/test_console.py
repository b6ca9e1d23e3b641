"""The batch tables (console.py): short batches list everything; long ones what needs attention
and a total, so a newsroom-sized batch ends with a readable summary in little time."""

from __future__ import annotations

import json
import re

from rich.console import Console

from embedarchive.console import (
    BAR_FROM,
    LISTED,
    BatchProgress,
    RichProgress,
    findings_table,
    items_table,
    recheck_table,
    retried_table,
    summary_table,
    tail,
)
from embedarchive.pipeline import ArticleResult
from embedarchive.recheck import RecheckItem
from embedarchive.retry import Retried


def _result(n: int, *, failed: bool = False) -> ArticleResult:
    status = "failed" if failed else "already archived"
    item = {"platform": "twitter", "url": f"https://x.com/a/status/{n}", "status": status}
    if failed:
        item["error"] = "HTTP 500 from syndication"
    return ArticleResult(
        f"article-{n}.html",
        n,
        False,
        found=1,
        already=0 if failed else 1,
        failed=int(failed),
        items=[item],
    )


def _text(renderable: object) -> str:
    console = Console(record=True, width=200)
    console.print(renderable)
    return console.export_text()


def test_a_short_batch_lists_every_article_and_embed() -> None:
    results = [_result(n) for n in range(3)]
    summary, items = _text(summary_table(results)), _text(items_table(results))
    assert all(f"article-{n}.html" in summary for n in range(3))
    assert all(f"/status/{n}" in items for n in range(3))
    assert "not listed" not in items and "all 3 articles" not in summary


def test_a_long_batch_lists_what_needs_attention_and_the_totals() -> None:
    results = [_result(n, failed=n in (7, 90)) for n in range(LISTED + 50)]
    summary, items = _text(summary_table(results)), _text(items_table(results))
    assert "article-7.html" in summary and "article-90.html" in summary
    assert "article-8.html" not in summary
    totals = next(line for line in summary.splitlines() if f"all {LISTED + 50} articles" in line)
    cells = [cell.strip() for cell in totals.split("│")[2:8]]
    assert cells == [str(LISTED + 50), "0", str(LISTED + 48), "0", "0", "2"]
    assert re.search(r"/status/7\b", items) and re.search(r"/status/90\b", items)
    assert not re.search(r"/status/8\b", items)
    assert f"{LISTED + 48} archived embeds not listed" in items


def _finding(n: int, kind: str) -> dict[str, object]:
    return {
        "article_id": n, "article_source": f"article-{n}.html", "detection_id": n,
        "markup": "blockquote", "platform": "twitter", "post_id": str(1000 + n),
        "capture_id": n, "method": "syndication", "capture_status": "archived",
        "captured_at": "2026-01-02T03:04:05.000Z", "kind": kind,
        "details": {"similarity": 0.5} if kind == "edited" else {},
    }  # fmt: skip


def test_check_lists_every_finding_of_a_short_list_and_only_the_others_of_a_long_one() -> None:
    short = _text(findings_table([_finding(n, "match") for n in range(3)]))
    assert all(f"article-{n}.html" in short for n in range(3)) and "not listed" not in short
    many = [_finding(n, "edited" if n == 33 else "match") for n in range(LISTED + 10)]
    long = _text(findings_table(many))
    assert f"{LISTED + 10} finding(s)" in long and "article-33.html" in long
    assert "article-32.html" not in long
    assert f"{LISTED + 9} matches not listed (--json lists every finding)" in long


def test_a_long_recheck_lists_only_the_posts_that_changed_or_failed() -> None:
    items = [
        RecheckItem(n, "twitter", str(n), "archived", "archived", n) for n in range(LISTED + 5)
    ]
    items[7].changes = ["text-edited"]
    items[9] = RecheckItem(9, "twitter", "9", "archived", "failed", None, "HTTP 500")
    shown = _text(recheck_table(items))
    assert "twitter:7 " in shown and "twitter:9 " in shown and "twitter:8 " not in shown
    assert f"{LISTED + 3} unchanged posts not listed (--json lists every one)" in shown


def test_a_long_retry_lists_only_what_failed_again() -> None:
    items = [Retried("target", f"twitter:{n}", "done") for n in range(LISTED + 2)]
    items[4] = Retried("target", "twitter:4", "failed", "HTTP 503")
    shown = _text(retried_table(items))
    assert "twitter:4 " in shown and "HTTP 503" in shown and "twitter:5 " not in shown
    assert f"{LISTED + 1} items done not listed" in shown


def test_a_long_source_keeps_its_end_and_says_it_was_cut() -> None:
    assert tail("desk/a.html", 40) == "desk/a.html"
    cut = tail("/home/desk/2026/november/ukraine/embassy-strike-follow-up.html", 40)
    assert cut == "…r/ukraine/embassy-strike-follow-up.html" and len(cut) == 40


def test_small_downloads_get_no_bar_but_count_on_the_batch_line() -> None:
    with BatchProgress(Console(record=True, width=200), total=1) as progress:
        small = progress.start("photo.jpg", 4000)
        assert small is None
        progress.advance(small, 4000)
        progress.finish(small)
        big = progress.start("video.mp4", BAR_FROM)
        unknown = progress.start("stream", None)
        assert len(progress.progress.tasks) == 3  # the batch's bar, the video's, the stream's
        progress.advance(big, 1000)
        progress.finish(big)
        progress.finish(unknown)
        assert len(progress.progress.tasks) == 1
        assert progress.bytes == 5000
        assert "5.0 kB" in progress.progress.tasks[0].fields["detail"]


def test_one_download_shows_a_bar_only_when_it_is_big() -> None:
    with RichProgress(Console(record=True, width=200)) as progress:
        assert progress.start("photo.jpg", BAR_FROM - 1) is None
        progress.advance(None, 10)
        progress.finish(None)
        handle = progress.start("video.mp4", BAR_FROM)
        assert handle is not None and len(progress.progress.tasks) == 1
        progress.finish(handle)
        assert progress.progress.tasks == []


def test_json_is_written_as_it_is_made_and_reads_back_as_the_data() -> None:
    """print_json streams (a whole archive's listing as one string through rich took ten times
    its size in memory) and writes what json_text makes: C1 controls escaped too."""
    import io

    from embedarchive.console import json_text, print_json

    data = [{"text": "a\x9b[31mb\x1b", "n": 1, "none": None, "word": "ő"}] * 3
    written = io.StringIO()
    print_json(Console(file=written), data)
    assert written.getvalue() == json_text(data, indent=2) + "\n"
    assert "\x9b" not in written.getvalue() and json.loads(written.getvalue()) == data


def test_bidirectional_overrides_are_shown_not_applied() -> None:
    """An author name ending in U+202E printed raw: a terminal that lays out right-to-left
    text turned the handle and the verdict after it around."""
    from embedarchive.console import printable

    assert (
        printable("Evil\u202eNAME\u202c Corp")
        == "Evil\u27e8U+202E\u27e9NAME\u27e8U+202C\u27e9 Corp"
    )
    assert printable("a\u2067b\u2069") == "a\u27e8U+2067\u27e9b\u27e8U+2069\u27e9"
    assert printable("\u200fעברית") == "\u200fעברית"  # a right-to-left mark stays
