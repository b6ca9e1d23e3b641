"""``console.Tally``: results added one at a time, only what the batch tables show kept, and the
tables exactly those of the whole list of results (the list a batch used to keep in memory).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from rich.console import Console

from embedarchive.console import COUNTS, LISTED, SETTLED, Tally, table
from embedarchive.pipeline import ArticleResult

STATUSES = ("archived", "already archived", "failed", "unresolved", "unavailable")


def _result(n: int, rng: random.Random, embeds: int) -> ArticleResult:
    items = []
    for e in range(embeds):
        status = rng.choices(STATUSES, weights=(80, 10, 4, 3, 3))[0]
        items.append({"platform": "twitter", "url": f"https://x.com/a/status/{n}{e}", "status": status})  # fmt: skip
    return ArticleResult(
        f"article-{n}.html",
        n,
        True,
        found=embeds,
        archived=sum(i["status"] == "archived" for i in items),
        already=sum(i["status"] == "already archived" for i in items),
        unavailable=sum(i["status"] == "unavailable" for i in items),
        unresolved=sum(i["status"] == "unresolved" for i in items),
        failed=sum(i["status"] == "failed" for i in items),
        items=items,
    )


def _whole_list_tables(results: list[Any]) -> tuple[Any, Any]:
    """The tables as drawn from the whole list (the implementation before ``Tally``)."""
    shown = [r for r in results if len(results) <= LISTED or r.failed or r.unresolved]
    rows: list[list[Any]] = [[r.source, *(getattr(r, c) for c in COUNTS)] for r in shown]
    if len(shown) < len(results):
        rows.append([f"all {len(results)} articles", *(sum(getattr(r, c) for r in results) for c in COUNTS)])  # fmt: skip
    items = [(r, i) for r in results for i in r.items]
    if len(items) > LISTED:
        items = [(r, i) for r, i in items if i.get("status") not in SETTLED]
    hidden = sum(len(r.items) for r in results) - len(items)
    listed = [[r.source[-40:], i["url"], i["status"]] for r, i in items]
    return rows, (listed, hidden)


def _text(renderable: object) -> str:
    console = Console(record=True, width=300)
    console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize("seed", range(12))
def test_tally_draws_the_tables_of_the_whole_list(seed: int) -> None:
    rng = random.Random(seed)
    articles = rng.choice([3, LISTED - 1, LISTED, LISTED + 1, 200])
    embeds_per = rng.choice([0, 0.2, 1, 3])
    results = [
        _result(n, rng, int(embeds_per) + (rng.random() < embeds_per % 1)) for n in range(articles)
    ]
    tally = Tally()
    for result in results:
        tally.add(result)

    rows, (listed, hidden) = _whole_list_tables(results)
    expected = table("Summary", ["article", *COUNTS], rows)
    assert _text(tally.summary_table()) == _text(expected)
    drawn = _text(tally.items_table())
    for source, url, status in listed:
        assert f"{url} " in drawn and status in drawn and source in drawn
    assert drawn.count("https://x.com/") == len(listed)
    assert (f"{hidden} archived embeds not listed" in drawn) == bool(hidden)
    assert {r.source for r in results if r.failed or r.unresolved} <= {r.source for r in tally.kept}
    if tally.articles > LISTED and tally.embeds > LISTED:  # past both limits: only what matters
        assert all(_needs_attention(r) for r in tally.kept)


def _needs_attention(r: ArticleResult) -> bool:
    return bool(r.failed or r.unresolved or any(i["status"] not in SETTLED for i in r.items))


def test_a_long_settled_batch_keeps_nothing() -> None:
    rng = random.Random(1)
    tally = Tally()
    for n in range(5_000):
        result = _result(n, rng, 1)
        result.items[0]["status"] = "archived"
        result.failed = result.unresolved = result.unavailable = result.already = 0
        result.archived = 1
        tally.add(result)
    assert tally.kept == [] and tally.articles == 5_000 and tally.totals["archived"] == 5_000
    assert "4999" not in _text(tally.summary_table())
    assert "5000 archived embeds not listed" in _text(tally.items_table())
