"""The batch tables (console.py): short batches list everything; long ones what needs attention
and a total, so a newsroom-sized batch ends with a readable summary in little time."""

from __future__ import annotations

import re

from rich.console import Console

from embedarchive.console import LISTED, items_table, summary_table
from embedarchive.pipeline import ArticleResult


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
