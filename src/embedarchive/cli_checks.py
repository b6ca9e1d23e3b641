"""``check``, ``recheck`` and ``recover``: what the embeds showed against what was captured,
captured again, or found in the Wayback Machine. Registered on the group in ``cli.py``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from .cli import _open_existing, _settings, common_options, friendly_errors, json_option
from .console import (
    RichProgress,
    findings_table,
    output,
    print_json,
    recheck_table,
    recovery_table,
)
from .store.records import require_archive


@click.command()
@click.argument("article", required=False)
@common_options
@json_option
@friendly_errors
def check(
    article: str | None, archive_dir: Path | None, config_file: Path | None, as_json: bool
) -> None:
    """Compare each embed as ARTICLE (row id or source; default: all) showed it with the post
    as captured: match, edited, deleted, author-mismatch, date-mismatch."""
    from .findings import current_findings, record_findings
    from .store.lock import writer_lock
    from .store.queries import find_article

    settings = _settings(archive_dir, config_file).settings
    require_archive(settings.db_path)  # before the lock, which would make the folder
    with writer_lock(settings.archive_dir):
        store = _open_existing(settings)
        try:
            article_id = int(find_article(store, article)["id"]) if article else None
            record_findings(store, article_id=article_id)  # one article's: what it holds
            rows = current_findings(store, article_id)
            scope = "" if article_id is None else f" and article_id = {article_id}"
            (linked,) = store.db.execute(
                f"select count(*) from detections where post_pk is not null{scope}"
            ).fetchone()
        finally:
            store.close()
    if as_json:
        print_json(Console(), rows)
    elif rows:
        output().print(findings_table(rows))
    elif linked:
        output().print(
            f"No findings: the {linked} embed(s) with a capture showed nothing to compare "
            "(a frame or a link, without the post's words, author or date)."
        )
    else:
        output().print("No findings: no embed of these articles has a capture to compare with.")


@click.command()
@click.option(
    "--older-than",
    help="Only posts whose latest capture is older than this (30m, 12h, 7d, 2w). Default: all.",
)
@click.option("--platform", help="Only posts of this platform.")
@common_options
@json_option
@friendly_errors
def recheck(
    older_than: str | None,
    platform: str | None,
    archive_dir: Path | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Capture archived posts again (new captures; nothing is overwritten) and record what
    changed: text edited, media changed, now unavailable, available again."""
    from .recheck import parse_duration
    from .recheck import recheck as run_recheck

    age = parse_duration(older_than) if older_than else None
    items = _with_fetching(
        "recheck",
        archive_dir,
        config_file,
        lambda store, ctx, run_id: run_recheck(
            store, ctx, run_id, older_than=age, platform=platform
        ),
    )
    if as_json:
        print_json(Console(), [i.__dict__ for i in items])
    elif items:
        output().print(recheck_table(items))
    else:
        output().print("Nothing to re-check: no archived post matches.")
    if any(i.status == "failed" for i in items):
        sys.exit(1)


@click.command()
@click.argument("article", required=False)
@common_options
@json_option
@friendly_errors
def recover(
    article: str | None, archive_dir: Path | None, config_file: Path | None, as_json: bool
) -> None:
    """Look up in the Wayback Machine the X posts that are gone (earliest and latest snapshot
    become captures) and the textified X embeds of ARTICLE (default: all) whose link is gone
    (snowflake id range + text similarity)."""
    from .recover import recover as run_recover
    from .store.queries import find_article

    def work(store: Any, ctx: Any, run_id: int) -> Any:
        article_id = int(find_article(store, article)["id"]) if article else None
        return run_recover(store, ctx, run_id, article_id)

    results = _with_fetching("recover", archive_dir, config_file, work)
    if as_json:
        print_json(Console(), [r.__dict__ for r in results])
    elif results:
        output().print(recovery_table(results))
    else:
        output().print("Nothing to recover: no X post or copied X embed is known to be gone.")
    if any(r.outcome in ("failed", "partial") for r in results):
        sys.exit(1)


def _with_fetching(
    command: str, archive_dir: Path | None, config_file: Path | None, work: Callable[..., Any]
) -> Any:
    """Run ``work(store, ctx, run_id)`` on the existing archive, as a recorded run."""
    from .capture.context import FetchContext
    from .session import fetching_run

    loaded = _settings(archive_dir, config_file)
    with (
        fetching_run(loaded, command, create=False) as (store, files, http, run_id),
        RichProgress(Console(stderr=True)) as progress,
    ):
        ctx = FetchContext(settings=loaded.settings, http=http, files=files, progress=progress)
        return work(store, ctx, run_id)


__all__ = ["check", "recheck", "recover"]
